// `realserver check --from-director` (src/realserver/arp-check.ts): parsing iputils arping
// output, the judging rules (header of arp-check.ts), the choice of source address, and the
// command run, with a scripted CommandRunner (no network).
import t from 'tap';
import type { Vip } from '../../src/config/types.js';
import type { IfaceAddress } from '../../src/adapters/ip-json.js';
import type { CommandResult, CommandRunner } from '../../src/ports/index.js';
import { arpingArgv, checkFromDirector, judgeArpReplies, pickSource } from '../../src/realserver/arp-check.js';
import { parseArpingReplies, type ArpReply } from '../../src/adapters/arp-detect.js';

const VIP = '198.51.100.100';
const VIP4: Vip = { address: VIP, prefix: 32, family: 4 };
const DIR0 = '02:00:00:00:00:10';
const DIR1 = '02:00:00:00:00:11';
const RS0 = '02:00:00:00:00:20';
const RS1 = '02:00:00:00:00:21';

// The shape printed by iputils arping 20221126 (a client asking while a real server leaked).
const LEAK_OUTPUT = [
  `ARPING ${VIP} from 198.51.100.1 eth0`,
  `Unicast reply from ${VIP} [02:00:00:00:00:20]  0.539ms`,
  `Unicast reply from ${VIP} [02:00:00:00:00:10]  0.553ms`,
  `Unicast reply from ${VIP} [02:00:00:00:00:10]  0.601ms`,
  'Sent 2 probes (1 broadcast(s))',
  'Received 3 response(s)',
  '',
].join('\n');

const replies = (...macs: string[]): ArpReply[] => macs.map((mac) => ({ ip: VIP, mac }));

t.test('parseArpingReplies', async (t) => {
  t.same(parseArpingReplies(LEAK_OUTPUT), replies(RS0, DIR0, DIR0));
  t.same(parseArpingReplies(`Broadcast reply from ${VIP} [02:00:00:00:00:AB]  1.0ms\n`), replies('02:00:00:00:00:ab'), 'lower-cased');
  t.same(parseArpingReplies(`ARPING ${VIP} from 198.51.100.10 eth0\nSent 2 probes (2 broadcast(s))\nReceived 0 response(s)\n`), []);
  t.same(parseArpingReplies('Unicast reply from 198.51.100.100 [02:00:00]  1ms'), [], 'a truncated MAC is not a reply');
});

t.test('judge: this director holds the VIP, so every reply is someone else', async (t) => {
  const base = { vip: VIP, held: true, ownMac: DIR0, directorMacs: [] };
  t.same(judgeArpReplies({ ...base, replies: [] }), { macs: [], problems: [] }, 'silence is safe');
  const leak = judgeArpReplies({ ...base, replies: replies(RS0, RS0, RS1) });
  t.same(leak.macs, [{ mac: RS0, replies: 2, kind: 'other' }, { mac: RS1, replies: 1, kind: 'other' }]);
  t.equal(leak.problems.length, 2);
  t.match(leak.problems[0], /02:00:00:00:00:20 answers ARP for 198\.51\.100\.100, which this director holds/);
  const split = judgeArpReplies({ ...base, directorMacs: [DIR1.toUpperCase()], replies: replies(DIR1) });
  t.match(split.problems, [/split brain/]);
});

t.test('judge: a standby expects exactly one answer', async (t) => {
  const base = { vip: VIP, held: false, ownMac: DIR1, directorMacs: [] };
  t.same(judgeArpReplies({ ...base, replies: replies(DIR0, DIR0) }).problems, [], 'one MAC: fine');
  t.match(judgeArpReplies({ ...base, replies: [] }).problems, [/nobody answered/]);
  t.match(judgeArpReplies({ ...base, replies: replies(DIR0, RS0) }).problems, [/2 hosts answer ARP/]);
  const known = { ...base, directorMacs: [DIR0, DIR1] };
  t.same(judgeArpReplies({ ...known, replies: replies(DIR0) }).problems, [], 'the active director, known');
  t.match(judgeArpReplies({ ...known, replies: replies(RS0) }).problems, [/02:00:00:00:00:20 answers .* but is not a director/]);
  t.same(judgeArpReplies({ ...base, replies: [{ ip: '198.51.100.7', mac: RS0 }, ...replies(DIR0)] }).macs.map((m) => m.mac), [DIR0],
    'a reply about another address is ignored');
});

t.test('pickSource never picks the VIP (a real server drops a request from its own address)', async (t) => {
  const a = (local: string, secondary = false): IfaceAddress => ({ local, prefixlen: 24, family: 4, secondary, dadfailed: false });
  t.equal(pickSource([a(VIP), a('198.51.100.10')], VIP4), '198.51.100.10');
  t.equal(pickSource([a('198.51.100.11', true), a('198.51.100.10')], VIP4), '198.51.100.10', 'primary before secondary');
  t.equal(pickSource([a(VIP)], VIP4), null);
  t.same(arpingArgv('arping', 'eth0', '198.51.100.10', VIP), ['arping', '-w', '2', '-s', '198.51.100.10', '-I', 'eth0', VIP]);
});

class ScriptedRunner implements CommandRunner {
  readonly calls: { argv: string[]; timeoutMs: number }[] = [];
  constructor(private readonly answer: (argv: readonly string[]) => CommandResult) {}
  async run(argv: readonly string[], timeoutMs: number): Promise<CommandResult> {
    this.calls.push({ argv: [...argv], timeoutMs });
    return this.answer(argv);
  }
}

const res = (code: number, stdout = '', stderr = ''): CommandResult => ({ code, signal: null, stdout, stderr, timedOut: false });
const LINK = JSON.stringify([{ ifname: 'eth0', address: DIR0 }]);
const held: IfaceAddress[] = [
  { local: '198.51.100.10', prefixlen: 24, family: 4, secondary: false, dadfailed: false },
  { local: VIP, prefixlen: 32, family: 4, secondary: false, dadfailed: false },
];

t.test('checkFromDirector runs a bounded arping from the director address', async (t) => {
  const runner = new ScriptedRunner((argv) => (argv[0] === 'ip' ? res(0, LINK) : res(0, LEAK_OUTPUT)));
  const r = await checkFromDirector({ runner, host: { listAddresses: async () => held } }, { vip: VIP4, iface: 'eth0', directorMacs: [] });
  t.equal(r.ok, true);
  if (!r.ok) return;
  t.equal(r.held, true);
  t.equal(r.ownMac, DIR0);
  t.same(r.verdict.macs.map((m) => [m.mac, m.kind]), [[RS0, 'other'], [DIR0, 'self']]);
  t.equal(r.verdict.problems.length, 1, 'only the real server is a problem');
  const arping = runner.calls.find((c) => c.argv[0] === 'arping');
  t.same(arping?.argv, ['arping', '-w', '2', '-s', '198.51.100.10', '-I', 'eth0', VIP]);
  t.ok(arping && arping.timeoutMs > 2000 && arping.timeoutMs <= 5000, 'killed if it outlives its deadline');
});

t.test('checkFromDirector failures', async (t) => {
  const host = { listAddresses: async () => held };
  const missing = new ScriptedRunner((argv) => (argv[0] === 'ip' ? res(0, LINK) : res(-1, '', 'spawn arping ENOENT')));
  const r1 = await checkFromDirector({ runner: missing, host }, { vip: VIP4, iface: 'eth0', directorMacs: [] });
  t.same(r1.ok === false && r1.unavailable, true, 'arping not installed');
  const badDev = new ScriptedRunner(() => res(2, '', 'arping: Device eth0 not available.'));
  const r2 = await checkFromDirector({ runner: badDev, host }, { vip: VIP4, iface: 'eth0', directorMacs: [] });
  t.same(r2.ok === false && [r2.unavailable, /not available/.test(r2.error)], [false, true]);
  const noSource = await checkFromDirector({ runner: badDev, host: { listAddresses: async () => [held[1]] } }, { vip: VIP4, iface: 'eth0', directorMacs: [] });
  t.match(noSource.ok === false && noSource.error, /pass --source/);
  const v6 = await checkFromDirector({ runner: badDev, host }, { vip: { address: '2001:db8::100', prefix: 128, family: 6 }, iface: 'eth0', directorMacs: [] });
  t.match(v6.ok === false && v6.error, /IPv6/);
});

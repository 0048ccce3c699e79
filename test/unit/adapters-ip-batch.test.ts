/**
 * IpBatch against a scripted child: what it writes, how it reads the JSON listings and the lo
 * marker, and every way the child can misbehave (silence, garbage, death), each of which ends
 * the child and answers null so the caller spawns instead.
 */
import t from 'tap';
import { IpBatch, RESPAWN_HOLD_MS, type BatchChild } from '../../src/adapters/ip-batch.js';
import { IpVipHost } from '../../src/adapters/ip-host.js';
import type { CommandResult, CommandRunner } from '../../src/ports/index.js';

class FakeChild implements BatchChild {
  written = '';
  killed = false;
  private out: ((c: string) => void)[] = [];
  private err: ((c: string) => void)[] = [];
  private exit: ((why: string) => void)[] = [];
  constructor(readonly pid: number) {}
  write(text: string): boolean {
    this.written += text;
    return true;
  }
  onStdout(fn: (c: string) => void): void {
    this.out.push(fn);
  }
  onStderr(fn: (c: string) => void): void {
    this.err.push(fn);
  }
  onExit(fn: (why: string) => void): void {
    this.exit.push(fn);
  }
  kill(): void {
    this.killed = true;
  }
  stdout(text: string): void {
    for (const fn of this.out) fn(text);
  }
  stderr(text: string): void {
    for (const fn of this.err) fn(text);
  }
  die(why: string): void {
    for (const fn of this.exit) fn(why);
  }
}

const listing = (ifname: string, ...addrs: [string, number][]) =>
  JSON.stringify([{ ifindex: ifname === 'lo' ? 1 : 2, ifname, addr_info: addrs.map(([local, prefixlen]) => ({ family: local.includes(':') ? 'inet6' : 'inet', local, prefixlen })) }]) + '\n';
const LO = listing('lo', ['127.0.0.1', 8]);
const turn = () => new Promise((r) => setImmediate(r));

function setup(timeoutMs = 1000) {
  const children: FakeChild[] = [];
  const deaths: string[] = [];
  let now = 100_000;
  const argvs: string[][] = [];
  const batch = new IpBatch({
    timeoutMs,
    now: () => now,
    start: (argv) => {
      argvs.push([...argv]);
      const c = new FakeChild(children.length + 1);
      children.push(c);
      return c;
    },
    onDeath: (why) => deaths.push(why),
  });
  return { batch, children, deaths, argvs, advance: (ms: number) => (now += ms) };
}

t.test('writes the command, the listing and the lo marker; reads the state from stdout', async (t) => {
  const { batch, children, argvs } = setup();
  const r = batch.run(['addr', 'add', '198.51.100.100/32', 'dev', 'eth0'], 'eth0');
  await turn();
  const c = children[0]!;
  t.same(argvs, [['ip', '-json', '-force', '-batch', '-']]);
  t.equal(c.written, 'addr add 198.51.100.100/32 dev eth0\naddr show dev eth0\naddr show dev lo\n');
  // split across chunks, as a pipe may deliver it
  const out = listing('eth0', ['198.51.100.1', 24], ['198.51.100.100', 32]) + LO;
  c.stdout(out.slice(0, 30));
  c.stdout(out.slice(30));
  t.same(await r, { addrs: [{ family: 4, local: '198.51.100.1', prefixlen: 24 }, { family: 4, local: '198.51.100.100', prefixlen: 32 }].map((a) => ({ ...a, secondary: false, dadfailed: false })), stderr: '' });
});

t.test('stderr is kept, also when it is read just after the marker', async (t) => {
  const { batch, children } = setup();
  const r = batch.run(['addr', 'add', '198.51.100.100/32', 'dev', 'eth0'], 'eth0');
  await turn();
  const c = children[0]!;
  c.stderr('Error: ipv4: Address already assigned.\n');
  c.stdout(listing('eth0', ['198.51.100.100', 32]) + LO);
  c.stderr('Command failed -:1\n');
  const res = await r;
  t.equal(res?.stderr, 'Error: ipv4: Address already assigned.\nCommand failed -:1');
});

t.test('a missing interface lists only lo: addrs null', async (t) => {
  const { batch, children } = setup();
  const r = batch.run(['addr', 'add', '198.51.100.100/32', 'dev', 'nosuch0'], 'nosuch0');
  await turn();
  children[0]!.stderr('Cannot find device "nosuch0"\nCommand failed -:1\n');
  children[0]!.stdout(LO);
  t.match(await r, { addrs: null, stderr: /Cannot find device/ });
});

t.test('iface lo: its own listing is the marker', async (t) => {
  const { batch, children } = setup();
  const r = batch.run(['addr', 'add', '198.51.100.100/32', 'dev', 'lo'], 'lo');
  await turn();
  t.equal(children[0]!.written, 'addr add 198.51.100.100/32 dev lo\naddr show dev lo\n');
  children[0]!.stdout(listing('lo', ['127.0.0.1', 8], ['198.51.100.100', 32]));
  t.equal((await r)?.addrs?.length, 2);
});

t.test('requests run one at a time, in order', async (t) => {
  const { batch, children } = setup();
  const a = batch.run(['addr', 'add', '198.51.100.100/32', 'dev', 'eth0'], 'eth0');
  const b = batch.run(['addr', 'del', '198.51.100.100/32', 'dev', 'eth0'], 'eth0');
  await turn();
  const c = children[0]!;
  t.notMatch(c.written, /addr del/, 'the second waits for the first');
  c.stdout(listing('eth0', ['198.51.100.100', 32]) + LO);
  t.equal((await a)?.addrs?.length, 1);
  await turn();
  t.match(c.written, /addr del/);
  c.stdout(listing('eth0') + LO);
  t.same((await b)?.addrs, []);
  t.equal(children.length, 1);
});

t.test('silence: null, the child is killed, no restart until the hold is over', async (t) => {
  const { batch, children, deaths, advance } = setup(20);
  const r = await batch.run(['addr', 'add', '198.51.100.100/32', 'dev', 'eth0'], 'eth0');
  t.equal(r, null);
  t.ok(children[0]!.killed);
  t.match(deaths, [/no answer within 20 ms/]);
  t.equal(await batch.run(['addr', 'del', '198.51.100.100/32', 'dev', 'eth0'], 'eth0'), null, 'held: the caller spawns');
  t.equal(children.length, 1);
  advance(RESPAWN_HOLD_MS);
  const again = batch.run(['addr', 'del', '198.51.100.100/32', 'dev', 'eth0'], 'eth0');
  await turn();
  t.equal(children.length, 2, 'a new child after the hold');
  children[1]!.stdout(listing('eth0') + LO);
  t.same((await again)?.addrs, []);
});

t.test('garbage, unsolicited output and death each end the child', async (t) => {
  for (const [name, act] of [
    ['not JSON', (c: FakeChild) => c.stdout('RTNETLINK answers: weird\n')],
    ['two interfaces in one line', (c: FakeChild) => c.stdout(JSON.stringify([{ ifname: 'a' }, { ifname: 'b' }]) + '\n')],
    ['death', (c: FakeChild) => c.die('exited (code 1, signal null)')],
  ] as const) {
    const { batch, children, deaths } = setup();
    const r = batch.run(['addr', 'add', '198.51.100.100/32', 'dev', 'eth0'], 'eth0');
    await turn();
    act(children[0]!);
    t.equal(await r, null, `${name}: null`);
    t.equal(deaths.length, 1, `${name}: reported once`);
  }
  const { batch, children, deaths } = setup();
  const r = batch.run(['addr', 'add', '198.51.100.100/32', 'dev', 'eth0'], 'eth0');
  await turn();
  children[0]!.stdout(listing('eth0') + LO);
  await r;
  children[0]!.stdout(LO);
  t.match(deaths, [/output with no request/], 'output nobody asked for');
  t.ok(children[0]!.killed);
});

t.test('words that could break the line protocol are refused before writing', async (t) => {
  const { batch, children } = setup();
  t.equal(await batch.run(['addr', 'add', '198.51.100.100/32', 'dev', 'eth0\naddr flush dev eth0'], 'eth0'), null);
  t.equal(await batch.run(['addr', 'add', '198.51.100.100/32', 'dev', 'eth0'], 'eth 0'), null);
  t.equal(children[0]?.written ?? '', '', 'nothing written');
});

t.test('close kills the child and answers null after', async (t) => {
  const { batch, children, deaths } = setup();
  const r = batch.run(['addr', 'add', '198.51.100.100/32', 'dev', 'eth0'], 'eth0');
  await turn();
  batch.close();
  t.equal(await r, null);
  t.ok(children[0]!.killed);
  t.same(deaths, [], 'a close is not a death');
  t.equal(await batch.run(['addr', 'del', '198.51.100.100/32', 'dev', 'eth0'], 'eth0'), null);
  t.equal(children.length, 1);
});

/** An IpVipHost on a scripted batch, its spawns (every one exits 0) recorded in `calls`. */
function hostOnBatch() {
  const rig = setup();
  const calls: string[][] = [];
  const runner: CommandRunner = {
    run: async (argv): Promise<CommandResult> => {
      calls.push([...argv]);
      return { code: 0, signal: null, stdout: '', stderr: '', timedOut: false };
    },
  };
  return { ...rig, calls, host: new IpVipHost(runner, { batch: rig.batch }) };
}

t.test('IpVipHost: the listing decides; the spawn path when the batch answers null', async (t) => {
  const { batch, children, calls, host } = hostOnBatch();
  const VIP = { address: '198.51.100.100', prefix: 24, family: 4 as const };
  const step = async (p: Promise<unknown>, stdout: string, stderr = '') => {
    await turn();
    const c = children[children.length - 1]!;
    if (stderr) c.stderr(stderr);
    c.stdout(stdout);
    return p;
  };
  t.same(await step(host.ensurePresent(VIP, 'eth0'), listing('eth0', ['198.51.100.100', 24]) + LO), { ok: true, changed: true });
  t.same(await step(host.ensurePresent(VIP, 'eth0'), listing('eth0', ['198.51.100.100', 24]) + LO, 'Error: exists\nCommand failed -:4\n'), { ok: true, changed: false });
  t.match(await step(host.ensurePresent(VIP, 'eth0'), listing('eth0', ['198.51.100.100', 32]) + LO, 'Error: odd\nCommand failed -:7\n'), { ok: false, error: /^ip addr add 198.51.100.100\/24 dev eth0 \(ip -batch\): Error: odd/ }, 'another prefix is not the VIP');
  t.match(await step(host.ensureAbsent(VIP, 'eth0'), listing('eth0', ['198.51.100.100', 24]) + LO), { ok: false, error: /still on the interface afterwards/ });
  t.same(calls, [], 'no spawn while the batch answers');
  batch.close();
  t.same(await host.ensureAbsent(VIP, 'eth0'), { ok: true, changed: true });
  t.same(calls, [['ip', 'addr', 'del', '198.51.100.100/24', 'dev', 'eth0']], 'spawned once the batch is gone');
});

t.test('runAll: every interface listed before and after the commands, in one request', async (t) => {
  const { batch, children } = setup();
  const r = batch.runAll([['addr', 'add', '198.51.100.100/32', 'dev', 'eth0'], ['addr', 'add', '203.0.113.1/24', 'dev', 'eth1'], ['addr', 'add', '198.51.100.101/32', 'dev', 'eth0']], ['eth0', 'eth1', 'eth0']);
  await turn();
  const c = children[0]!;
  t.equal(c.written, 'addr show dev eth0\naddr show dev eth1\naddr add 198.51.100.100/32 dev eth0\naddr add 203.0.113.1/24 dev eth1\naddr add 198.51.100.101/32 dev eth0\naddr show dev eth0\naddr show dev eth1\naddr show dev lo\n');
  c.stdout(listing('eth0') + listing('eth1', ['203.0.113.1', 24]));
  c.stderr('Error: ipv4: Address already assigned.\nCommand failed -:4\n');
  c.stdout(listing('eth0', ['198.51.100.100', 32], ['198.51.100.101', 32]) + listing('eth1', ['203.0.113.1', 24]) + LO);
  const res = await r;
  t.same(res?.before.get('eth0'), []);
  t.equal(res?.before.get('eth1')?.length, 1);
  t.equal(res?.after.get('eth0')?.length, 2);
  t.match(res?.stderr, /Address already assigned/);
});

t.test('runAll: a missing interface lists nothing before or after; lo among them is listed thrice, the last is the marker', async (t) => {
  const { batch, children } = setup();
  const r = batch.runAll([['addr', 'del', '198.51.100.100/32', 'dev', 'lo'], ['addr', 'del', '203.0.113.1/24', 'dev', 'nosuch0']], ['lo', 'nosuch0']);
  await turn();
  const c = children[0]!;
  t.equal(c.written, 'addr show dev lo\naddr show dev nosuch0\naddr del 198.51.100.100/32 dev lo\naddr del 203.0.113.1/24 dev nosuch0\naddr show dev lo\naddr show dev nosuch0\naddr show dev lo\n');
  c.stdout(listing('lo', ['127.0.0.1', 8], ['198.51.100.100', 32]) + listing('lo', ['127.0.0.1', 8]));
  let done = false;
  void r.then(() => (done = true));
  await turn();
  t.notOk(done, 'two lo listings of three: not done yet');
  c.stdout(LO);
  const res = await r;
  t.equal(res?.before.get('lo')?.length, 2);
  t.equal(res?.after.get('lo')?.length, 1);
  t.equal(res?.before.get('nosuch0'), null);
  t.equal(res?.after.get('nosuch0'), null);
});

t.test('IpVipHost.ensureAll: one batch request; each VIP judged by the listing after, changed by the listing before', async (t) => {
  const { batch, children, calls, host } = hostOnBatch();
  const placements = [
    { vip: { address: '198.51.100.100', prefix: 32, family: 4 as const }, iface: 'eth0' },
    { vip: { address: '203.0.113.1', prefix: 24, family: 4 as const }, iface: 'eth1' },
    { vip: { address: '2001:db8::100', prefix: 128, family: 6 as const }, iface: 'eth0' },
  ];
  const p = host.ensureAll(placements, true);
  await turn();
  const c = children[0]!;
  t.match(c.written, /addr add 2001:db8::100\/128 dev eth0 nodad\n/);
  c.stdout(listing('eth0', ['198.51.100.100', 32]) + listing('eth1'));
  c.stderr('Error: ipv4: Address already assigned.\nCommand failed -:3\nCannot find device "eth1"\nCommand failed -:4\n');
  c.stdout(listing('eth0', ['198.51.100.100', 32], ['2001:db8::100', 128]) + listing('eth1') + LO);
  const outs = await p;
  t.same(outs[0], { ok: true, changed: false }, 'was already there');
  t.match(outs[1], { ok: false, error: /^ip addr add 203\.0\.113\.1\/24 dev eth1 \(ip -batch\): .*Cannot find device "eth1"/s });
  t.same(outs[2], { ok: true, changed: true });
  t.same(calls, [], 'no spawn');
  batch.close();
  t.same(await host.ensureAll(placements, false), [{ ok: true, changed: true }, { ok: true, changed: true }, { ok: true, changed: true }]);
  t.equal(calls.length, 3, 'no batch: one spawn per VIP');
});

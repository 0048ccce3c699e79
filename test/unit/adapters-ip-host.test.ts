// IpVipHost with a scripted CommandRunner: which `ip` commands run, in which order, and what
// each outcome becomes. Exit codes of iproute2 6.1 (measured): 2 = duplicate add / absent del, 1 = bad device.
import t from 'tap';
import { IpVipHost } from '../../src/adapters/ip-host.js';
import type { CommandResult, CommandRunner } from '../../src/ports/index.js';
import type { Vip } from '../../src/config/types.js';

const VIP: Vip = { address: '198.51.100.100', prefix: 32, family: 4 };
const VIP6: Vip = { address: '2001:db8::100', prefix: 128, family: 6 };

const SHOW = ['ip', '-json', 'addr', 'show', 'dev', 'eth0'];
const ADD = ['ip', 'addr', 'add', '198.51.100.100/32', 'dev', 'eth0'];
const DEL = ['ip', 'addr', 'del', '198.51.100.100/32', 'dev', 'eth0'];

function ok(stdout = ''): CommandResult {
  return { code: 0, signal: null, stdout, stderr: '', timedOut: false };
}
function exit(code: number, stderr: string): CommandResult {
  return { code, signal: null, stdout: '', stderr, timedOut: false };
}
function addrs(...list: [string, number][]): CommandResult {
  const info = list.map(([local, prefixlen]) => ({ family: local.includes(':') ? 'inet6' : 'inet', local, prefixlen }));
  return ok(JSON.stringify([{ ifname: 'eth0', addr_info: info }]));
}
const PRIMARY: [string, number] = ['198.51.100.1', 24];

/** Answers each call with the next scripted result and records the argv and timeout. */
class ScriptedRunner implements CommandRunner {
  calls: string[][] = [];
  timeouts: number[] = [];
  constructor(private readonly script: CommandResult[]) {}
  async run(argv: readonly string[], timeoutMs: number): Promise<CommandResult> {
    this.calls.push([...argv]);
    this.timeouts.push(timeoutMs);
    const next = this.script.shift();
    if (!next) throw new Error(`unscripted call: ${argv.join(' ')}`);
    return next;
  }
}

t.test('ensurePresent (acts first: one spawn in the common case)', async (t) => {
  t.test('absent -> adds, reports changed, no read', async (t) => {
    const r = new ScriptedRunner([ok()]);
    t.same(await new IpVipHost(r).ensurePresent(VIP, 'eth0'), { ok: true, changed: true });
    t.same(r.calls, [ADD]);
  });
  t.test('present (add exits 2) -> re-reads, finds it, ok unchanged', async (t) => {
    const r = new ScriptedRunner([exit(2, 'RTNETLINK answers: File exists'), addrs(PRIMARY, ['198.51.100.100', 32])]);
    t.same(await new IpVipHost(r).ensurePresent(VIP, 'eth0'), { ok: true, changed: false });
    t.same(r.calls, [ADD, SHOW]);
  });
  t.test('add exits 2 but only another prefix is there -> error: not our VIP', async (t) => {
    const r = new ScriptedRunner([exit(2, 'RTNETLINK answers: File exists'), addrs(PRIMARY, ['198.51.100.100', 24])]);
    t.match(await new IpVipHost(r).ensurePresent(VIP, 'eth0'), { ok: false, error: /exit 2/ });
  });
  t.test('add exits 2 and the re-read still lacks it -> error, whatever the message says', async (t) => {
    const r = new ScriptedRunner([exit(2, 'RTNETLINK answers: File exists'), addrs(PRIMARY)]);
    const out = await new IpVipHost(r).ensurePresent(VIP, 'eth0');
    t.same(out, { ok: false, error: 'ip addr add 198.51.100.100/32 dev eth0: exit 2: RTNETLINK answers: File exists' });
  });
  t.test('add exits 2 and the re-read fails -> error', async (t) => {
    const r = new ScriptedRunner([exit(2, 'x'), exit(1, 'Device "eth0" does not exist.')]);
    t.match(await new IpVipHost(r).ensurePresent(VIP, 'eth0'), { ok: false });
  });
  t.test('add exits 1 (bad device) -> error with command line and stderr, no re-read', async (t) => {
    const r = new ScriptedRunner([exit(1, 'Error: any valid prefix is expected.\n')]);
    const out = await new IpVipHost(r).ensurePresent(VIP, 'eth0');
    t.same(out, { ok: false, error: 'ip addr add 198.51.100.100/32 dev eth0: exit 1: Error: any valid prefix is expected.' });
    t.same(r.calls, [ADD]);
  });
  t.test('ip missing -> error says it could not start', async (t) => {
    const r = new ScriptedRunner([{ code: -1, signal: null, stdout: '', stderr: 'spawn ip ENOENT', timedOut: false }]);
    t.same(await new IpVipHost(r).ensurePresent(VIP, 'eth0'), {
      ok: false,
      error: 'ip addr add 198.51.100.100/32 dev eth0: could not start: spawn ip ENOENT',
    });
  });
  t.test('add timed out -> error, no re-read (state unknown; the caller decides)', async (t) => {
    const r = new ScriptedRunner([{ code: -1, signal: 'SIGKILL', stdout: '', stderr: '', timedOut: true }]);
    t.same(await new IpVipHost(r).ensurePresent(VIP, 'eth0'), { ok: false, error: 'ip addr add 198.51.100.100/32 dev eth0: timed out, killed' });
    t.same(r.calls, [ADD]);
  });
  t.test('IPv6 VIP is added with nodad', async (t) => {
    const r = new ScriptedRunner([ok()]);
    t.same(await new IpVipHost(r).ensurePresent(VIP6, 'eth0'), { ok: true, changed: true });
    t.same(r.calls[0], ['ip', 'addr', 'add', '2001:db8::100/128', 'dev', 'eth0', 'nodad']);
  });
});

t.test('ensureAbsent', async (t) => {
  t.test('present -> deletes with the exact prefix', async (t) => {
    const r = new ScriptedRunner([ok()]);
    t.same(await new IpVipHost(r).ensureAbsent(VIP, 'eth0'), { ok: true, changed: true });
    t.same(r.calls, [DEL]);
  });
  t.test('absent (del exits 2) -> re-reads, ok unchanged', async (t) => {
    const r = new ScriptedRunner([exit(2, 'RTNETLINK answers: Cannot assign requested address'), addrs(PRIMARY)]);
    t.same(await new IpVipHost(r).ensureAbsent(VIP, 'eth0'), { ok: true, changed: false });
    t.same(r.calls, [DEL, SHOW]);
  });
  t.test('del exits 1 -> error with stderr', async (t) => {
    const r = new ScriptedRunner([exit(1, 'Error: nope')]);
    t.same(await new IpVipHost(r).ensureAbsent(VIP, 'eth0'), { ok: false, error: 'ip addr del 198.51.100.100/32 dev eth0: exit 1: Error: nope' });
  });
  t.test('IPv6 del names the exact prefix and no nodad', async (t) => {
    const r = new ScriptedRunner([ok()]);
    t.same(await new IpVipHost(r).ensureAbsent(VIP6, 'eth0'), { ok: true, changed: true });
    t.same(r.calls[0], ['ip', 'addr', 'del', '2001:db8::100/128', 'dev', 'eth0']);
  });
});

t.test('listAddresses', async (t) => {
  const host = new IpVipHost(new ScriptedRunner([addrs(PRIMARY, ['198.51.100.100', 32])]));
  t.match(await host.listAddresses('eth0'), [{ local: PRIMARY[0] }, { local: '198.51.100.100', prefixlen: 32 }]);
  const failing = new IpVipHost(new ScriptedRunner([exit(1, 'Device "eth0" does not exist.')]));
  await t.rejects(failing.listAddresses('eth0'), { name: 'IpCommandError', message: /exit 1: Device "eth0"/ });
});

t.test('options: ip path and timeout reach every call', async (t) => {
  const r = new ScriptedRunner([exit(2, 'exists'), addrs()]);
  await new IpVipHost(r, { ipPath: '/sbin/ip', timeoutMs: 750 }).ensurePresent(VIP, 'eth0');
  t.same(r.calls.map((c) => c[0]), ['/sbin/ip', '/sbin/ip']);
  t.same(r.timeouts, [750, 750]);
  const d = new ScriptedRunner([addrs()]);
  await new IpVipHost(d).listAddresses('eth0');
  t.same(d.timeouts, [2000], 'default 2 s');
});

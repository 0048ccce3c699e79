// NetlinkVipHost with a fake addon and a recording fallback: the kernel's answer decides the
// outcome (0, EEXIST, EADDRNOTAVAIL, anything else an error that says what was asked), local
// failures go to the fallback (a lasting one for good), and the outcome is settled when the
// promise is returned, so the driver's continuation runs in the same event-loop turn.
import { constants } from 'node:os';
import t from 'tap';
import { agentVipHost, describeErrno, NetlinkVipHost, NO_NETLINK_ADDON, type NetlinkNative } from '../../src/adapters/netlink-host.js';
import type { Vip } from '../../src/config/types.js';
import type { Logger } from '../../src/log.js';
import type { EnsureOutcome, VipHost } from '../../src/ports/index.js';

const V4: Vip = { address: '198.51.100.100', prefix: 32, family: 4 };
const V6: Vip = { address: '2001:db8::100', prefix: 128, family: 6 };
const E = constants.errno;

function errno(code: string, call: string): Error {
  return Object.assign(new Error(`${call}: ${code}`), { code });
}

/** Records every call; answers (a kernel errno, or an Error to throw) are queued by the test. */
class FakeNetlink implements NetlinkNative {
  calls: string[] = [];
  answers: (number | Error)[] = [];
  indexes = new Map([['eth0', 2]]);

  ifIndex(name: string): number {
    this.calls.push(`ifIndex ${name}`);
    const index = this.indexes.get(name);
    if (index === undefined) throw errno('ENODEV', `if_nametoindex(${name})`);
    return index;
  }
  addrAdd(ifindex: number, family: 4 | 6, address: Buffer, prefix: number, nodad: boolean): number {
    this.calls.push(`add if${ifindex} v${family} ${address.toString('hex')}/${prefix}${nodad ? ' nodad' : ''}`);
    return this.answer();
  }
  addrDel(ifindex: number, family: 4 | 6, address: Buffer, prefix: number): number {
    this.calls.push(`del if${ifindex} v${family} ${address.toString('hex')}/${prefix}`);
    return this.answer();
  }
  private answer(): number {
    const a = this.answers.shift() ?? 0;
    if (a instanceof Error) throw a;
    return a;
  }
}

/** The fallback (IpVipHost in the agent): records, answers after a turn like a real spawn would. */
class RecordingHost implements VipHost {
  calls: string[] = [];
  async ensurePresent(vip: Vip, iface: string): Promise<EnsureOutcome> {
    this.calls.push(`present ${vip.address} ${iface}`);
    return { ok: true, changed: true };
  }
  async ensureAbsent(vip: Vip, iface: string): Promise<EnsureOutcome> {
    this.calls.push(`absent ${vip.address} ${iface}`);
    return { ok: true, changed: true };
  }
}

t.test('the first host in a process warms up: it reads lo and deletes on an index no host has, nothing else', async (t) => {
  const first = new FakeNetlink();
  new NetlinkVipHost({ native: first, fallback: new RecordingHost() });
  t.same(first.calls, ['ifIndex lo', 'del if2147483647 v4 c6336401/32'], "the fake has no lo: its ENODEV is swallowed");
  const second = new FakeNetlink();
  new NetlinkVipHost({ native: second, fallback: new RecordingHost() });
  t.same(second.calls, [], 'once per process');
});

function setup(native: FakeNetlink | null = new FakeNetlink()) {
  const fallback = new RecordingHost();
  const reasons: string[] = [];
  const host = new NetlinkVipHost({ native, fallback, onFallback: (r) => reasons.push(r) });
  return { native: native!, fallback, reasons, host };
}

t.test('add and del: what is asked of the kernel, and what its answer means', async (t) => {
  const { native, fallback, reasons, host } = setup();
  native.answers = [0, E.EEXIST, 0, E.EADDRNOTAVAIL, 0];
  t.same(await host.ensurePresent(V4, 'eth0'), { ok: true, changed: true }, 'add: 0 = added');
  t.same(await host.ensurePresent(V4, 'eth0'), { ok: true, changed: false }, 'add: EEXIST = already there');
  t.same(await host.ensureAbsent(V4, 'eth0'), { ok: true, changed: true }, 'del: 0 = removed');
  t.same(await host.ensureAbsent(V4, 'eth0'), { ok: true, changed: false }, 'del: EADDRNOTAVAIL = not there');
  t.same(await host.ensurePresent(V6, 'eth0'), { ok: true, changed: true }, 'IPv6 add');
  t.same(native.calls, [
    'ifIndex eth0', 'add if2 v4 c6336464/32',
    'ifIndex eth0', 'add if2 v4 c6336464/32',
    'ifIndex eth0', 'del if2 v4 c6336464/32',
    'ifIndex eth0', 'del if2 v4 c6336464/32',
    'ifIndex eth0', 'add if2 v6 20010db8000000000000000000000100/128 nodad',
  ], 'the index looked up per call; the exact prefix; nodad for IPv6 only');
  t.same(fallback.calls, [], 'fallback unused');
  t.same(reasons, []);
});

t.test('an interface created again is found under its new index', async (t) => {
  const { native, host } = setup();
  await host.ensurePresent(V4, 'eth0');
  native.indexes.set('eth0', 7);
  await host.ensureAbsent(V4, 'eth0');
  t.same(native.calls.filter((c) => !c.startsWith('ifIndex')), ['add if2 v4 c6336464/32', 'del if7 v4 c6336464/32']);
});

t.test('other kernel answers are errors that say what was asked and what the kernel said', async (t) => {
  const { native, fallback, reasons, host } = setup();
  native.answers = [E.ENODEV, E.EPERM, E.EADDRNOTAVAIL, E.EEXIST, 4000];
  t.same(await host.ensurePresent(V4, 'eth0'), { ok: false, error: 'netlink: add 198.51.100.100/32 dev eth0: no such device (ENODEV)' });
  t.same(await host.ensurePresent(V6, 'eth0'), { ok: false, error: 'netlink: add 2001:db8::100/128 dev eth0: operation not permitted (EPERM)' },
    'EPERM from the kernel (no CAP_NET_ADMIN): ip would get the same, no fallback');
  t.same(await host.ensurePresent(V4, 'eth0'), { ok: false, error: 'netlink: add 198.51.100.100/32 dev eth0: address not available (EADDRNOTAVAIL)' },
    'EADDRNOTAVAIL means "already so" only for a del');
  t.same(await host.ensureAbsent(V4, 'eth0'), { ok: false, error: 'netlink: del 198.51.100.100/32 dev eth0: file already exists (EEXIST)' },
    'EEXIST means "already so" only for an add');
  t.same(await host.ensureAbsent(V4, 'eth0'), { ok: false, error: 'netlink: del 198.51.100.100/32 dev eth0: error 4000' }, 'an errno without a name');
  t.same(fallback.calls, []);
  t.same(reasons, []);
});

t.test('no such interface: a clean error, no request and no fallback', async (t) => {
  const { native, fallback, host } = setup();
  t.same(await host.ensurePresent(V4, 'nosuch0'), { ok: false, error: 'netlink: add 198.51.100.100/32 dev nosuch0: no such device (ENODEV)' });
  t.same(native.calls, ['ifIndex nosuch0']);
  t.same(fallback.calls, []);
});

t.test('EPERM on the socket: the fallback, told once, and every later call goes straight there', async (t) => {
  const { native, fallback, reasons, host } = setup();
  native.answers = [errno('EPERM', 'socket(AF_NETLINK, NETLINK_ROUTE)')];
  t.same(await host.ensurePresent(V4, 'eth0'), { ok: true, changed: true }, "the fallback's outcome");
  t.same(await host.ensureAbsent(V4, 'eth0'), { ok: true, changed: true });
  t.same(fallback.calls, ['present 198.51.100.100 eth0', 'absent 198.51.100.100 eth0']);
  t.equal(native.calls.length, 2, 'the addon was not asked again');
  const why = 'netlink: add 198.51.100.100/32 dev eth0: socket(AF_NETLINK, NETLINK_ROUTE): EPERM';
  t.same(reasons, [why, why], 'the same reason each time (the agent logs it at warn once)');
});

t.test('a passing local failure (timeout, malformed answer, exception): the fallback for that call only', async (t) => {
  const { native, fallback, reasons, host } = setup();
  native.answers = [errno('ETIMEDOUT', 'recv(NETLINK_ROUTE): no ACK within 1 s'), new TypeError('bad'), 0];
  t.same(await host.ensurePresent(V4, 'eth0'), { ok: true, changed: true });
  t.same(await host.ensureAbsent(V4, 'eth0'), { ok: true, changed: true });
  t.same(await host.ensurePresent(V4, 'eth0'), { ok: true, changed: true });
  t.same(fallback.calls, ['present 198.51.100.100 eth0', 'absent 198.51.100.100 eth0']);
  t.equal(native.calls.filter((c) => !c.startsWith('ifIndex')).length, 3, 'netlink tried again each time');
  t.match(reasons, [/add .*: recv\(NETLINK_ROUTE\): no ACK within 1 s: ETIMEDOUT$/, /del .*: bad$/]);
});

t.test('missing addon: every call goes to the fallback', async (t) => {
  const { fallback, reasons, host } = setup(null);
  t.same(await host.ensurePresent(V6, 'eth0'), { ok: true, changed: true });
  t.same(await host.ensureAbsent(V6, 'eth0'), { ok: true, changed: true });
  t.same(fallback.calls, ['present 2001:db8::100 eth0', 'absent 2001:db8::100 eth0']);
  t.same(reasons, [NO_NETLINK_ADDON, NO_NETLINK_ADDON]);
});

t.test('a fallback that throws instead of rejecting is an error outcome', async (t) => {
  const throwing: VipHost = {
    ensurePresent: () => { throw new Error('boom'); },
    ensureAbsent: () => { throw new Error('boom'); },
  };
  const host = new NetlinkVipHost({ native: null, fallback: throwing });
  t.same(await host.ensurePresent(V4, 'eth0'), { ok: false, error: 'boom' });
});

t.test('the outcome is settled when the promise is returned: the continuation runs in the same turn', async (t) => {
  const { native, host } = setup();
  for (const [what, call] of [
    ['ensurePresent', () => host.ensurePresent(V4, 'eth0')],
    ['ensureAbsent', () => host.ensureAbsent(V4, 'eth0')],
  ] as const) {
    const before = native.calls.length;
    const p = call();
    t.equal(native.calls.length, before + 2, `${what}: the request was made inside the call`);
    let got: EnsureOutcome | undefined;
    void p.then((v) => (got = v));
    // One microtask later: only an already-settled promise's reaction has run by now.
    await Promise.resolve();
    t.same(got, { ok: true, changed: true }, `${what}: settled before the next microtask`);
    const first = await Promise.race([p.then(() => 'promise'), new Promise((r) => setImmediate(() => r('setImmediate')))]);
    t.equal(first, 'promise', `${what}: resolves before a setImmediate`);
  }
});

t.test("agentVipHost: the addon when it loaded, each fallback reason at warn once, then debug", async (t) => {
  const lines: string[] = [];
  const log = {
    warn: (o: { reason: string }, msg: string) => lines.push(`warn ${msg}: ${o.reason}`),
    debug: (o: { reason: string }, msg: string) => lines.push(`debug ${msg}: ${o.reason}`),
  } as unknown as Logger;
  const fallback = new RecordingHost();
  const missing = agentVipHost({ ok: false, reason: 'not built' }, fallback, log);
  await missing.ensurePresent(V4, 'eth0');
  await missing.ensurePresent(V4, 'eth0');
  t.same(lines, [`warn VIP change falls back to ip: ${NO_NETLINK_ADDON}`, `debug VIP change falls back to ip: ${NO_NETLINK_ADDON}`]);
  const native = new FakeNetlink();
  const loaded = agentVipHost({ ok: true, native: native as never }, fallback, log);
  t.same(await loaded.ensurePresent(V4, 'eth0'), { ok: true, changed: true });
  t.equal(native.calls.length, 2, 'through the addon');
});

t.test('describeErrno names what libuv knows', async (t) => {
  t.equal(describeErrno(E.ENODEV), 'no such device (ENODEV)');
  t.equal(describeErrno(99999), 'error 99999');
});

t.test('ensureAll: each VIP through netlink, settled when returned, one outcome per VIP in order', async (t) => {
  const { native, fallback, host } = setup();
  native.indexes.set('eth1', 3);
  native.answers = [0, E.EINVAL, E.EEXIST];
  let outs: EnsureOutcome[] | null = null;
  void host.ensureAll([{ vip: V4, iface: 'eth0' }, { vip: { address: '203.0.113.1', prefix: 24, family: 4 }, iface: 'eth1' }, { vip: V6, iface: 'eth0' }], true).then((o) => (outs = o));
  await Promise.resolve();
  t.ok(outs !== null, 'settled in the same turn');
  t.match(outs, [{ ok: true, changed: true }, { ok: false, error: /^netlink: add 203\.0\.113\.1\/24 dev eth1: .*EINVAL/ }, { ok: true, changed: false }]);
  t.same(fallback.calls, []);
});

t.test('ensureAll: the VIPs netlink cannot do go to the fallback together, merged back in order', async (t) => {
  const { native, fallback, reasons, host } = setup();
  native.answers = [0, errno('ETIMEDOUT', 'recv'), 0];
  const outs = await host.ensureAll([{ vip: V4, iface: 'eth0' }, { vip: { address: '198.51.100.101', prefix: 32, family: 4 }, iface: 'eth0' }, { vip: V6, iface: 'eth0' }], false);
  t.same(outs, [{ ok: true, changed: true }, { ok: true, changed: true }, { ok: true, changed: true }]);
  t.same(fallback.calls, ['absent 198.51.100.101 eth0'], 'only the one netlink could not do');
  t.match(reasons, [/netlink: del 198\.51\.100\.101\/32 dev eth0: .*ETIMEDOUT/]);
});

/**
 * BgpDeviceHost: the bgp device is created (dummy, up) before the first add on it and only
 * then; a failed add makes it look again; a remove from a missing device is "not there";
 * VIPs on other interfaces pass straight through. IpLinkOps: the `ip link` argv and how its
 * exit codes read.
 */
import t from 'tap';
import { BgpDeviceHost, IpLinkOps, type LinkOps } from '../../src/adapters/bgp-device.js';
import type { CommandResult, CommandRunner, EnsureOutcome, VipHost } from '../../src/ports/index.js';
import type { Vip } from '../../src/config/types.js';

const VIP: Vip = { address: '203.0.113.100', prefix: 32, family: 4 };
const V6: Vip = { address: '2001:db8::100', prefix: 128, family: 6 };

class FakeVips implements VipHost {
  calls: string[] = [];
  fail: string | null = null;
  ensurePresent(vip: Vip, iface: string): Promise<EnsureOutcome> {
    this.calls.push(`add ${vip.address} ${iface}`);
    return Promise.resolve(this.fail ? { ok: false, error: this.fail } : { ok: true, changed: true });
  }
  ensureAbsent(vip: Vip, iface: string): Promise<EnsureOutcome> {
    this.calls.push(`del ${vip.address} ${iface}`);
    return Promise.resolve(this.fail ? { ok: false, error: this.fail } : { ok: true, changed: true });
  }
}

class FakeLinks implements LinkOps {
  calls: string[] = [];
  present = new Set<string>();
  createError: string | null = null;
  exists(dev: string): Promise<boolean | string> {
    this.calls.push(`exists ${dev}`);
    return Promise.resolve(this.present.has(dev));
  }
  createUp(dev: string): Promise<string | null> {
    this.calls.push(`create ${dev}`);
    if (this.createError) return Promise.resolve(this.createError);
    this.present.add(dev);
    return Promise.resolve(null);
  }
}

function rig() {
  const vips = new FakeVips();
  const links = new FakeLinks();
  const host = new BgpDeviceHost(vips, () => ['haagent0'], links);
  return { vips, links, host };
}

t.test('the first add creates the device, the next ones do not', async (t) => {
  const { vips, links, host } = rig();
  t.same(await host.ensurePresent(VIP, 'haagent0'), { ok: true, changed: true });
  t.same(await host.ensurePresent(V6, 'haagent0'), { ok: true, changed: true });
  t.same(links.calls, ['create haagent0'], 'created and brought up once');
  t.same(vips.calls, ['add 203.0.113.100 haagent0', 'add 2001:db8::100 haagent0']);
});

t.test('a device that cannot be created fails the add, with the reason, and nothing is added', async (t) => {
  const { vips, links, host } = rig();
  links.createError = 'ip link add haagent0 type dummy: exit 2: RTNETLINK answers: Operation not supported';
  const o = await host.ensurePresent(VIP, 'haagent0');
  t.match(o, { ok: false, error: /^bgp device haagent0: ip link add haagent0 type dummy: exit 2: .*not supported/ });
  t.same(vips.calls, []);
});

t.test('a failed add makes the next add prepare the device again', async (t) => {
  const { vips, links, host } = rig();
  await host.ensurePresent(VIP, 'haagent0');
  vips.fail = 'netlink: add 203.0.113.100/32 dev haagent0: no such device';
  t.match(await host.ensurePresent(VIP, 'haagent0'), { ok: false });
  vips.fail = null;
  await host.ensurePresent(VIP, 'haagent0');
  t.same(links.calls, ['create haagent0', 'create haagent0']);
});

t.test('a remove from a missing device is done; from a present one a failure stays a failure', async (t) => {
  const { vips, links, host } = rig();
  vips.fail = 'Cannot find device "haagent0"';
  t.same(await host.ensureAbsent(VIP, 'haagent0'), { ok: true, changed: false });
  links.present.add('haagent0');
  vips.fail = 'RTNETLINK answers: Operation not permitted';
  t.same(await host.ensureAbsent(VIP, 'haagent0'), { ok: false, error: 'RTNETLINK answers: Operation not permitted' });
  vips.fail = null;
  t.same(await host.ensureAbsent(VIP, 'haagent0'), { ok: true, changed: true });
  t.same(links.calls, ['exists haagent0', 'exists haagent0'], 'looked only after a failure');
});

t.test('other interfaces pass through untouched', async (t) => {
  const { vips, links, host } = rig();
  vips.fail = 'Cannot find device "eth9"';
  t.match(await host.ensurePresent(VIP, 'eth0'), { ok: false });
  t.match(await host.ensureAbsent(VIP, 'eth9'), { ok: false, error: /eth9/ }, 'no "missing device" leniency off the bgp device');
  t.same(links.calls, []);
});

t.test('ensureAll: the device is prepared once for the group, removes tolerate a missing device', async (t) => {
  const { vips, links, host } = rig();
  const both = [{ vip: VIP, iface: 'haagent0' }, { vip: V6, iface: 'haagent0' }];
  t.same(await host.ensureAll(both, true), [{ ok: true, changed: true }, { ok: true, changed: true }]);
  t.same(links.calls, ['create haagent0']);
  links.present.clear();
  vips.fail = 'Cannot find device';
  t.same(await host.ensureAll(both, false), [{ ok: true, changed: false }, { ok: true, changed: false }]);
  links.createError = 'boom';
  const outs = await host.ensureAll(both, true);
  t.match(outs, [{ ok: false, error: /bgp device haagent0: boom/ }, { ok: false, error: /boom/ }]);
});

function runner(results: Partial<CommandResult>[]): CommandRunner & { argvs: string[][] } {
  const argvs: string[][] = [];
  return {
    argvs,
    run(argv) {
      argvs.push([...argv]);
      return Promise.resolve({ code: 0, signal: null, stdout: '', stderr: '', timedOut: false, ...(results.shift() ?? {}) });
    },
  };
}

t.test('IpLinkOps: argv and exit codes', async (t) => {
  const r = runner([{}, { code: 1, stderr: 'Device "haagent0" does not exist.' }, { code: 255, stderr: 'Cannot open netlink socket' }]);
  const ops = new IpLinkOps(r, '/sbin/ip');
  t.equal(await ops.exists('haagent0'), true);
  t.equal(await ops.exists('haagent0'), false);
  t.match(await ops.exists('haagent0'), /^\/sbin\/ip -o link show dev haagent0: exit 255: Cannot open netlink socket$/);
  const c = runner([{ code: 2, stderr: 'RTNETLINK answers: File exists' }, {}]);
  t.equal(await new IpLinkOps(c, 'ip').createUp('haagent0'), null, 'already there: brought up anyway');
  t.same(c.argvs, [['ip', 'link', 'add', 'haagent0', 'type', 'dummy'], ['ip', 'link', 'set', 'dev', 'haagent0', 'up']]);
  const nodummy = runner([{ code: 2, stderr: 'Error: Unknown device type.' }, {}, {}]);
  t.equal(await new IpLinkOps(nodummy, 'ip').createUp('haagent0'), null, 'no dummy driver: an ifb link');
  t.same(nodummy.argvs.map((a) => a.slice(1).join(' ')), ['link add haagent0 type dummy', 'link add haagent0 type ifb', 'link set dev haagent0 up']);
  const f = runner([{ code: 2, stderr: 'RTNETLINK answers: Operation not permitted' }]);
  t.match(await new IpLinkOps(f, 'ip').createUp('haagent0'), /exit 2: RTNETLINK answers: Operation not permitted/);
});

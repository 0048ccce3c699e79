/**
 * The driver with a group of several VIPs: every VIP goes to the host in one action (a host
 * with ensureAll gets one call for all), one burst per VIP goes to the announcer on that VIP's
 * interface, every VIP's interface is a tracked link, one add that fails turns into a fault whose reason and log name that VIP and what
 * the host said, and the removal that follows takes every VIP of the group off again.
 */
import t from 'tap';
import { createLogger } from '../../src/log.js';
import { healthSpecs } from '../../src/daemon/agent-health.js';
import type { Vip } from '../../src/config/types.js';
import type { EnsureOutcome, VipHost, VipPlacement } from '../../src/ports/index.js';
import { BASE, parse } from './config-harness.js';
import { rig, settle } from './driver-rig.js';

const NAT = [...BASE.slice(0, 7), '    vips: [198.51.100.100, { address: 203.0.113.1/24, interface: eth1 }, "2001:db8::100"]', BASE[8]!].join('\n') + '\n';

/** A host that keeps addresses per interface and refuses adds on the interfaces in `broken`. */
class Host implements VipHost {
  readonly held = new Set<string>();
  readonly calls: string[] = [];
  constructor(private readonly broken = new Set<string>()) {}
  private key = (vip: Vip, iface: string) => `${vip.address}/${vip.prefix}@${iface}`;
  async ensurePresent(vip: Vip, iface: string): Promise<EnsureOutcome> {
    this.calls.push(`+${this.key(vip, iface)}`);
    if (this.broken.has(iface)) return { ok: false, error: `ip addr add ${vip.address}/${vip.prefix} dev ${iface}: Cannot find device "${iface}"` };
    const had = this.held.has(this.key(vip, iface));
    this.held.add(this.key(vip, iface));
    return { ok: true, changed: !had };
  }
  async ensureAbsent(vip: Vip, iface: string): Promise<EnsureOutcome> {
    this.calls.push(`-${this.key(vip, iface)}`);
    return { ok: true, changed: this.held.delete(this.key(vip, iface)) };
  }
}

/** Alone (its one peer silent): run until it has claimed, `ms` in 50 ms turns. */
async function run(loop: { advance(at: number): void; now: number }, ms: number): Promise<void> {
  for (let i = 0; i < ms / 50; i++) {
    loop.advance(loop.now + 50);
    await settle();
  }
}

/** The NAT config on `host`, run alone for 2 s; each burst announces `frames` frames. */
async function claimed(host: VipHost, frames: number) {
  const bursts: string[] = [];
  const lines: string[] = [];
  const { loop, driver } = rig(parse(NAT), {
    vipHost: host,
    announcer: { announce: async (vip, iface) => (bursts.push(`${vip.address}@${iface}`), { sent: frames, errors: [] }), close: () => undefined },
    log: createLogger('info', 'd0', { write: (s: string) => void lines.push(s) }),
  });
  driver.start();
  await settle();
  await run(loop, 2000);
  return { driver, bursts, lines };
}

t.test('a claim adds every VIP, then one burst per VIP on its interface; the log names each VIP added', async (t) => {
  const host = new Host();
  const { driver, bursts, lines } = await claimed(host, 2);
  const g = driver.view().groups[0]!;
  t.equal(g.state, 'active');
  t.ok(g.vipReady, 'all in place');
  t.same([...host.held].sort(), ['198.51.100.100/32@eth0', '2001:db8::100/128@eth0', '203.0.113.1/24@eth1']);
  t.same(bursts.slice(0, 3), ['198.51.100.100@eth0', '203.0.113.1@eth1', '2001:db8::100@eth0'], 'each VIP announced where it is');
  t.equal(g.announcements, 6, 'the bursts\' frames summed into one result');
  const added = lines.filter((l) => l.includes('"VIP added"')).map((l) => `${JSON.parse(l).vip as string}@${JSON.parse(l).dev as string}`);
  t.same(added, ['198.51.100.100/32@eth0', '203.0.113.1/24@eth1', '2001:db8::100/128@eth0']);
  driver.stop();
});

t.test('a host with ensureAll is called once for the whole group', async (t) => {
  const host = new Host();
  const all: string[][] = [];
  const batched: VipHost = {
    ensurePresent: (v, i) => host.ensurePresent(v, i),
    ensureAbsent: (v, i) => host.ensureAbsent(v, i),
    ensureAll: async (ps: readonly VipPlacement[], present: boolean) => {
      all.push(ps.map((p) => `${present ? '+' : '-'}${p.vip.address}@${p.iface}`));
      return Promise.all(ps.map((p) => (present ? host.ensurePresent(p.vip, p.iface) : host.ensureAbsent(p.vip, p.iface))));
    },
  };
  const { loop, driver } = rig(parse(NAT), { vipHost: batched });
  driver.start();
  await settle();
  await run(loop, 2000);
  t.equal(driver.view().groups[0]!.state, 'active');
  t.same(all, [
    ['-198.51.100.100@eth0', '-203.0.113.1@eth1', '-2001:db8::100@eth0'],
    ['+198.51.100.100@eth0', '+203.0.113.1@eth1', '+2001:db8::100@eth0'],
  ], 'the start-up clean-up and the claim: one call each');
  driver.stop();
});

t.test('one add of three fails: fault naming that VIP, every VIP of the group removed again, nothing announced', async (t) => {
  const host = new Host(new Set(['eth1']));
  const { driver, bursts, lines } = await claimed(host, 1);
  const g = driver.view().groups[0]!;
  t.equal(g.state, 'fault');
  t.match(g.faultReason, /cannot add VIP: ip addr add 203\.0\.113\.1\/24 dev eth1: Cannot find device "eth1"/);
  t.notMatch(g.faultReason, /198\.51\.100\.100/, 'the VIPs that went on are not named as failures');
  t.ok(lines.some((l) => /"level":50/.test(l) && l.includes('203.0.113.1/24 dev eth1: Cannot find device')), 'logged at error with the failing VIP and the message');
  t.same([...host.held], [], 'the two that went on were removed: never a half-claimed group');
  const firstAdd = host.calls.findIndex((c) => c.startsWith('+'));
  const after = host.calls.slice(firstAdd + 3, firstAdd + 6).sort();
  t.same(after, ['-198.51.100.100/32@eth0', '-2001:db8::100/128@eth0', '-203.0.113.1/24@eth1'], 'the removal right after the failed claim covers all three');
  t.same(bursts, [], 'nothing announced');
  t.equal(driver.stats.vipFailures >= 1, true);
  driver.stop();
});

t.test('every interface a VIP of the group is on is a tracked link', async (t) => {
  t.same(healthSpecs(parse(NAT))[0]!.interfaces, ['eth0', 'eth1']);
  const tracked = parse(NAT.replace('    interface: eth0\n', '    interface: eth0\n    trackInterfaces: [eth2]\n'));
  t.same(healthSpecs(tracked)[0]!.interfaces, ['eth0', 'eth1', 'eth2']);
});

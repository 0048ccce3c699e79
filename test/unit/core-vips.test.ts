/**
 * A group of several VIPs in the core: one ensureVip action carries all of them (start-up
 * reconcile, claim, release), the group is advertised active only once all are in place, a
 * failed add ends in fault with every VIP removed (also when the want changed meanwhile),
 * the announcement and the conflict probes cover each VIP, and a reload keeps the group only
 * while its VIP set stays where it is.
 */
import t from 'tap';
import { Core } from '../../src/core/election.js';
import type { Action, CoreOptions, DetectTiming, StepResult } from '../../src/core/types.js';
import type { GroupConfig, VipPlacement } from '../../src/config/types.js';
import type { Message } from '../../src/wire/types.js';
import { group } from '../scenarios/sim.js';

const OUT = { address: '198.51.100.100', prefix: 32, family: 4 as const };
const GW = { address: '203.0.113.1', prefix: 24, family: 4 as const };
const V6 = { address: '2001:db8::100', prefix: 128, family: 6 as const };
const NAT: VipPlacement[] = [
  { vip: OUT, iface: 'eth0' },
  { vip: GW, iface: 'eth1' },
  { vip: V6, iface: 'eth0' },
];

function nat(vips: VipPlacement[] = NAT, extra: Partial<GroupConfig> = {}): GroupConfig {
  return group('nat', 150, { vip: vips[0]!.vip, vips, ...extra });
}

function core(extra: Partial<CoreOptions> = {}): Core {
  return new Core({ node: 'd0', interval: 50, deadTime: 150, initDead: 300, expectedPeers: 0, groups: [nat()], ...extra });
}

const vipActions = (r: StepResult) => r.actions.filter((a): a is Extract<Action, { kind: 'ensureVip' }> => a.kind === 'ensureVip');
const announces = (r: StepResult) => r.actions.filter((a): a is Extract<Action, { kind: 'announce' }> => a.kind === 'announce');
const cidrs = (vips: readonly VipPlacement[]) => vips.map((p) => `${p.vip.address}/${p.vip.prefix}@${p.iface}`);
const ALL = cidrs(NAT);

function hb(state: 'standby' | 'active', priority: number, seq: bigint): Message {
  return { type: 'heartbeat', cluster: 'c', node: 'd1', bootId: 1n, seq, intervalMs: 50, groups: [{ name: 'nat', state, priority, reach: 0 }] };
}

/** Start, the leftovers cleared, init-dead over: the claim's add is in flight. */
function claiming(c: Core): StepResult {
  c.step({ kind: 'start', now: 0 });
  c.step({ kind: 'vipResult', now: 1, group: 'nat', present: false, ok: true });
  return c.step({ kind: 'tick', now: 300 });
}

t.test('start-up removes every VIP of the group a crashed run may have left, in one action', async (t) => {
  const r = core().step({ kind: 'start', now: 0 });
  t.same(vipActions(r).map((a) => [a.present, cidrs(a.vips)]), [[false, ALL]]);
});

t.test('a claim adds all VIPs in one action; active is advertised, and every VIP announced, only once all are in place', async (t) => {
  const c = core();
  const claim = claiming(c);
  t.same(vipActions(claim).map((a) => [a.present, cidrs(a.vips)]), [[true, ALL]]);
  t.equal(c.groups[0]!.state, 'active');
  t.equal(c.advertised(c.groups[0]!).state, 'standby', 'not advertised active while the VIPs are going on');
  const up = c.step({ kind: 'vipResult', now: 304, group: 'nat', present: true, ok: true });
  t.equal(c.advertised(c.groups[0]!).state, 'active');
  t.same(announces(up).map((a) => cidrs(a.vips)), [ALL], 'one announcement action naming each VIP on the interface it is on');
});

t.test('a failed add (one VIP of three): fault, and every VIP of the group is removed', async (t) => {
  const c = core();
  claiming(c);
  const error = 'ip addr add 203.0.113.1/24 dev eth1 (ip -batch): Cannot find device "eth1"';
  const r = c.step({ kind: 'vipResult', now: 304, group: 'nat', present: true, ok: false, error });
  t.same(r.transitions.map((x) => x.to), ['fault']);
  t.match(r.transitions[0]!.reason, /cannot add VIP: ip addr add 203\.0\.113\.1\/24 dev eth1 .*Cannot find device "eth1"/);
  t.match(r.notes, [{ level: 'error', msg: /203\.0\.113\.1\/24 dev eth1.*Cannot find device/ }], 'the failing VIP and what ip said are logged');
  t.same(vipActions(r).map((a) => [a.present, cidrs(a.vips)]), [[false, ALL]], 'all removed, not only the one that failed');
  t.equal(announces(r).length, 0, 'nothing announced');
  t.equal(c.advertised(c.groups[0]!).state, 'fault');
  c.step({ kind: 'vipResult', now: 310, group: 'nat', present: false, ok: true });
  t.equal(c.groups[0]!.vipHave, false, 'known gone: the fault can be retried from here');
});

t.test('a failed add after the want changed (a better peer came): still every VIP removed', async (t) => {
  const c = core({ expectedPeers: 1 });
  claiming(c);
  // d1 comes back active and outranks us while our add is in flight: we want the VIPs gone.
  c.step({ kind: 'message', now: 301, msg: hb('active', 200, 1n), address: '198.51.100.11', port: 694 });
  c.step({ kind: 'tick', now: 330 }); // the handover grace is over: standby
  t.equal(c.groups[0]!.vipWant, false);
  const r = c.step({ kind: 'vipResult', now: 331, group: 'nat', present: true, ok: false, error: 'netlink: add 203.0.113.1/24 dev eth1: no such device (ENODEV)' });
  t.same(vipActions(r).map((a) => [a.present, cidrs(a.vips)]), [[false, ALL]], 'the two that went on must come off');
});

t.test('one VIP keeps its old rule: a failed add that nobody wants any more removes nothing', async (t) => {
  const c = core({ expectedPeers: 1, groups: [group('nat', 150)] });
  claiming(c);
  c.step({ kind: 'message', now: 301, msg: hb('active', 200, 1n), address: '198.51.100.11', port: 694 });
  c.step({ kind: 'tick', now: 330 });
  t.equal(c.groups[0]!.vipWant, false);
  const r = c.step({ kind: 'vipResult', now: 331, group: 'nat', present: true, ok: false, error: 'exists elsewhere' });
  t.same(vipActions(r), [], 'the one VIP did not go on');
});

t.test('shutdown releases every VIP and exits once they are gone', async (t) => {
  const c = core();
  claiming(c);
  c.step({ kind: 'vipResult', now: 304, group: 'nat', present: true, ok: true });
  const r = c.step({ kind: 'shutdown', now: 400 });
  t.same(vipActions(r).map((a) => [a.present, cidrs(a.vips)]), [[false, ALL]]);
  const done = c.step({ kind: 'vipResult', now: 405, group: 'nat', present: false, ok: true });
  t.ok(done.actions.some((a) => a.kind === 'exit'));
});

t.test('a LevIP group adds its one VIP to lo and announces it on its interface', async (t) => {
  const lev = group('lev', 150, { mode: 'levip', levip: { period: 1000, guard: 100, repeat: 250, weight: 1 }, vips: [{ vip: OUT, iface: 'eth0' }] });
  const c = core({ groups: [lev] });
  t.same(vipActions(c.step({ kind: 'start', now: 0 })).map((a) => cidrs(a.vips)), [['198.51.100.100/32@lo']]);
});

t.test('reload: the same VIPs in another order keep the group; one VIP more, less or moved replaces it', async (t) => {
  const up = () => {
    const c = core();
    claiming(c);
    c.step({ kind: 'vipResult', now: 304, group: 'nat', present: true, ok: true });
    return c;
  };
  const reload = (c: Core, vips: VipPlacement[]) => c.step({ kind: 'reconfigure', now: 500, options: { interval: 50, deadTime: 150, initDead: 300, expectedPeers: 0, groups: [nat(vips)] } });

  const same = up();
  const gid = same.groups[0]!.id;
  const r = reload(same, [NAT[2]!, NAT[0]!, NAT[1]!]);
  t.equal(same.groups[0]!.id, gid, 'kept');
  t.equal(same.groups[0]!.state, 'active', 'no flap');
  t.same(vipActions(r), [], 'nothing added or removed');

  for (const [what, vips] of [
    ['a VIP added', [...NAT, { vip: { address: '203.0.113.2', prefix: 24, family: 4 as const }, iface: 'eth1' }]],
    ['a VIP removed', NAT.slice(0, 2)],
    ['a VIP moved to another interface', [NAT[0]!, { vip: GW, iface: 'eth2' }, NAT[2]!]],
  ] as const) {
    const c = up();
    const old = c.groups[0]!.id;
    const rr = reload(c, [...vips]);
    t.not(c.groups[0]!.id, old, `${what}: replaced`);
    t.equal(c.groups[0]!.state, 'init', `${what}: the new group starts over`);
    t.same(
      vipActions(rr).map((a) => [a.gid === old ? 'old' : 'new', a.present, cidrs(a.vips)]),
      [
        ['new', false, cidrs(vips)],
        ['old', false, ALL],
      ],
      `${what}: every old VIP released, the new set cleared before any claim`,
    );
  }
});

const TIMING: DetectTiming = { interval: 5000, fastDetections: 1, fastGap: 50 };

t.test('conflict probes: one per VIP (IPv6 too) on its interface; the round ends with its last result; a conflict re-announces that VIP', async (t) => {
  const c = core({ detect: TIMING });
  claiming(c);
  c.step({ kind: 'vipResult', now: 304, group: 'nat', present: true, ok: true });
  const probes = c.step({ kind: 'tick', now: 354 }).actions.filter((a): a is Extract<Action, { kind: 'detect' }> => a.kind === 'detect');
  t.same(probes.map((a) => `${a.vip.address}@${a.iface}`), ['198.51.100.100@eth0', '203.0.113.1@eth1', '2001:db8::100@eth0'], 'every VIP, both families');
  const gid = probes[0]!.gid;
  const first = c.step({ kind: 'detectResult', now: 400, group: 'nat', gid, macs: [], address: OUT.address });
  c.step({ kind: 'detectResult', now: 450, group: 'nat', gid, macs: [], address: V6.address });
  t.equal(c.step({ kind: 'tick', now: 6000 }).actions.filter((a) => a.kind === 'detect').length, 0, 'no new round while one probe is still out');
  t.same(announces(first), []);
  const second = c.step({ kind: 'detectResult', now: 6001, group: 'nat', gid, macs: ['02:00:00:00:00:99'], address: GW.address });
  t.match(second.notes, [{ level: 'error', msg: /VIP CONFLICT: 203\.0\.113\.1 is also answered by 02:00:00:00:00:99/ }]);
  t.same(announces(second).map((a) => [a.reason, cidrs(a.vips)]), [['conflict', ['203.0.113.1/24@eth1']]]);
  const next = c.step({ kind: 'tick', now: 6001 + TIMING.interval }).actions.filter((a) => a.kind === 'detect');
  t.equal(next.length, 3, 'the next round after the interval, counted from the round end');
  const v6 = c.step({ kind: 'detectResult', now: 11_100, group: 'nat', gid, macs: ['02:00:00:00:00:98'], address: V6.address });
  t.match(v6.notes, [{ level: 'error', msg: /VIP CONFLICT: 2001:db8::100 is also answered by 02:00:00:00:00:98/ }]);
  t.same(announces(v6).map((a) => [a.reason, cidrs(a.vips)]), [['conflict', ['2001:db8::100/128@eth0']]], 'only the IPv6 VIP re-announced');
});

/**
 * mode: bgp in the core. active-standby: the ordinary election decides, the winner's VIPs go
 * on bgp.device, and nothing is announced by ARP or probed (the routing daemon announces).
 * ecmp: every eligible member installs the VIPs whatever the peers do; a failed check,
 * maintenance and an operator standby withdraw the member, takeover brings it back.
 */
import t from 'tap';
import { Core } from '../../src/core/election.js';
import type { Action, CoreOptions, DetectTiming, StepResult } from '../../src/core/types.js';
import type { BgpStyle, GroupConfig } from '../../src/config/types.js';
import type { Message } from '../../src/wire/types.js';
import { group } from '../scenarios/sim.js';

const VIP = { address: '203.0.113.100', prefix: 32, family: 4 as const };
const DETECT: DetectTiming = { interval: 100, fastDetections: 2, fastGap: 10 };

function bgpGroup(style: BgpStyle, priority = 150): GroupConfig {
  return group('svc', priority, { mode: 'bgp', vip: VIP, vips: [{ vip: VIP, iface: 'eth0' }], bgp: { style, device: 'haagent0', daemon: null, poll: 2000 } });
}

function core(style: BgpStyle, extra: Partial<CoreOptions> = {}): Core {
  return new Core({ node: 'd0', interval: 50, deadTime: 150, initDead: 300, expectedPeers: 1, groups: [bgpGroup(style)], detect: DETECT, ...extra });
}

const vipActions = (r: StepResult) => r.actions.filter((a): a is Extract<Action, { kind: 'ensureVip' }> => a.kind === 'ensureVip');
const kinds = (r: StepResult) => r.actions.map((a) => a.kind);

function hb(state: 'standby' | 'active', priority: number, seq: bigint, now: number): { kind: 'message'; now: number; msg: Message; address: string; port: number } {
  const msg: Message = { type: 'heartbeat', cluster: 'c', node: 'd1', bootId: 1n, seq, intervalMs: 50, groups: [{ name: 'svc', state, priority, reach: 0 }] };
  return { kind: 'message', now, msg, address: '198.51.100.11', port: 694 };
}

/** Start, with the leftovers cleared. */
function started(c: Core): void {
  c.step({ kind: 'start', now: 0 });
  c.step({ kind: 'vipResult', now: 1, group: 'svc', present: false, ok: true });
}

t.test('active-standby: the winner puts the VIP on bgp.device, and sends no ARP and no probe', async (t) => {
  const c = core('active-standby', { expectedPeers: 0 });
  const first = new Core({ node: 'd0', interval: 50, deadTime: 150, initDead: 300, expectedPeers: 0, groups: [bgpGroup('active-standby')] }).step({ kind: 'start', now: 0 });
  t.same(vipActions(first).map((a) => [a.present, a.vips.map((p) => p.iface)]), [[false, ['haagent0']]], 'start-up clears the device');
  started(c);
  const claim = c.step({ kind: 'tick', now: 300 });
  t.same(vipActions(claim).map((a) => [a.present, a.vips.map((p) => `${p.vip.address}/${p.vip.prefix}@${p.iface}`)]), [[true, ['203.0.113.100/32@haagent0']]]);
  const up = c.step({ kind: 'vipResult', now: 305, group: 'svc', present: true, ok: true });
  t.equal(c.advertised(c.groups[0]!).state, 'active');
  t.notOk(kinds(up).includes('announce'), 'no gratuitous ARP');
  for (let now = 310; now <= 1000; now += 10) t.notOk(kinds(c.step({ kind: 'tick', now })).includes('detect'), `no conflict probe at ${now}`);
});

t.test('active-standby: a better active peer keeps the VIP off this node', async (t) => {
  const c = core('active-standby');
  started(c);
  let seq = 1n;
  for (let now = 10; now <= 1000; now += 40) {
    const r = c.step(hb('active', 200, seq++, now));
    t.same(vipActions(r).filter((a) => a.present), [], `nothing installed at ${now}`);
  }
  t.equal(c.groups[0]!.state, 'standby');
});

t.test('active-standby: the standby takes over when the active peer falls silent', async (t) => {
  const c = core('active-standby');
  started(c);
  c.step(hb('active', 200, 1n, 10));
  c.step(hb('active', 200, 2n, 50));
  const r = c.step({ kind: 'tick', now: 400 });
  t.equal(c.groups[0]!.state, 'active');
  t.same(vipActions(r).map((a) => a.present), [true]);
});

t.test('ecmp: a member installs the VIP although a peer is active, and stays when it outranks us', async (t) => {
  const c = core('ecmp');
  started(c);
  let seq = 1n;
  const r = c.step(hb('active', 250, seq++, 10));
  t.equal(c.groups[0]!.state, 'active', 'an active peer does not keep an ecmp member out');
  t.same(vipActions(r).map((a) => a.present), [true]);
  const up = c.step({ kind: 'vipResult', now: 15, group: 'svc', present: true, ok: true });
  t.notOk(kinds(up).includes('announce'));
  for (let now = 50; now <= 1000; now += 40) {
    const s = c.step(hb('active', 250, seq++, now));
    t.same(vipActions(s), [], `no withdrawal at ${now}`);
  }
  t.equal(c.groups[0]!.state, 'active');
});

/** An ecmp member with its VIP in place and an active peer heard up to `until`. */
function ecmpUp(): { c: Core; beat: (now: number) => StepResult } {
  const c = core('ecmp');
  started(c);
  let seq = 1n;
  const beat = (now: number) => c.step(hb('active', 150, seq++, now));
  beat(10);
  c.step({ kind: 'vipResult', now: 15, group: 'svc', present: true, ok: true });
  return { c, beat };
}

t.test('ecmp: a failing fault check withdraws at once; its recovery brings the VIP back', async (t) => {
  const { c, beat } = ecmpUp();
  const r = c.step({ kind: 'health', now: 20, group: 'svc', penalty: 0, fault: 'check web failed', reach: 0 });
  t.same(r.transitions.map((x) => x.to), ['fault']);
  t.same(vipActions(r).map((a) => a.present), [false], 'the VIP comes off: the daemon withdraws the route');
  c.step({ kind: 'vipResult', now: 22, group: 'svc', present: false, ok: true });
  const ok = c.step({ kind: 'health', now: 100, group: 'svc', penalty: 0, fault: null, reach: 0 });
  t.same(vipActions(ok).map((a) => a.present), [true], 'installed again once healthy: no election to wait for');
  t.same(vipActions(beat(110)), [], 'and only once');
});

t.test('ecmp: maintenance and operator standby withdraw the member; takeover brings it back', async (t) => {
  const { c, beat } = ecmpUp();
  c.step({ kind: 'command', now: 20, command: { op: 'maintenance', on: true } });
  const off = beat(50);
  t.equal(c.groups[0]!.state, 'standby', 'handed over: the peer is active');
  t.same(vipActions(off).map((a) => a.present), [false]);
  c.step({ kind: 'vipResult', now: 52, group: 'svc', present: false, ok: true });
  const on = c.step({ kind: 'command', now: 60, command: { op: 'maintenance', on: false } });
  t.same(vipActions(on).map((a) => a.present), [true], 'back in');
  c.step({ kind: 'vipResult', now: 92, group: 'svc', present: true, ok: true });
  const sb = c.step({ kind: 'command', now: 100, command: { op: 'standby', group: 'svc' } });
  t.match(sb.reply, { ok: true });
  const gone = beat(130);
  t.same(vipActions(gone).map((a) => a.present), [false], 'standby withdraws');
  c.step({ kind: 'vipResult', now: 132, group: 'svc', present: false, ok: true });
  for (let now = 170; now <= 500; now += 40) t.same(vipActions(beat(now)), [], `stays out at ${now}`);
  const tk = c.step({ kind: 'command', now: 510, command: { op: 'takeover', group: 'svc' } });
  t.match(tk.reply, { ok: true, message: /joining the ecmp members/ });
  t.equal(c.advertised(c.groups[0]!).priority, 150, 'no boost: there is no election to win');
  t.same(vipActions(tk).map((a) => a.present), [true]);
});

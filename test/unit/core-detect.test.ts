/**
 * VIP conflict probing decided in the core (src/core/detect.ts): when `detect` actions are
 * asked for, how a term's fast detections give way to the steady interval, what a result
 * with answers, without answers or with an error does, and when no probe is asked for at all.
 */
import t from 'tap';
import { Core } from '../../src/core/election.js';
import type { Action, CoreOptions, DetectTiming, Input, StepResult } from '../../src/core/types.js';
import type { Message } from '../../src/wire/types.js';
import { group } from '../scenarios/sim.js';

const TIMING: DetectTiming = { interval: 5000, fastDetections: 3, fastGap: 50 };
const ROGUE = '02:00:00:00:00:99';

function core(extra: Partial<CoreOptions> = {}): Core {
  return new Core({ node: 'd0', interval: 50, deadTime: 150, initDead: 300, expectedPeers: 0, groups: [group('web', 150)], detect: TIMING, ...extra });
}

const detects = (r: StepResult): Extract<Action, { kind: 'detect' }>[] => r.actions.filter((a): a is Extract<Action, { kind: 'detect' }> => a.kind === 'detect');
const result = (now: number, gid: number, macs: string[] = [], error?: string): Input => (error === undefined ? { kind: 'detectResult', now, group: 'web', gid, macs } : { kind: 'detectResult', now, group: 'web', gid, macs, error });

/** Alone, init-dead over, VIP added at 304: active with the VIP in place. */
function activeAt304(c: Core): StepResult {
  c.step({ kind: 'start', now: 0 });
  c.step({ kind: 'vipResult', now: 1, group: 'web', present: false, ok: true });
  c.step({ kind: 'tick', now: 300 });
  return c.step({ kind: 'vipResult', now: 304, group: 'web', present: true, ok: true });
}

t.test('a term: the first probe fastGap after the VIP is in place, the fast ones back to back, then every interval', async (t) => {
  const c = core();
  const up = activeAt304(c);
  t.same(detects(up), [], 'no probe the moment the VIP lands (a handing-over old owner still has it)');
  t.ok(up.wakeAt !== null && up.wakeAt <= 354, `woken by 354 for the first probe (wakeAt ${up.wakeAt})`);
  t.same(detects(c.step({ kind: 'tick', now: 353 })), [], 'not before it is due');
  const first = detects(c.step({ kind: 'tick', now: 354 }));
  t.match(first, [{ kind: 'detect', group: 'web', vip: { address: '198.51.100.100' }, iface: 'eth0' }], 'one probe when due');
  const gid = first[0]!.gid;
  t.same(detects(c.step({ kind: 'tick', now: 900 })), [], 'never two at once: the result schedules the next');
  // After each result the next probe is due after the gap the term is at: found by ticking
  // (wakeAt is also pulled in by the heartbeat schedule, so it alone does not show the gap).
  const gaps: number[] = [];
  let now = 1354;
  let id = gid;
  for (const gap of [50, 50, 5000, 5000]) {
    t.same(detects(c.step(result(now, id))), [], 'a result asks for no probe at once');
    t.same(detects(c.step({ kind: 'tick', now: now + gap - 1 })), [], `nothing ${gap - 1} ms after the result`);
    const next = detects(c.step({ kind: 'tick', now: now + gap }));
    t.equal(next.length, 1, `the next probe ${gap} ms after the result`);
    if (next.length === 1) gaps.push(gap);
    id = next[0]?.gid ?? id;
    now += gap + 1000;
  }
  t.same(gaps, [50, 50, 5000, 5000], 'three fast in all (the first and two more), then the interval');
  t.equal(c.groups[0]!.conflicts, 0, 'nobody answered: no conflict');
});

t.test('answers while active are a conflict: counted, logged, re-announced in both forms', async (t) => {
  const c = core();
  activeAt304(c);
  const gid = detects(c.step({ kind: 'tick', now: 354 }))[0]!.gid;
  const r = c.step(result(1354, gid, [ROGUE]));
  t.match(r.actions.find((a) => a.kind === 'announce'), { kind: 'announce', reason: 'conflict', garp: { form: 'both' } });
  t.equal(c.groups[0]!.conflicts, 1);
  t.same(c.groups[0]!.lastConflict, { macs: [ROGUE], at: 1354 });
  t.match(r.notes, [{ level: 'error', msg: /VIP CONFLICT: 198\.51\.100\.100 is also answered by 02:00:00:00:00:99/ }]);
});

t.test('a result that comes when the group no longer holds the VIP is no conflict', async (t) => {
  const c = core({ expectedPeers: 1 });
  activeAt304(c);
  const gid = detects(c.step({ kind: 'tick', now: 354 }))[0]!.gid;
  // A better peer is active: we yield, and the probe's answer is that peer's, not a rogue's.
  const hb: Message = { type: 'heartbeat', cluster: 'c', node: 'd1', bootId: 1n, seq: 1n, intervalMs: 50, groups: [{ name: 'web', state: 'active', priority: 200, reach: 0 }] };
  c.step({ kind: 'message', now: 400, msg: hb, address: '198.51.100.11', port: 694 });
  t.ok(c.groups[0]!.release !== null, 'handing over to the better active peer');
  const r = c.step(result(1354, gid, ['02:00:00:00:00:11']));
  t.equal(c.groups[0]!.conflicts, 0, 'not counted');
  t.notOk(r.actions.some((a) => a.kind === 'announce'), 'nothing re-announced');
});

t.test('a probe that gives no evidence is logged once per term and changes nothing', async (t) => {
  const c = core();
  activeAt304(c);
  let gid = detects(c.step({ kind: 'tick', now: 354 }))[0]!.gid;
  const r1 = c.step(result(1354, gid, [], 'arping -D: exit 2: bad interface'));
  t.match(r1.notes, [{ level: 'warn', msg: /conflict probe failed: arping -D: exit 2: bad interface/ }]);
  t.equal(c.groups[0]!.conflicts, 0);
  const next = detects(c.step({ kind: 'tick', now: r1.wakeAt! }));
  t.equal(next.length, 1, 'probing goes on');
  gid = next[0]!.gid;
  const r2 = c.step(result(r1.wakeAt! + 1000, gid, [], 'arping -D: exit 2: bad interface'));
  t.same(r2.notes, [], 'the same error again: not logged again');
});

t.test('no probes: without a detector, before active, while handing over, for LevIP', async (t) => {
  const none = core({ detect: null });
  activeAt304(none);
  const steps = [354, 1000, 6000].map((now) => none.step({ kind: 'tick', now }));
  t.same(steps.flatMap(detects), [], 'no detector: never asked');

  const c = core();
  c.step({ kind: 'start', now: 0 });
  t.same(detects(c.step({ kind: 'tick', now: 200 })), [], 'init: nothing to defend');

  const leaving = core({ expectedPeers: 1 });
  activeAt304(leaving);
  const hb: Message = { type: 'heartbeat', cluster: 'c', node: 'd1', bootId: 1n, seq: 1n, intervalMs: 50, groups: [{ name: 'web', state: 'standby', priority: 100, reach: 0 }] };
  leaving.step({ kind: 'message', now: 310, msg: hb, address: '198.51.100.11', port: 694 });
  leaving.step({ kind: 'command', now: 320, command: { op: 'standby' } });
  t.ok(leaving.groups[0]!.release !== null, 'handing over to d1');
  t.same(detects(leaving.step({ kind: 'tick', now: 400 })), [], 'handing over: the successor will answer, by design');

  const lev = core({ groups: [group('web', 150, { mode: 'levip', levip: { period: 1000, guard: 100, repeat: 250, weight: 1 } })] });
  activeAt304(lev);
  t.same(detects(lev.step({ kind: 'tick', now: 400 })), [], 'LevIP: every member holds the IP');
});

t.test('an IPv6 VIP is probed like an IPv4 one; its conflict names it and re-announces it', async (t) => {
  const v6 = { address: '2001:db8::100', prefix: 64, family: 6 as const };
  const c = core({ groups: [group('web', 150, { vip: v6 })] });
  activeAt304(c);
  const asked = detects(c.step({ kind: 'tick', now: 354 }));
  t.match(asked, [{ kind: 'detect', group: 'web', vip: v6 }], 'one detection, of the IPv6 VIP');
  const r = c.step({ ...result(1354, asked[0]!.gid, [ROGUE]), address: v6.address } as Input);
  t.match(r.notes, [{ level: 'error', msg: /VIP CONFLICT: 2001:db8::100 is also answered by 02:00:00:00:00:99/ }]);
  t.match(r.actions.find((a) => a.kind === 'announce'), { kind: 'announce', reason: 'conflict', vips: [{ vip: v6 }] }, 'the IPv6 VIP re-announced');
  t.equal(c.groups[0]!.conflicts, 1, 'counted');
  t.same(c.groups[0]!.lastConflict?.macs, [ROGUE], 'the MAC kept for status');
});

t.test('a new term (active again after maintenance) starts the fast probes again', async (t) => {
  const c = core();
  activeAt304(c);
  let gid = detects(c.step({ kind: 'tick', now: 354 }))[0]!.gid;
  let now = 1354;
  for (let i = 0; i < 3; i++) {
    c.step(result(now, gid));
    const gap = i < 2 ? 50 : 5000;
    gid = detects(c.step({ kind: 'tick', now: now + gap }))[0]!.gid;
    now += gap + 1000;
  }
  c.step(result(now, gid));
  t.same(detects(c.step({ kind: 'tick', now: now + 50 })), [], 'the term is in its steady interval');
  // Maintenance with nobody to hand over to releases at once; off again, we take it back.
  c.step({ kind: 'command', now: now + 100, command: { op: 'maintenance', on: true } });
  c.step({ kind: 'vipResult', now: now + 101, group: 'web', present: false, ok: true });
  t.equal(c.groups[0]!.state, 'standby', 'released');
  c.step({ kind: 'command', now: now + 200, command: { op: 'maintenance', on: false } });
  c.step({ kind: 'tick', now: now + 600 });
  t.equal(c.groups[0]!.state, 'active', 'active again');
  c.step({ kind: 'vipResult', now: now + 610, group: 'web', present: true, ok: true });
  t.same(detects(c.step({ kind: 'tick', now: now + 659 })), [], 'not before fastGap');
  const first = detects(c.step({ kind: 'tick', now: now + 660 }));
  t.equal(first.length, 1, 'the first probe of the new term fastGap after the VIP is back');
  c.step(result(now + 1660, first[0]!.gid));
  t.equal(detects(c.step({ kind: 'tick', now: now + 1710 })).length, 1, 'and the fast ones follow');
});

t.test('no probe while a peer still advertises the group active (an old owner handing over to us)', async (t) => {
  const c = core({ expectedPeers: 1 });
  const d1 = (seq: bigint, state: 'active' | 'standby', priority: number): Input => ({
    kind: 'message', now: 0, msg: { type: 'heartbeat', cluster: 'c', node: 'd1', bootId: 1n, seq, intervalMs: 50, groups: [{ name: 'web', state, priority, reach: 0 }] }, address: '198.51.100.11', port: 694,
  });
  c.step({ kind: 'start', now: 0 });
  c.step({ kind: 'vipResult', now: 1, group: 'web', present: false, ok: true });
  c.step({ ...d1(1n, 'active', 100), now: 10 } as Input);
  t.equal(c.groups[0]!.state, 'active', 'we preempt the lower d1');
  c.step({ kind: 'vipResult', now: 20, group: 'web', present: true, ok: true });
  c.step({ ...d1(2n, 'active', 0), now: 30 } as Input); // releasing: still serving for its grace
  t.same(detects(c.step({ kind: 'tick', now: 70 })), [], 'due, but d1 still says active: wait');
  t.same(detects(c.step({ kind: 'tick', now: 120 })), [], 'still waiting');
  c.step({ ...d1(3n, 'standby', 100), now: 140 } as Input);
  const probe = [150, 170, 200].flatMap((now) => detects(c.step({ kind: 'tick', now })));
  t.equal(probe.length, 1, 'once d1 says standby, the probe goes out');
  const r = c.step(result(1200, probe[0]!.gid, ['02:00:00:00:00:11']));
  t.equal(c.groups[0]!.conflicts, 1, 'an answer after d1 let go is a conflict (it did not release its address)');
  t.match(r.notes, [{ level: 'error', msg: /VIP CONFLICT/ }]);
});

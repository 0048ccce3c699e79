// A path whose host refused our datagram (a verified ICMP port unreachable) is sent to once
// every refusedResend, not every heartbeat, until its peer speaks again (core/quiet.ts):
// the peer kernel's ICMP budget is kept for the next crash.
import t from 'tap';
import { Core } from '../../src/core/election.js';
import type { Action, StepResult } from '../../src/core/types.js';
import type { Message } from '../../src/wire/types.js';
import { group } from '../scenarios/sim.js';
import { DEFAULTS } from '../../src/config/defaults.js';

const D1 = '198.51.100.11';

function hb(seq: bigint, bootId = 1n): Message {
  return { type: 'heartbeat', cluster: 'c', node: 'd1', bootId, seq, intervalMs: 50, groups: [{ name: 'web', state: 'active', priority: 150, reach: 0 }] };
}

function sends(r: StepResult): Extract<Action, { kind: 'send' }>[] {
  return r.actions.filter((a): a is Extract<Action, { kind: 'send' }> => a.kind === 'send');
}

/** d0 (standby, lower priority) hearing d1 until 110. */
function hearing(): Core {
  const c = new Core({ node: 'd0', interval: 50, deadTime: 150, initDead: 300, expectedPeers: 1, groups: [group('web', 100)] });
  c.step({ kind: 'start', now: 0 });
  c.step({ kind: 'vipResult', now: 1, group: 'web', present: false, ok: true });
  for (let at = 10, seq = 1n; at <= 110; at += 50, seq++) c.step({ kind: 'message', now: at, msg: hb(seq), address: D1, port: 694 });
  return c;
}

/** ...then d1's host refuses our heartbeat at 120. */
function refused(): { c: Core; first: StepResult } {
  const c = hearing();
  const first = c.step({ kind: 'unreachable', now: 120, address: D1, verified: true });
  return { c, first };
}

/** Every send from `from` to `to` (ticks each ms), with whether it skipped d1. */
function run(c: Core, from: number, to: number): { at: number; skipped: boolean }[] {
  const out: { at: number; skipped: boolean }[] = [];
  for (let now = from; now <= to; now++) {
    for (const s of sends(c.step({ kind: 'tick', now }))) out.push({ at: now, skipped: (s.skip ?? []).includes(D1) });
  }
  return out;
}

t.test('before any refusal nothing is skipped', async (t) => {
  const out = run(hearing(), 111, 400);
  t.ok(out.length >= 5, `heartbeats went out (${out.length})`);
  t.ok(out.every((s) => !s.skipped), 'to d1 every time');
});

t.test('a refused path gets one datagram every refusedResend, the others none', async (t) => {
  const { c, first } = refused();
  t.same(first.transitions.map((x) => x.to), ['active'], 'd1 dead at once: we took over');
  const out = run(c, 121, 121 + 2 * DEFAULTS.election.refusedResend + 100);
  t.ok(out.length >= 80, `the sends go on (to other peers and multicast) (${out.length} sends)`);
  const reached = out.filter((s) => !s.skipped).map((s) => s.at);
  t.equal(reached.length, 3, 'd1 got the first send after the refusal and one every 2 s', { reached });
  for (let i = 1; i < reached.length; i++) t.ok(reached[i]! - reached[i - 1]! >= DEFAULTS.election.refusedResend, 'never sooner than refusedResend apart');
});

t.test('a restarted peer (new boot id) is sent to on every heartbeat again', async (t) => {
  const { c } = refused();
  run(c, 121, 600);
  const back = c.step({ kind: 'message', now: 601, msg: hb(1n, 2n), address: D1, port: 694 });
  t.ok(sends(back).every((s) => s.skip === undefined), 'answered at once, to d1 too');
  t.ok(run(c, 602, 900).every((s) => !s.skipped), 'and every heartbeat after');
});

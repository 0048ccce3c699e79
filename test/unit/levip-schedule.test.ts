/**
 * LevIP schedule (src/core/levip/schedule.ts): slots, the owner's announce instants, the guard
 * rule, joins, and the clock-offset bound simulated with two nodes whose wall clocks differ.
 * Time is a number passed in; nothing sleeps.
 */
import t from 'tap';
import fc from 'fast-check';
import {
  announceOffsets,
  joinSlot,
  JOIN_LEAD_SLOTS,
  plan,
  slotOf,
  timingProblems,
  upcoming,
  type Member,
  type Timing,
} from '../../src/core/levip/schedule.js';
import type { Millis } from '../../src/config/types.js';

const T: Timing = { period: 2000, guard: 250, repeat: 500 };
const PAIR: Member[] = [
  { node: 'a', weight: 1, since: 0 },
  { node: 'b', weight: 1, since: 0 },
];
/** The slack S of schedule.ts's header: the period minus the owner's last announce offset. */
function clockSlack(tm: Timing): Millis {
  return tm.period - announceOffsets(tm).at(-1)!;
}

/** The header's overlap for clock offset d (either sign): |d| - S, never below 0. */
function announceOverlap(d: Millis, tm: Timing): Millis {
  return Math.max(0, Math.abs(d) - clockSlack(tm));
}

/** The header's stale announcements: the previous owner's offsets at or after period - |d|. */
function staleAnnouncements(d: Millis, tm: Timing): number {
  return announceOffsets(tm).filter((a) => a >= tm.period - Math.abs(d)).length;
}

/** A wall-clock instant in the present era, on a slot boundary owned by 'a' (even slot). */
const EPOCH = 1_750_000_000_000;

t.test('slots are floor(wall / period) on the shared epoch', async (t) => {
  t.equal(slotOf(0, 2000), 0);
  t.equal(slotOf(1999, 2000), 0);
  t.equal(slotOf(2000, 2000), 1);
  t.equal(slotOf(EPOCH, 2000), EPOCH / 2000);
});

t.test('the owner announces at slot start and every repeat ms, never in the last guard ms', async (t) => {
  t.same(announceOffsets(T), [0, 500, 1000, 1500]);
  t.same(announceOffsets({ period: 2000, guard: 500, repeat: 500 }), [0, 500, 1000], '1500 is inside the guard');
  t.same(announceOffsets({ period: 2000, guard: 0, repeat: 5000 }), [0], 'repeat longer than a slot: once');
  const timing = fc
    .record({ period: fc.integer({ min: 2, max: 60_000 }), repeat: fc.integer({ min: 1, max: 60_000 }), g: fc.double({ min: 0, max: 0.5, noNaN: true }) })
    .map(({ period, repeat, g }) => ({ period, repeat, guard: Math.floor(g * period) }));
  fc.assert(
    fc.property(timing, fc.integer({ min: 0, max: 1e13 }), (tm, now) => {
      const p = plan(now, 'a', [{ node: 'a', weight: 1, since: 0 }], tm);
      const gapsOk = p.announceAt.every((at, i) => i === 0 || at - p.announceAt[i - 1]! === tm.repeat);
      return (
        p.iOwn &&
        p.announceAt[0] === p.slotStart &&
        gapsOk &&
        p.announceAt.every((at) => at < p.quietFrom) &&
        p.announceAt.length === Math.ceil((tm.period - tm.guard) / tm.repeat) &&
        clockSlack(tm) > tm.guard
      );
    }),
    { seed: 5, numRuns: 300 },
  );
});

t.test('plan tells the owner when to send and everyone when to wake', async (t) => {
  const s = EPOCH;
  const mine = plan(s + 700, 'a', PAIR, T);
  t.same(
    { ...mine },
    {
      slot: s / 2000,
      owner: 'a',
      iOwn: true,
      slotStart: s,
      slotEnd: s + 2000,
      nextBoundary: s + 2000,
      quietFrom: s + 1750,
      announceAt: [s, s + 500, s + 1000, s + 1500],
      nextAnnounce: s + 1000,
      wakeAt: s + 1000,
    },
  );
  t.equal(plan(s, 'a', PAIR, T).nextAnnounce, s, 'an instant due now is still next');
  const late = plan(s + 1600, 'a', PAIR, T);
  t.equal(late.nextAnnounce, null, 'nothing left in the guard');
  t.equal(late.wakeAt, s + 2000);
  const other = plan(s + 700, 'b', PAIR, T);
  t.equal(other.owner, 'a');
  t.notOk(other.iOwn);
  t.same(other.announceAt, []);
  t.equal(other.wakeAt, s + 2000, 'a non-owner only wakes for the boundary');
  t.equal(plan(s + 2000, 'b', PAIR, T).iOwn, true, 'the next slot is b');
  t.equal(plan(s, 'z', [], T).owner, null, 'no members, no owner');
});

t.test('bad timings are refused', async (t) => {
  t.same(timingProblems(T), []);
  t.match(timingProblems({ period: 2000, guard: 1001, repeat: 500 }).join(), /at most half the period/);
  t.match(timingProblems({ period: 1, guard: 0, repeat: 500 }).join(), /period 1/);
  t.match(timingProblems({ period: 2000, guard: -1, repeat: 500 }).join(), /guard -1/);
  t.match(timingProblems({ period: 2000, guard: 0, repeat: 0 }).join(), /repeat 0/);
  t.match(timingProblems({ period: Number.NaN, guard: 0, repeat: 1 }).join(), /period NaN/);
  t.throws(() => plan(EPOCH, 'a', PAIR, { period: 2000, guard: 1500, repeat: 500 }), RangeError);
  t.throws(() => plan(EPOCH, 'a', [...PAIR, PAIR[0]!], T), RangeError, 'duplicate member');
});

t.test('joins: since comes more than one full slot after the join instant', async (t) => {
  t.equal(JOIN_LEAD_SLOTS, 2);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 1e13 }), fc.integer({ min: 2, max: 60_000 }), (now, period) => {
      const lead = joinSlot(now, period) * period - now;
      return lead > period && lead <= 2 * period;
    }),
    { seed: 3, numRuns: 300 },
  );
  // why the joiner's own since must travel in its heartbeat instead of each node computing
  // it on receipt: two receptions 2 ms apart across a boundary give different answers
  t.not(joinSlot(EPOCH - 1, 2000), joinSlot(EPOCH + 1, 2000));
  const joiner: Member = { node: 'c', weight: 1, since: joinSlot(EPOCH + 1999, 2000) };
  t.notOk(upcoming(EPOCH, [...PAIR, joiner], 2, 2000).some((u) => u.owner === 'c'), 'not in the next two slots');
});

t.test('upcoming lists the current slot and those after it', async (t) => {
  const list = upcoming(EPOCH + 1234, PAIR, 4, 2000);
  t.same(
    list.map((u) => u.owner),
    ['a', 'b', 'a', 'b'],
  );
  t.same(list[0], { slot: EPOCH / 2000, start: EPOCH, end: EPOCH + 2000, owner: 'a' });
  t.ok(list.every((u, i) => i === 0 || u.start === list[i - 1]!.end));
  t.same(upcoming(EPOCH, PAIR, 0, 2000), []);
  t.throws(() => upcoming(EPOCH, PAIR, 1001, 2000), RangeError);
  t.throws(() => upcoming(EPOCH, PAIR, 2, 0), RangeError);
});

// ---- two nodes whose wall clocks differ by d ms ----

interface Shot {
  node: string;
  slot: number;
  real: number;
}

/** Every announcement two nodes make over `slots` slots, in true time; b's clock runs d ms ahead of a's. */
function shots(d: number, slots: number, timing: Timing): Shot[] {
  const out: Shot[] = [];
  for (const [node, skew] of [['a', 0], ['b', d]] as const) {
    for (let k = EPOCH / timing.period; k < EPOCH / timing.period + slots; k++) {
      // the node's own clock reads k * period at the start of its slot k
      for (const at of plan(k * timing.period, node, PAIR, timing).announceAt) out.push({ node, slot: k, real: at - skew });
    }
  }
  return out.sort((x, y) => x.real - y.real);
}

/**
 * Per handover: how long the old owner kept announcing after the new one began, how many
 * times, and the longest time the router's cache (the last announcer) pointed back at it.
 */
function measure(all: readonly Shot[]): { overlap: number; stale: number; misdirected: number } {
  let overlap = 0;
  let stale = 0;
  let misdirected = 0;
  const slots = [...new Set(all.map((s) => s.slot))].sort((x, y) => x - y);
  for (const k of slots.slice(1, -1)) {
    const prev = all.filter((s) => s.slot === k - 1);
    const next = all.filter((s) => s.slot === k);
    const firstNew = next[0]!.real;
    overlap = Math.max(overlap, prev[prev.length - 1]!.real - firstNew);
    const late = prev.filter((s) => s.real >= firstNew);
    stale = Math.max(stale, late.length);
    for (const s of late) {
      const back = next.find((n) => n.real > s.real);
      misdirected = Math.max(misdirected, (back?.real ?? Infinity) - s.real);
    }
  }
  return { overlap: Math.max(0, overlap), stale, misdirected };
}

t.test('clock offset below the slack: announcements never interleave (d <= guard is always safe)', async (t) => {
  const slack = clockSlack(T);
  t.equal(slack, 500, 'last announce at 1500 of 2000');
  for (const d of [0, 1, 100, T.guard, slack - 1, -(slack - 1)]) {
    const m = measure(shots(d, 8, T));
    t.same(m, { overlap: 0, stale: 0, misdirected: 0 }, `d=${d}`);
    t.equal(announceOverlap(d, T), 0);
    t.equal(staleAnnouncements(d, T), 0);
  }
});

t.test('clock offset above the slack: the stated overlap is exactly what happens', async (t) => {
  for (const d of [600, 900, -900, 1100]) {
    const m = measure(shots(d, 8, T));
    t.ok(m.overlap > 0, `d=${d} overlaps (so the safe case above could fail)`);
    t.equal(m.overlap, announceOverlap(d, T), `d=${d}: overlap ${Math.abs(d)} - slack`);
    t.equal(m.stale, staleAnnouncements(d, T), `d=${d}: stale announcements`);
    t.ok(m.misdirected > 0 && m.misdirected <= T.repeat, `d=${d}: the router points back at the previous owner, until the next repeat`);
  }
  t.equal(staleAnnouncements(900, T), 1, 'below slack + repeat: at most one stale announcement');
  t.equal(staleAnnouncements(1100, T), 2);
});

t.test('with offset d both nodes believe they own the boundary region for d ms', async (t) => {
  for (const d of [0, 37, 400]) {
    let longest = 0;
    let run = 0;
    for (let real = EPOCH; real < EPOCH + 3 * T.period; real++) {
      const both = plan(real, 'a', PAIR, T).iOwn && plan(real + d, 'b', PAIR, T).iOwn;
      run = both ? run + 1 : 0;
      longest = Math.max(longest, run);
    }
    t.equal(longest, d, `d=${d}`);
  }
});

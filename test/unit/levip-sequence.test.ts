/**
 * LevIP ownership (src/core/levip/sequence.ts): weighted fairness, agreement between nodes,
 * joins and leaves, validation. Pure functions, no clock, no network.
 */
import t from 'tap';
import fc from 'fast-check';
import { eligibleAt, memberProblems, ownerOf, type Member } from '../../src/core/levip/sequence.js';

/** Members a, b, c, ... with these weights, all eligible from slot 0. */
function team(weights: readonly number[], since = 0): Member[] {
  return weights.map((weight, i) => ({ node: String.fromCharCode(97 + i), weight, since }));
}

/** Owners of `count` consecutive slots from `first`. */
function owners(first: number, count: number, members: readonly Member[]): (string | null)[] {
  return Array.from({ length: count }, (_, i) => ownerOf(first + i, members));
}

/**
 * The rotation cycle: the owners of W = sum of weights slots, from the first slot every
 * member may own (slot 0 for members eligible before it), where ownerOf reads cycle[k mod W].
 */
function cycle(members: readonly Member[]): (string | null)[] {
  const total = members.reduce((sum, m) => sum + m.weight, 0);
  return owners(Math.max(0, ...members.map((m) => m.since)), total, members);
}

function tally(seq: readonly (string | null)[]): Map<string | null, number> {
  const m = new Map<string | null, number>();
  for (const o of seq) m.set(o, (m.get(o) ?? 0) + 1);
  return m;
}

/** Largest |count - ideal| over every window of `len` slots starting in [0, W), in slots. */
function worstDeviation(members: readonly Member[], len: number): number {
  const seq = cycle(members); // ownerOf(k) === seq[k mod W] for every k is its own test below
  const total = seq.length;
  let worst = 0;
  for (let start = 0; start < total; start++) {
    const counts = tally(Array.from({ length: len }, (_, i) => seq[(start + i) % total]!));
    for (const m of members) worst = Math.max(worst, Math.abs((counts.get(m.node) ?? 0) - (len * m.weight) / total));
  }
  return worst;
}

const SHAPES = [[1, 1, 1], [2, 1, 1], [3, 2, 1]] as const;

t.test('the cycle holds each member exactly weight times (pinned for the drill shapes)', async (t) => {
  t.equal(cycle(team([1, 1, 1])).join(''), 'abc');
  t.equal(cycle(team([2, 1, 1])).join(''), 'abca');
  t.equal(cycle(team([3, 2, 1])).join(''), 'abacba');
  t.same(cycle([]), []);
  for (const shape of SHAPES) {
    const counts = tally(cycle(team(shape)));
    team(shape).forEach((m) => t.equal(counts.get(m.node), m.weight, `${shape}: ${m.node}`));
  }
});

t.test('exactly fair over any W consecutive slots, wherever the window starts', async (t) => {
  for (const shape of SHAPES) {
    const members = team(shape);
    const total = shape.reduce((a, b) => a + b, 0);
    // windows near 0, mid-range and near today's wall-clock slot index with a 2 s period
    for (const base of [0, 12_345, 870_000_000]) {
      for (let start = base; start < base + total; start++) {
        const counts = tally(owners(start, total, members));
        for (const m of members) t.equal(counts.get(m.node), m.weight, `${shape} from ${start}: ${m.node}`);
      }
    }
  }
});

t.test('every 30-slot window (60 s at a 2 s period) is within 10 points of the weight share', async (t) => {
  for (const shape of SHAPES) {
    const members = team(shape);
    const total = shape.reduce((a, b) => a + b, 0);
    let worstPoints = 0;
    for (let start = 0; start < 2 * total; start++) {
      const counts = tally(owners(start, 30, members));
      for (const m of members) {
        worstPoints = Math.max(worstPoints, Math.abs(((counts.get(m.node) ?? 0) / 30 - m.weight / total) * 100));
      }
    }
    t.ok(worstPoints <= 10, `${shape}: worst ${worstPoints.toFixed(2)} points`);
  }
});

t.test('short windows stay within 2 slots of the ideal count for random weights (fixed seed)', async (t) => {
  // Checked, not proven: SWRR keeps every window close to its ideal count. 2 slots of 30
  // are 6.7 points, inside the drill's 10.
  const weights = fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 8 });
  fc.assert(fc.property(weights, (ws) => worstDeviation(team(ws), 30) < 2), { seed: 20240611, numRuns: 200 });
  t.pass('property held');
});

t.test('member order does not matter: every node computes the same owners', async (t) => {
  const gen = fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 6 }).chain((ws) =>
    fc.tuple(fc.constant(team(ws, 3)), fc.shuffledSubarray(team(ws, 3), { minLength: ws.length, maxLength: ws.length }), fc.integer({ min: -1000, max: 1e9 })),
  );
  fc.assert(
    fc.property(gen, ([listed, shuffled, slot]) => {
      return cycle(listed).join() === cycle(shuffled).join() && owners(slot, 5, listed).join() === owners(slot, 5, shuffled).join();
    }),
    { seed: 7, numRuns: 200 },
  );
  t.same(owners(0, 6, team([3, 2, 1]).reverse()), ['a', 'b', 'a', 'c', 'b', 'a'], 'reversed list, same rotation');
});

t.test('ownerOf(slot) repeats the cycle every W slots, also for negative slots', async (t) => {
  const members = team([3, 2, 1], -100);
  const seq = cycle(members);
  for (let slot = -13; slot < 13; slot++) t.equal(ownerOf(slot, members), seq[((slot % 6) + 6) % 6], `slot ${slot}`);
  t.equal(ownerOf(5, []), null, 'no members, no owner');
  t.throws(() => ownerOf(1.5, members), RangeError);
});

t.test('a joining member owns slots only from its since', async (t) => {
  const members = [...team([1, 1]), { node: 'n', weight: 1, since: 40 }];
  const before = owners(0, 40, members);
  t.notOk(before.includes('n'), 'not before since');
  t.same(before, owners(0, 40, team([1, 1])), 'the others rotate as if it did not exist');
  const after = owners(40, 30, members);
  t.equal(tally(after).get('n'), 10, 'a full third from since on');
  t.same(eligibleAt(39, members).map((m) => m.node), ['a', 'b']);
  t.same(eligibleAt(40, members).map((m) => m.node), ['a', 'b', 'n']);
});

t.test('a member leaving at slot k owns no slot >= k; the others share all of them', async (t) => {
  const members: Member[] = [{ node: 'a', weight: 2, since: 0, until: 25 }, ...team([1, 1]).map((m, i) => ({ ...m, node: `x${i}` }))];
  const before = owners(0, 25, members);
  t.ok(before.includes('a'), 'it owned slots while a member');
  const after = owners(25, 100, members);
  t.notOk(after.includes('a'), 'none from its until on');
  t.notOk(after.includes(null), 'every slot still has an owner');
  t.same(tally(after).get('x0'), 50);
});

t.test('bad member lists are refused, with every reason', async (t) => {
  t.same(memberProblems(team([1, 100])), []);
  const bad: Member[] = [
    { node: 'a', weight: 0, since: 0 },
    { node: 'a', weight: 101, since: 0 },
    { node: '', weight: 1.5, since: Number.NaN },
    { node: 'b', weight: 1, since: 5, until: 4 },
  ];
  const problems = memberProblems(bad);
  for (const part of ['weight 0', 'listed twice', 'weight 101', 'non-empty', 'weight 1.5', 'since NaN', 'until 4']) {
    t.ok(problems.some((p) => p.includes(part)), part);
  }
  t.throws(() => ownerOf(0, bad), RangeError);
});

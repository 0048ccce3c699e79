/**
 * The lossy relay's decision (test/netns/loss.ts): drop ratio and delay bounds over many
 * seeded draws, determinism per seed, the netem-like clamping, and the summary's ratio.
 */
import t from 'tap';
import { checkModel, DEFAULT_LOSS_MODEL, delayBounds, dropRatio, fate, fates, silences, type DirectionStats, type RelaySummary } from '../../test/netns/loss.js';

const N = 100_000;

/** n fates of one seeded stream: drop ratio, delay extremes and mean. */
function draw(seed: number, n = N, model = DEFAULT_LOSS_MODEL): { dropped: number; min: number; max: number; mean: number; zeros: number } {
  const next = fates(model, seed);
  let dropped = 0;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let zeros = 0;
  for (let i = 0; i < n; i++) {
    const f = next();
    if (f.drop) {
      dropped++;
      continue;
    }
    min = Math.min(min, f.delayMs);
    max = Math.max(max, f.delayMs);
    sum += f.delayMs;
    if (f.delayMs === 0) zeros++;
  }
  return { dropped, min, max, mean: sum / (n - dropped), zeros };
}

t.test('10 % loss, 5 ms +- 5 ms: 100 000 seeded draws', async (t) => {
  for (const seed of [1, 1001, 2003, 424242]) {
    const r = draw(seed);
    t.ok(Math.abs(r.dropped / N - 0.1) <= 0.005, `seed ${seed}: drop ratio ${(r.dropped / N).toFixed(4)} within 0.100 +- 0.005`);
    t.ok(r.min >= 0 && r.max <= 10, `seed ${seed}: every delay within [0, 10] ms (${r.min.toFixed(3)}..${r.max.toFixed(3)})`);
    t.ok(r.min < 0.1 && r.max > 9.9, `seed ${seed}: the delays span the whole interval`);
    t.ok(Math.abs(r.mean - 5) < 0.1, `seed ${seed}: mean delay ${r.mean.toFixed(3)} ms is the base`);
  }
});

t.test('a seed replays the same fates; another seed does not', async (t) => {
  const a = fates(DEFAULT_LOSS_MODEL, 7);
  const b = fates(DEFAULT_LOSS_MODEL, 7);
  const c = fates(DEFAULT_LOSS_MODEL, 8);
  const xs = Array.from({ length: 1000 }, () => a());
  t.same(Array.from({ length: 1000 }, () => b()), xs);
  t.not(JSON.stringify(Array.from({ length: 1000 }, () => c())), JSON.stringify(xs));
});

t.test('edge models', async (t) => {
  t.equal(draw(3, 10_000, { loss: 0, baseMs: 5, jitterMs: 5 }).dropped, 0, 'loss 0 drops nothing');
  t.equal(draw(3, 10_000, { loss: 1, baseMs: 5, jitterMs: 5 }).dropped, 10_000, 'loss 1 drops everything');
  const fixed = draw(3, 10_000, { loss: 0, baseMs: 4, jitterMs: 0 });
  t.same([fixed.min, fixed.max], [4, 4], 'no jitter: exactly the base');
  // base 2, jitter 5: [-3, 7] clamped to [0, 7]; 3/10 of the draws land on 0 (netem clamps the same way).
  const clamped = draw(3, N, { loss: 0, baseMs: 2, jitterMs: 5 });
  t.same(delayBounds({ loss: 0, baseMs: 2, jitterMs: 5 }), [0, 7]);
  t.ok(clamped.min === 0 && clamped.max <= 7, 'clamped at 0, never above base + jitter');
  t.ok(Math.abs(clamped.zeros / N - 0.3) < 0.01, `${clamped.zeros} of ${N} delays are 0`);
});

t.test('fate maps its two draws', async (t) => {
  const seq = (...xs: number[]): (() => number) => () => xs.shift() ?? 0;
  const m = DEFAULT_LOSS_MODEL;
  t.same(fate(m, seq(0.05, 0.5)), { drop: true, delayMs: 0 }, 'first draw below p: dropped');
  t.same(fate(m, seq(0.1, 0)), { drop: false, delayMs: 0 }, 'p itself is kept; lowest delay');
  t.same(fate(m, seq(0.5, 0.75)), { drop: false, delayMs: 7.5 });
  let calls = 0;
  fate(m, () => (calls++, 0));
  t.equal(calls, 2, 'a dropped datagram uses its delay draw too, so later fates do not shift');
});

t.test('models netem could not express are refused', async (t) => {
  for (const bad of [{ loss: 1.5 }, { loss: -0.1 }, { loss: NaN }, { baseMs: -1 }, { jitterMs: -1 }]) {
    t.throws(() => checkModel({ ...DEFAULT_LOSS_MODEL, ...bad }), JSON.stringify(bad));
  }
  t.throws(() => fates({ ...DEFAULT_LOSS_MODEL, loss: 2 }, 1));
});

t.test('dropRatio over both directions', async (t) => {
  const dir = (received: number, dropped: number): DirectionStats => ({
    received, forwarded: received - dropped, dropped, foreign: 0, sendErrors: 0, delayMinMs: null, delayMaxMs: null, delayMeanMs: null, lateMaxMs: null, sentAt: [],
  });
  const s = (a: DirectionStats, b: DirectionStats): RelaySummary => ({ model: DEFAULT_LOSS_MODEL, seed: 1, since: 0, stoppedAt: 1, directions: { '0to1': a, '1to0': b } });
  t.equal(dropRatio(s(dir(100, 10), dir(300, 50))), 60 / 400);
  t.ok(Number.isNaN(dropRatio(s(dir(0, 0), dir(0, 0)))), 'nothing received: no ratio');
});

t.test('silences: gaps between forwarded datagrams longer than a dead time', async (t) => {
  const sent = [100, 200, 300, 800, 900, 1450];
  t.same(silences(sent, 500), { count: 1, maxGapMs: 550 }, '500 ms is not over 500; 550 is');
  t.same(silences(sent, 400), { count: 2, maxGapMs: 550 });
  t.same(silences(sent, 500, 0, 2100), { count: 2, maxGapMs: 650 }, 'the window edges count: 1450 -> 2100 is a silence');
  t.same(silences([], 500, 0, 400), { count: 0, maxGapMs: 400 }, 'nothing sent in a short window');
  t.same(silences([], 500), { count: 0, maxGapMs: 0 });
});

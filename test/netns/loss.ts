/**
 * The lossy path's decision, pure: for each datagram the relay (relay.ts) draws whether it is
 * dropped and, if not, how long it is held back. Modelled on netem's `delay BASE JITTER loss P`:
 * dropped with probability p, else delayed uniformly in [base - jitter, base + jitter],
 * never below 0. Every draw comes from a seeded PRNG (mulberry32), so a run is reproducible:
 * the n-th datagram of a direction gets the same fate for the same seed.
 */
import { prng } from './attacker.js';

export interface LossModel {
  /** drop probability, 0..1. */
  loss: number;
  /** mean added delay, ms. */
  baseMs: number;
  /** half-width of the uniform delay spread around baseMs, ms. */
  jitterMs: number;
}

export interface Fate {
  drop: boolean;
  /** ms to hold the datagram back (0 when dropped). */
  delayMs: number;
}

/** 10 % loss, 5 ms +- 5 ms: the "10 % loss with 5 ms jitter". */
export const DEFAULT_LOSS_MODEL: LossModel = { loss: 0.1, baseMs: 5, jitterMs: 5 };

/** Throws on a model no netem line could express (p outside 0..1, negative times). */
export function checkModel(m: LossModel): LossModel {
  if (!(m.loss >= 0 && m.loss <= 1)) throw new Error(`loss must be within 0..1, not ${m.loss}`);
  if (!(m.baseMs >= 0) || !(m.jitterMs >= 0)) throw new Error(`base and jitter must be >= 0 ms, not ${m.baseMs} / ${m.jitterMs}`);
  return m;
}

/** The delay bounds a model allows: [max(0, base - jitter), base + jitter]. */
export function delayBounds(m: LossModel): [number, number] {
  return [Math.max(0, m.baseMs - m.jitterMs), m.baseMs + m.jitterMs];
}

/** One datagram's fate from two uniform draws in [0, 1): the first decides the drop, the second the delay. */
export function fate(m: LossModel, rand: () => number): Fate {
  // Both draws are always taken, so a datagram's delay does not depend on earlier drops.
  const dropDraw = rand();
  const delayDraw = rand();
  if (dropDraw < m.loss) return { drop: true, delayMs: 0 };
  const [lo] = delayBounds(m);
  return { drop: false, delayMs: Math.max(lo, m.baseMs + (2 * delayDraw - 1) * m.jitterMs) };
}

/** A seeded stream of fates, one per datagram of one direction. */
export function fates(m: LossModel, seed: number): () => Fate {
  checkModel(m);
  const rand = prng(seed);
  return () => fate(m, rand);
}

/** What relay.ts counted for one direction. */
export interface DirectionStats {
  /** datagrams from the expected sender. */
  received: number;
  forwarded: number;
  dropped: number;
  /** datagrams from another address (not relayed). */
  foreign: number;
  sendErrors: number;
  /** drawn delays of the forwarded datagrams, ms (what was asked of the timer). */
  delayMinMs: number | null;
  delayMaxMs: number | null;
  delayMeanMs: number | null;
  /** scheduled -> sent lateness of the timer, ms (how far the event loop kept up). */
  lateMaxMs: number | null;
  /** epoch ms of every forwarded datagram, in order: the silences the far side saw. */
  sentAt: number[];
}

export interface RelaySummary {
  model: LossModel;
  seed: number;
  /** counters since (epoch ms): start, or the last SIGUSR2. */
  since: number;
  stoppedAt: number;
  /** d0 -> d1 and d1 -> d0. */
  directions: Record<'0to1' | '1to0', DirectionStats>;
}

/**
 * The gaps between consecutive forwarded datagrams longer than overMs (the far side heard
 * nothing for that long: a dead time that short expires), and the longest gap; from `from`
 * (the window's start) to `to` (its end) when given.
 */
export function silences(sentAt: readonly number[], overMs: number, from?: number, to?: number): { count: number; maxGapMs: number } {
  const ts = [from, ...sentAt, to].filter((x): x is number => x !== undefined);
  let count = 0;
  let maxGapMs = 0;
  for (let i = 1; i < ts.length; i++) {
    const gap = ts[i] - ts[i - 1];
    if (gap > overMs) count++;
    maxGapMs = Math.max(maxGapMs, gap);
  }
  return { count, maxGapMs };
}

/** Dropped / received over both directions; NaN when nothing arrived. */
export function dropRatio(s: RelaySummary): number {
  const d = Object.values(s.directions);
  const received = d.reduce((n, x) => n + x.received, 0);
  return received === 0 ? NaN : d.reduce((n, x) => n + x.dropped, 0) / received;
}

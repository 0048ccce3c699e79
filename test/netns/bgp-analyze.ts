/**
 * Pure analysis of the flow probe's records (flows.ts) for the BGP drills: which director
 * each flow reached, how evenly, and when traffic left or reached a director. No clock, no I/O.
 */
import { firstAnswers } from './analyze.js';
import type { FlowResult } from './flows.js';

export interface Spread {
  /** flows counted (those answered at least once in the window). */
  flows: number;
  /** director name -> share of the flows (0..1), by the director that answered a flow most. */
  share: Record<string, number>;
  /** flows answered by more than one director within the window (moved or split). */
  split: number;
}

/** Which director served each flow among the probes sent in [from, to). */
export function flowSpread(r: FlowResult, from: number, to: number): Spread {
  const perFlow = new Map<number, Map<string, number>>();
  for (const a of firstAnswers(r.replies).values()) {
    if (a.sentAt < from || a.sentAt >= to) continue;
    const flow = a.seq % r.flows;
    const counts = perFlow.get(flow) ?? new Map<string, number>();
    counts.set(a.by, (counts.get(a.by) ?? 0) + 1);
    perFlow.set(flow, counts);
  }
  const owners = new Map<string, number>();
  let split = 0;
  for (const counts of perFlow.values()) {
    if (counts.size > 1) split++;
    const [owner] = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]!;
    owners.set(owner, (owners.get(owner) ?? 0) + 1);
  }
  const share: Record<string, number> = {};
  for (const [name, n] of [...owners.entries()].sort()) share[name] = n / Math.max(1, perFlow.size);
  return { flows: perFlow.size, share, split };
}

/** The send time of the last probe `name` answered, or null when it answered none. */
export function lastAnsweredBy(r: FlowResult, name: string): number | null {
  let last: number | null = null;
  for (const a of r.replies) if (a.by === name && (last === null || a.sentAt > last)) last = a.sentAt;
  return last;
}

/** Probes sent at or after `after` that `name` answered. */
export function answeredByAfter(r: FlowResult, name: string, after: number): number {
  return r.replies.filter((a) => a.by === name && a.sentAt >= after).length;
}

/**
 * Milliseconds from `at` to the send time of the first probe, sent at or after `at`, that a
 * director other than `from` answered; null when none did.
 */
export function firstElsewhere(r: FlowResult, from: string, at: number): number | null {
  let first: number | null = null;
  for (const a of r.replies) {
    if (a.by === from || a.sentAt < at) continue;
    if (first === null || a.sentAt < first) first = a.sentAt;
  }
  return first === null ? null : first - at;
}

/**
 * Milliseconds from `at` to the send time of the last probe, sent at or after `at`, that
 * nobody answered (0 when none was lost): after it every flow was served again. With many
 * flows this is the figure that counts; the first answer from elsewhere only says that some
 * flows moved.
 */
export function lastLoss(r: FlowResult, at: number): number {
  const answered = firstAnswers(r.replies);
  let last = at;
  r.sentAt.forEach((t, seq) => {
    if (t >= at && !answered.has(seq) && t > last) last = t;
  });
  return last - at;
}

/** "d0 33%, d1 34%, d2 33%" */
export function formatShare(s: Spread): string {
  return Object.entries(s.share).map(([n, v]) => `${n} ${(v * 100).toFixed(0)}%`).join(', ');
}

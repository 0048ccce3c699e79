/**
 * Who should hold a group's VIP: the decision maths, pure and shared by every node so
 * that all of them compute the same winner from the same view.
 *
 * Order: the node that reaches more of the group's ping nodes wins regardless of priority
 * (Heartbeat's ipfail: a director that lost its uplink yields); then higher effective
 * priority wins; on a tie the lexicographically smaller node
 * name wins (code-unit order, so every node agrees regardless of locale). A priority of
 * 0 means "not a candidate" (fault, maintenance, releasing).
 */
import type { NodeId } from './types.js';

export interface Candidate {
  node: NodeId;
  priority: number;
  /** ping nodes reached (uplink comparison); 0 when the group has none. */
  reach?: number;
}

/** > 0 when a outranks b, < 0 when b outranks a, 0 only when both are the same node. */
export function compareRank(a: Candidate, b: Candidate): number {
  const ra = a.reach ?? 0;
  const rb = b.reach ?? 0;
  if (ra !== rb) return ra - rb;
  if (a.priority !== b.priority) return a.priority - b.priority;
  if (a.node === b.node) return 0;
  return a.node < b.node ? 1 : -1;
}

export function outranks(a: Candidate, b: Candidate): boolean {
  return compareRank(a, b) > 0;
}

/** The best candidate with priority > 0, or null. */
export function best(cands: readonly Candidate[]): Candidate | null {
  let top: Candidate | null = null;
  for (const c of cands) {
    if (c.priority <= 0) continue;
    if (top === null || outranks(c, top)) top = c;
  }
  return top;
}

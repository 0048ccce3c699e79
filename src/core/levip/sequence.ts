/**
 * LevIP ownership: which leveler announces the shared IP in a given slot (docs/levip.md).
 * Pure and integer-only, so every node computes the same owner from the same member list,
 * whatever order it learned the members in.
 *
 * Scheme: smooth weighted round robin (SWRR, the algorithm of nginx's upstream balancer)
 * run over the members in canonical order (node id, code-unit order) for W = sum of weights
 * steps. The resulting cycle of length W holds each member exactly `weight` times, spread
 * out, and slot k is owned by cycle[k mod W]. So the shares are exact over any W consecutive
 * slots (the cycle is read cyclically) and close over shorter windows, which matters because
 * a 60 s window with a 2 s period is only 30 slots. Weighted rendezvous hashing was rejected:
 * it is random-ish per slot, so over 30 slots a weight-1/3 member can easily miss its share
 * by more than 10 points. Its one advantage, stability under membership change, buys nothing
 * here: the owner changes at every slot anyway.
 *
 * Tie-break inside SWRR: the highest running credit wins; on equal credit the member first
 * in canonical order wins. Nothing depends on insertion order or on floating point.
 */
import type { NodeId } from '../types.js';

export interface Member {
  node: NodeId;
  /** share of slots, an integer 1..100. */
  weight: number;
  /** first slot index in which the member may own a slot (see joinSlot in schedule.ts). */
  since: number;
  /** first slot index in which it may no longer own one (exclusive end); absent: open-ended. */
  until?: number;
}

export const MIN_WEIGHT = 1;
export const MAX_WEIGHT = 100;

/** Every reason the member list is unusable; empty when it is fine. */
export function memberProblems(members: readonly Member[]): string[] {
  const problems: string[] = [];
  const seen = new Set<NodeId>();
  for (const m of members) {
    const who = JSON.stringify(m.node);
    if (typeof m.node !== 'string' || m.node === '') problems.push(`member ${who}: node must be a non-empty string`);
    else if (seen.has(m.node)) problems.push(`member ${who}: listed twice`);
    seen.add(m.node);
    if (!Number.isInteger(m.weight) || m.weight < MIN_WEIGHT || m.weight > MAX_WEIGHT) {
      problems.push(`member ${who}: weight ${m.weight} is not an integer ${MIN_WEIGHT}..${MAX_WEIGHT}`);
    }
    if (!Number.isSafeInteger(m.since)) problems.push(`member ${who}: since ${m.since} is not an integer slot`);
    if (m.until !== undefined && (!Number.isSafeInteger(m.until) || m.until < m.since)) {
      problems.push(`member ${who}: until ${m.until} is not an integer slot >= since`);
    }
  }
  return problems;
}

/**
 * Throws on a bad list: a weight out of range or a duplicate node is a bug upstream (config
 * validation and the wire codec bound these), not an input to decide on.
 */
export function assertMembers(members: readonly Member[]): void {
  const problems = memberProblems(members);
  if (problems.length > 0) throw new RangeError(`levip: ${problems.join('; ')}`);
}

function canonical(a: Member, b: Member): number {
  if (a.node === b.node) return 0;
  return a.node < b.node ? -1 : 1;
}

/** Members allowed to own `slot` (since <= slot < until), in canonical order. */
export function eligibleAt(slot: number, members: readonly Member[]): Member[] {
  return members
    .filter((m) => m.since <= slot && (m.until === undefined || slot < m.until))
    .sort(canonical);
}

/**
 * Runs SWRR over `sorted` and returns the owner index of each step up to `steps` (exclusive).
 * Cost O(steps x members); W is at most 100 x members, so a few hundred thousand integer
 * operations for 64 members, nothing for the usual handful.
 */
function swrr(sorted: readonly Member[], steps: number): number[] {
  const total = sorted.reduce((sum, m) => sum + m.weight, 0);
  const credit = sorted.map(() => 0);
  const picks: number[] = [];
  for (let step = 0; step < steps; step++) {
    let top = 0;
    for (let i = 0; i < sorted.length; i++) {
      credit[i]! += sorted[i]!.weight;
      // strict '>' keeps the canonically first member on equal credit
      if (credit[i]! > credit[top]!) top = i;
    }
    credit[top]! -= total;
    picks.push(top);
  }
  return picks;
}

/** Position of `slot` in a cycle of length `total`, also for negative slots. */
function position(slot: number, total: number): number {
  return ((slot % total) + total) % total;
}

/** Who announces in `slot`: cycle[slot mod W] over the members eligible then; null if none. */
export function ownerOf(slot: number, members: readonly Member[]): NodeId | null {
  if (!Number.isSafeInteger(slot)) throw new RangeError(`levip: slot ${slot} is not an integer`);
  assertMembers(members);
  const sorted = eligibleAt(slot, members);
  if (sorted.length === 0) return null;
  const total = sorted.reduce((sum, m) => sum + m.weight, 0);
  const picks = swrr(sorted, position(slot, total) + 1);
  return sorted[picks[picks.length - 1]!]!.node;
}

/**
 * LevIP rotation schedule: slots on the shared wall-clock epoch, who owns the current one,
 * and when its owner sends unsolicited ARP replies (docs/levip.md). Pure: `now` is an input,
 * never read here, and it is WALL-clock milliseconds (Date.now() on each node), because
 * monotonic clocks are not shared between hosts; the slot index k = floor(t / period) is
 * what all nodes must agree on, so clock sync (NTP) is a requirement of the mode.
 *
 * Clock-offset bound. Node clocks differ from true time by e_i. The owner A of slot k sends
 * at its local offsets 0, repeat, 2 x repeat, ... strictly below period - guard (never in
 * the last `guard` ms of a slot); its last one, at offset L, leaves the slack
 * S = period - L > guard. The owner B of slot k+1 sends its first at its local slot start.
 * In true time A's last is at kP + L - e_A and B's first at (k+1)P - e_B, so with B's clock
 * ahead by d = e_B - e_A:
 *   - both nodes BELIEVE they own the boundary region for d ms (inherent to any offset);
 *   - A's announcements all come before B's first iff d < S (sufficient: d <= guard), so the
 *     router's cache ends the boundary on B, as planned;
 *   - for d >= S they interleave for d - S ms: A still sends every offset a >= P - d at or
 *     after B's first (the stale announcements), and each sends the router back
 *     to A (alive, just not its turn) until B's next one, at most `repeat` ms later; while
 *     d < S + repeat that is at most one stale announcement per handover.
 * With B behind (d < 0) nobody announces for S + |d| ms: harmless, the router keeps A, which
 * is alive. timingProblems requires guard <= period / 2, so the safe offset is below half a
 * slot and both nodes still agree on the slot index for most of each slot.
 */
import type { Millis } from '../../config/types.js';
import type { NodeId } from '../types.js';
import { assertMembers, ownerOf, type Member } from './sequence.js';

export type { Member } from './sequence.js';

export interface Timing {
  /** slot length, ms. */
  period: Millis;
  /** quiet tail of each slot in which the owner never announces, ms (the clock-offset budget). */
  guard: Millis;
  /** spacing of the owner's announcements within its slot, ms. */
  repeat: Millis;
}

/**
 * A member heard first (or starting) at wall time t becomes eligible this many slots after
 * t's slot. One slot is not enough: computed at the very end of slot k, `k + 1` would give
 * its heartbeat a millisecond to reach everyone. With 2 the announcement of `since` has more
 * than one full slot to arrive before it takes effect.
 */
export const JOIN_LEAD_SLOTS = 2;

/** Upper bound on upcoming()'s n: status output, not a way to enumerate the future. */
export const MAX_UPCOMING = 1000;

function isMs(v: number): boolean {
  return Number.isSafeInteger(v) && v >= 0;
}

/** Every reason these timings are unusable; empty when fine. */
export function timingProblems(t: Timing): string[] {
  const problems: string[] = [];
  if (!isMs(t.period) || t.period < 2) problems.push(`period ${t.period} must be an integer >= 2 ms`);
  if (!isMs(t.guard)) problems.push(`guard ${t.guard} must be an integer >= 0 ms`);
  else if (2 * t.guard > t.period) problems.push(`guard ${t.guard} must be at most half the period (${t.period})`);
  if (!isMs(t.repeat) || t.repeat < 1) problems.push(`repeat ${t.repeat} must be an integer >= 1 ms`);
  return problems;
}

function assertTiming(t: Timing): void {
  const problems = timingProblems(t);
  if (problems.length > 0) throw new RangeError(`levip: ${problems.join('; ')}`);
}

/** Slot index of a wall-clock instant: floor(t / period), on the shared epoch. */
export function slotOf(wall: Millis, period: Millis): number {
  return Math.floor(wall / period);
}

/** The slot from which a member first heard (or started) at `wall` may own slots. */
export function joinSlot(wall: Millis, period: Millis): number {
  return slotOf(wall, period) + JOIN_LEAD_SLOTS;
}

/** Offsets within a slot at which its owner announces: 0, repeat, ... strictly below period - guard. */
export function announceOffsets(t: Timing): Millis[] {
  assertTiming(t);
  const offsets: Millis[] = [];
  for (let at = 0; at < t.period - t.guard; at += t.repeat) offsets.push(at);
  return offsets;
}

export interface Plan {
  slot: number;
  owner: NodeId | null;
  /** self owns the current slot. */
  iOwn: boolean;
  slotStart: Millis;
  /** exclusive end of the slot. */
  slotEnd: Millis;
  /** the instant the next slot starts (equals slotEnd), when the daemon must plan again. */
  nextBoundary: Millis;
  /** from this instant to slotEnd the owner stays silent (slotEnd - guard). */
  quietFrom: Millis;
  /** wall instants in this slot at which self announces; empty unless iOwn. */
  announceAt: Millis[];
  /** the first of announceAt at or after now; null when none is left. */
  nextAnnounce: Millis | null;
  /** when to call plan() again: nextAnnounce, else nextBoundary. */
  wakeAt: Millis;
}

/**
 * What self should do in the slot containing `now` (wall ms). Membership changes between two
 * calls are the caller's: call plan() again when the member list changes, and, if that made
 * self the owner mid-slot (the previous owner died), announce at once when now < quietFrom
 * rather than wait for nextAnnounce.
 */
export function plan(now: Millis, self: NodeId, members: readonly Member[], t: Timing): Plan {
  assertTiming(t);
  assertMembers(members);
  const slot = slotOf(now, t.period);
  const owner = ownerOf(slot, members);
  const iOwn = owner !== null && owner === self;
  const slotStart = slot * t.period;
  const slotEnd = slotStart + t.period;
  const announceAt = iOwn ? announceOffsets(t).map((o) => slotStart + o) : [];
  const nextAnnounce = announceAt.find((at) => at >= now) ?? null;
  return {
    slot,
    owner,
    iOwn,
    slotStart,
    slotEnd,
    nextBoundary: slotEnd,
    quietFrom: slotEnd - t.guard,
    announceAt,
    nextAnnounce,
    wakeAt: nextAnnounce ?? slotEnd,
  };
}

export interface UpcomingSlot {
  slot: number;
  start: Millis;
  end: Millis;
  owner: NodeId | null;
}

/** The current slot and the n - 1 after it, with their owners, for status output. */
export function upcoming(now: Millis, members: readonly Member[], n: number, period: Millis): UpcomingSlot[] {
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_UPCOMING) throw new RangeError(`levip: n ${n} must be an integer 0..${MAX_UPCOMING}`);
  if (!isMs(period) || period < 1) throw new RangeError(`levip: period ${period} must be an integer >= 1 ms`);
  assertMembers(members);
  const first = slotOf(now, period);
  const out: UpcomingSlot[] = [];
  for (let slot = first; slot < first + n; slot++) {
    out.push({ slot, start: slot * period, end: (slot + 1) * period, owner: ownerOf(slot, members) });
  }
  return out;
}

/**
 * LevIP's two clocks. Slots lie on the WALL clock (Date.now on every node), because monotonic
 * clocks are not shared between hosts; every other deadline of the core is monotonic. Each
 * input carries both (types.ts InputClock), so the mode decides on the wall time of its input
 * and hands the driver its next instant as a monotonic deadline.
 */
import type { Millis } from '../types.js';

/** Longest LevIP sleep: a stepped wall clock is noticed within this long. */
export const MAX_SLEEP_MS: Millis = 1000;

export class WallClock {
  /** wall minus monotonic, from the last input that carried the wall time. */
  private offset: Millis | null = null;

  /** The wall time of an input; null when neither it nor an earlier one carried one. */
  read(input: { now: Millis; wall?: Millis }): Millis | null {
    if (input.wall !== undefined) {
      this.offset = input.wall - input.now;
      return input.wall;
    }
    return this.offset === null ? null : input.now + this.offset;
  }
}

/**
 * The monotonic deadline for a wall instant `at`, seen at wall time `wall` and monotonic time
 * `now`: never more than MAX_SLEEP_MS away, so a wall clock stepped meanwhile (NTP, `date -s`)
 * is read again within that long. Infinity stays Infinity (nothing to wake for).
 */
export function monotonicDeadline(at: Millis, wall: Millis, now: Millis): Millis {
  if (at === Infinity) return Infinity;
  return now + Math.min(MAX_SLEEP_MS, Math.max(0, at - wall));
}

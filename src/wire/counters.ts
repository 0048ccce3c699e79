/**
 * One counter per drop reason (MetalLB's dropReason + stats habit): every ignored datagram is
 * counted under a name, never swallowed. Metrics and `status` read snapshots.
 */
import { DROP_REASONS, type DropReason } from './types.js';

export type DropSnapshot = Readonly<Record<DropReason, number>>;

export class DropCounters {
  private readonly counts: Record<DropReason, number>;

  constructor() {
    // Every reason starts at 0 so a snapshot always lists all of them (a stable metric set).
    this.counts = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>;
  }

  count(reason: DropReason): void {
    this.counts[reason] += 1;
  }

  /** A frozen copy: later counts do not change it. */
  snapshot(): DropSnapshot {
    return Object.freeze({ ...this.counts });
  }
}

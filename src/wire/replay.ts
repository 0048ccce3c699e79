/**
 * Replay guard: remembers, per sender node, the newest (bootId, seq) it accepted and refuses
 * anything not strictly newer. This is what UCARP's HMAC lacks (it adopts whatever counter it
 * receives, so a recorded advert can be replayed) and what keepalived's auth_hmac adds with a
 * boot generation plus a sequence number.
 *
 * Strictly increasing, no reordering window: heartbeats are idempotent state reports, so a
 * datagram overtaken by a newer one carries nothing the newer one does not; dropping it costs
 * nothing. Run the guard only on datagrams that passed the MAC, or a forger could poison it.
 */

export type ReplayVerdict = 'ok' | 'replay' | 'old-boot';

export interface ReplayMark {
  bootId: bigint;
  seq: bigint;
}

export interface ReplayGuardOptions {
  /**
   * How many sender nodes are tracked. Beyond it the least recently accepted node is forgotten,
   * so memory stays bounded however many node names key holders use. A forgotten node's next
   * datagram is accepted as if first seen, so keep this well above the cluster size.
   */
  capacity?: number;
}

export const DEFAULT_REPLAY_CAPACITY = 256;

export class ReplayGuard {
  // Map iteration follows insertion order; re-inserting on every accept keeps the least
  // recently accepted node first, which makes eviction O(1).
  private readonly marks = new Map<string, ReplayMark>();
  private readonly capacity: number;

  constructor(opts: ReplayGuardOptions = {}) {
    const capacity = opts.capacity ?? DEFAULT_REPLAY_CAPACITY;
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`ReplayGuard capacity must be a positive integer, got ${capacity}`);
    }
    this.capacity = capacity;
  }

  /** Judges (bootId, seq) from `node` and records it when the verdict is 'ok'. */
  check(node: string, bootId: bigint, seq: bigint): ReplayVerdict {
    const last = this.marks.get(node);
    if (last !== undefined) {
      if (bootId < last.bootId) return 'old-boot';
      if (bootId === last.bootId && seq <= last.seq) return 'replay';
      this.marks.delete(node);
    } else if (this.marks.size >= this.capacity) {
      const oldest = this.marks.keys().next();
      if (!oldest.done) this.marks.delete(oldest.value);
    }
    this.marks.set(node, { bootId, seq });
    return 'ok';
  }

  /** Drops what is known about `node` (peer removed from the configuration). */
  forget(node: string): void {
    this.marks.delete(node);
  }

  /** The newest accepted mark of `node`, for status output. */
  last(node: string): ReplayMark | undefined {
    const m = this.marks.get(node);
    return m === undefined ? undefined : { ...m };
  }

  /** Number of nodes tracked now. */
  get size(): number {
    return this.marks.size;
  }
}

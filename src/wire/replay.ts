import { DEFAULTS } from '../config/defaults.js';
/**
 * Replay guard: remembers, per sender node, the newest (bootId, seq) it accepted and refuses
 * anything not strictly newer. This is what UCARP's HMAC lacks (it adopts whatever counter it
 * receives, so a recorded advert can be replayed) and what keepalived's auth_hmac adds with a
 * boot generation plus a sequence number.
 *
 * Strictly increasing, no reordering window: heartbeats are idempotent state reports, so a
 * datagram overtaken by a newer one carries nothing the newer one does not; dropping it costs
 * nothing. Run the guard only on datagrams that passed the MAC, or a forger could poison it.
 *
 * Two things make it hold beyond one process:
 *
 *   - Every accepted mark goes to a MarkStore (the agent's is a file in the state directory,
 *     src/adapters/replay-file.ts) and the guard starts from what the store kept. Without it a
 *     restarted receiver would take the first datagram of any node, and a recording of a peer
 *     that has since died would keep it "alive" after the receiver's restart.
 *   - A bootId is the sender's wall clock in ms at its start (src/wire/boot-id.ts), so one far
 *     ahead of our own clock is implausible. Adopted blindly, one such datagram from a key
 *     holder would make every later datagram of the real peer an 'old-boot', for good and, with
 *     the store, across restarts. So a boot more than FUTURE_BOOT_SLACK_MS ahead of our clock
 *     is tracked in a second slot, `ahead`: it is replay-checked like any other but never
 *     raises the `main` mark that the peer's ordinary boots are judged against. A peer whose
 *     clock really runs that far ahead keeps working (its boots live in `ahead`); a boot moves
 *     to `main` once our clock catches up with it.
 */

export type ReplayVerdict = 'ok' | 'replay' | 'old-boot';

export interface ReplayMark {
  bootId: bigint;
  seq: bigint;
}

/** What the guard knows of one node: its newest plausible boot and its newest implausible one. */
export interface NodeMarks {
  main: ReplayMark | null;
  ahead: ReplayMark | null;
}

/** Where marks outlive the process. save() is called on every accepted datagram. */
export interface MarkStore {
  load(): ReadonlyMap<string, NodeMarks>;
  save(node: string, marks: NodeMarks): void;
}

export interface ReplayGuardOptions {
  /**
   * How many sender nodes are tracked. Beyond it the least recently accepted node is forgotten.
   * The receiver admits only configured nodes (src/wire/identity.ts) and sizes this to them,
   * so eviction is a last resort that a correct configuration never reaches.
   */
  capacity?: number;
  store?: MarkStore;
}

/**
 * How far ahead of our wall clock a bootId is still an ordinary boot: directors' clocks agree
 * within seconds under NTP; a minute also covers a host that has not synchronised yet. A key
 * holder can still shut a peer out by at most this long (docs/reliability.md).
 */
export const FUTURE_BOOT_SLACK_MS = 60_000;

export class ReplayGuard {
  // Map iteration follows insertion order; re-inserting on every accept keeps the least
  // recently accepted node first, which makes eviction O(1).
  private readonly marks = new Map<string, NodeMarks>();
  private readonly capacity: number;
  private readonly store: MarkStore | undefined;

  constructor(opts: ReplayGuardOptions = {}) {
    const capacity = opts.capacity ?? DEFAULTS.replay.capacity;
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`ReplayGuard capacity must be a positive integer, got ${capacity}`);
    }
    this.capacity = capacity;
    this.store = opts.store;
    for (const [node, m] of opts.store?.load() ?? []) {
      if (this.marks.size < capacity) this.marks.set(node, { main: m.main, ahead: m.ahead });
    }
  }

  /** Judges (bootId, seq) from `node` at our wall time `wallMs`; records it when 'ok'. */
  check(node: string, bootId: bigint, seq: bigint, wallMs: number): ReplayVerdict {
    const known = this.marks.get(node);
    const m: NodeMarks = known ?? { main: null, ahead: null };
    const verdict = judge(m, bootId, seq, wallMs);
    if (verdict !== 'ok') return verdict;
    if (known !== undefined) this.marks.delete(node);
    else if (this.marks.size >= this.capacity) {
      const oldest = this.marks.keys().next();
      if (!oldest.done) this.marks.delete(oldest.value);
    }
    this.marks.set(node, m);
    this.store?.save(node, m);
    return 'ok';
  }

  /** Number of nodes tracked now. */
  get size(): number {
    return this.marks.size;
  }
}

/** The verdict for (bootId, seq) against `m`; on 'ok', `m` is updated in place. */
function judge(m: NodeMarks, bootId: bigint, seq: bigint, wallMs: number): ReplayVerdict {
  const mark = { bootId, seq };
  // The same boot as a tracked one: only its sequence decides (whichever slot holds it).
  for (const slot of ['main', 'ahead'] as const) {
    const last = m[slot];
    if (last === null || last.bootId !== bootId) continue;
    if (seq <= last.seq) return 'replay';
    m[slot] = mark;
    if (slot === 'ahead' && plausible(bootId, wallMs)) promote(m);
    return 'ok';
  }
  const slot = plausible(bootId, wallMs) ? 'main' : 'ahead';
  const last = m[slot];
  if (last !== null && bootId < last.bootId) return 'old-boot';
  // A boot older than the plausible one cannot be ahead of our clock: refuse it there too.
  if (slot === 'ahead' && m.main !== null && bootId < m.main.bootId) return 'old-boot';
  m[slot] = mark;
  return 'ok';
}

function plausible(bootId: bigint, wallMs: number): boolean {
  const now = Number.isFinite(wallMs) && wallMs > 0 ? BigInt(Math.floor(wallMs)) : 0n;
  return bootId <= now + BigInt(FUTURE_BOOT_SLACK_MS);
}

/** Our clock caught up with the `ahead` boot: it becomes the ordinary one if it is newer. */
function promote(m: NodeMarks): void {
  const a = m.ahead;
  if (a === null) return;
  if (m.main === null || a.bootId > m.main.bootId) m.main = a;
  m.ahead = null;
}

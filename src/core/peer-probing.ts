/**
 * When the peer table probes, and how long a probe's answer may take: pure rules over the
 * live peers, each sized from what the peer's own heartbeats showed (lateness.ts).
 *
 * A peer whose heartbeat is overdue (later than its interval plus a margin sized from how
 * late it has been recently) is probed at once and then every fifth of its interval: a live
 * peer answers a probe immediately, so a burst of lost datagrams must also swallow those
 * round trips before the dead time, and a crashed one is asked again and again.
 *
 * After an ICMP hint (peers.ts) the peer gets `confirmMs` to answer the first probe since it
 * was last heard: on an idle host an answer takes well under a millisecond, a loaded or slow
 * peer gets twice the worst lateness it has shown recently, never more than half the dead time.
 */
import { DEFAULTS } from '../config/defaults.js';
import type { Peer } from './peer-types.js';
import type { Millis } from './types.js';

/**
 * How far past its interval a peer's heartbeat may be before it is probed: twice its recent
 * lateness, at least overdueMin (DEFAULTS.election), at most one more interval (probing starts
 * no later than after two silent intervals, whatever the lateness).
 */
export function overdueMargin(p: Peer, now: Millis): Millis {
  return Math.min(p.intervalMs, Math.max(DEFAULTS.election.overdueMin, 2 * p.lateness.max(now)));
}

/** When one of the live peers (not leaving) becomes overdue, or null when none can. */
export function nextOverdue(alive: readonly Peer[], now: Millis): Millis | null {
  let next: Millis | null = null;
  for (let i = 0; i < alive.length; i++) {
    const p = alive[i]!;
    if (p.resigned) continue;
    const at = p.lastHeard + p.intervalMs + overdueMargin(p, now);
    if (next === null || at < next) next = at;
  }
  return next;
}

/** How often to probe while a peer is overdue: a fifth of the shortest interval among the live peers. */
export function probeEvery(alive: readonly Peer[]): Millis {
  let every = Number.POSITIVE_INFINITY;
  for (let i = 0; i < alive.length; i++) {
    const p = alive[i]!;
    if (!p.resigned) every = Math.min(every, p.intervalMs / DEFAULTS.election.overdueProbesPerInterval);
  }
  return Math.max(1, every);
}

/** Whether one of the live peers has a hint on a path and no probe out since it was last heard. */
export function needsConfirmProbe(alive: readonly Peer[]): boolean {
  for (let i = 0; i < alive.length; i++) {
    const p = alive[i]!;
    if (p.probedAt !== null) continue;
    for (let j = 0; j < p.paths.length; j++) {
      if (p.paths[j]!.unreachableAt !== null) return true;
    }
  }
  return false;
}

/** How long a peer gets to answer the probe after an ICMP hint. */
export function confirmMs(p: Peer, now: Millis, deadTime: Millis): Millis {
  const want = DEFAULTS.election.confirmFloor + 2 * p.lateness.max(now);
  return Math.max(1, Math.min(want, deadTime / 2));
}

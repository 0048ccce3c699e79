/**
 * What changed in the peer table since the last look, each change reported once: peers that
 * died (and of what), and paths of live peers that fell silent or came back. Notes and
 * status only; the election reads liveness from the table itself.
 */
import type { PathChange, Peer, PeerDeath, PeerPath } from './peer-types.js';
import type { Millis } from './types.js';

/** What these read of the peer table (PeerTable). */
export interface PeerView {
  all(): readonly Peer[];
  alive(now: Millis): readonly Peer[];
  isAlive(p: Peer, now: Millis): boolean;
  pathAlive(p: Peer, path: PeerPath, now: Millis): boolean;
  diedOfHint(p: Peer, path: PeerPath): boolean;
}

const NO_DEATHS: readonly PeerDeath[] = Object.freeze([]);
const NO_CHANGES: readonly PathChange[] = Object.freeze([]);

/** Peers that died since the last call (each once), with what killed them. */
export function livenessChanges(table: PeerView, now: Millis): readonly PeerDeath[] {
  let out: PeerDeath[] | null = null;
  const list = table.all();
  for (let i = 0; i < list.length; i++) {
    const p = list[i]!;
    if (!p.reportedAlive || table.isAlive(p, now)) continue;
    p.reportedAlive = false;
    if (p.probedAt !== null) p.probesUnanswered++;
    let confirmMs: Millis | null = null;
    let refused = false;
    for (let j = 0; j < p.paths.length; j++) {
      const path = p.paths[j]!;
      if (path.refusedAt !== null) refused = true;
      else if (table.diedOfHint(p, path) && p.probedAt !== null) confirmMs = now - p.probedAt;
    }
    (out ??= []).push({ node: p.node, silentMs: now - p.lastHeard, confirmMs, refused });
  }
  return out ?? NO_DEATHS;
}

/**
 * Paths of live peers that fell silent (or came back) since the last call: warnings for
 * the log and status, never an election input.
 */
export function pathChanges(table: PeerView, now: Millis): readonly PathChange[] {
  let out: PathChange[] | null = null;
  const alive = table.alive(now);
  for (let i = 0; i < alive.length; i++) {
    const p = alive[i]!;
    if (p.paths.length < 2) continue;
    for (let j = 0; j < p.paths.length; j++) {
      const path = p.paths[j]!;
      const silent = !table.pathAlive(p, path, now);
      if (silent === path.warned) continue;
      path.warned = silent;
      (out ??= []).push({ node: p.node, address: path.address, silent });
    }
  }
  return out ?? NO_CHANGES;
}

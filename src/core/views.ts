/**
 * What the peer table says about one group, as candidate lists: pure functions every node
 * computes the same way from the same view.
 */
import type { GroupRt } from './group.js';
import type { Peer, PeerTable } from './peers.js';
import { best, type Candidate } from './rank.js';
import type { Millis } from './types.js';

/** Live peers that could hold the group: any non-fault state with priority > 0. */
export function liveCandidates(peers: PeerTable, g: GroupRt, now: Millis): Candidate[] {
  const out: Candidate[] = [];
  const alive = peers.alive(now);
  for (let i = 0; i < alive.length; i++) {
    const p = alive[i]!;
    const pg = p.groups.get(g.name);
    if (pg && pg.priority > 0 && pg.state !== 'fault') out.push({ node: p.node, priority: pg.priority, reach: pg.reach });
  }
  return out;
}

export function activePeers(peers: PeerTable, g: GroupRt, now: Millis): Candidate[] {
  const out: Candidate[] = [];
  const alive = peers.alive(now);
  for (let i = 0; i < alive.length; i++) {
    const p = alive[i]!;
    const pg = p.groups.get(g.name);
    if (pg && pg.state === 'active' && pg.priority > 0) out.push({ node: p.node, priority: pg.priority, reach: pg.reach });
  }
  return out;
}

export function holderPeer(peers: PeerTable, g: GroupRt, now: Millis): Candidate | null {
  return best(activePeers(peers, g, now));
}

/** Any live peer advertising active, releasing ones included (they still serve). */
export function anyActivePeer(peers: PeerTable, g: GroupRt, now: Millis): Peer | null {
  const alive = peers.alive(now);
  for (let i = 0; i < alive.length; i++) {
    const p = alive[i]!;
    if (p.groups.get(g.name)?.state === 'active') return p;
  }
  return null;
}


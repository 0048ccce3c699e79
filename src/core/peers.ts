/**
 * The peer table: what we last heard from each node, on each path, and whether it is alive.
 *
 * A peer may be heard on several paths (redundant heartbeat media, as Heartbeat had: a
 * second interface or address). A path is alive while it was heard within the dead time and
 * the network has not told us since that nothing listens there (ICMP port unreachable, which
 * is how a crashed agent on a live host shows itself long before the dead time). A peer is
 * alive while any of its paths is; a silent path alone is a warning, never a failover.
 */
import type { Message, WireGroup } from '../wire/types.js';
import type { Millis, NodeId } from './types.js';

export interface PeerPath {
  address: string;
  port: number;
  lastHeard: Millis;
  /** set when an ICMP port unreachable for this address arrives after lastHeard. */
  unreachableAt: Millis | null;
  /** a "path silent" warning was given and not yet cleared. */
  warned: boolean;
}

export interface Peer {
  node: NodeId;
  /** the path the last message came on. */
  address: string;
  port: number;
  bootId: bigint;
  /** the latest message on any path. */
  lastHeard: Millis;
  intervalMs: number;
  groups: Map<string, WireGroup>;
  /** the last message was a resign. */
  resigned: boolean;
  paths: Map<string, PeerPath>;
}

export interface PathChange {
  node: NodeId;
  address: string;
  silent: boolean;
}

export class PeerTable {
  private readonly peers = new Map<NodeId, Peer>();

  constructor(private deadTime: Millis) {}

  setDeadTime(ms: Millis): void {
    this.deadTime = ms;
  }

  /**
   * Records a message; returns 'new' for a first contact, 'restarted' on a new boot id,
   * 'returned' when a peer we had declared dead speaks again (a healed partition).
   */
  record(msg: Message, address: string, port: number, now: Millis): 'new' | 'restarted' | 'returned' | 'known' {
    const old = this.peers.get(msg.node);
    const wasAlive = old !== undefined && this.isAlive(old, now);
    const paths = old && old.bootId === msg.bootId ? old.paths : new Map<string, PeerPath>();
    const path = paths.get(address);
    paths.set(address, { address, port, lastHeard: now, unreachableAt: null, warned: path?.warned ?? false });
    this.peers.set(msg.node, {
      node: msg.node,
      address,
      port,
      bootId: msg.bootId,
      lastHeard: now,
      intervalMs: msg.intervalMs,
      groups: new Map(msg.groups.map((g) => [g.name, g] as const)),
      resigned: msg.type === 'resign',
      paths,
    });
    if (!old) return 'new';
    if (old.bootId !== msg.bootId) return 'restarted';
    return wasAlive ? 'known' : 'returned';
  }

  /** Marks the path at this address unreachable; returns the nodes that died of it. */
  markUnreachable(address: string, now: Millis): NodeId[] {
    const hit: NodeId[] = [];
    for (const p of this.peers.values()) {
      const path = p.paths.get(address);
      if (!path) continue;
      const before = this.isAlive(p, now);
      path.unreachableAt = now;
      if (before && !this.isAlive(p, now)) hit.push(p.node);
    }
    return hit;
  }

  pathAlive(path: PeerPath, now: Millis): boolean {
    if (path.unreachableAt !== null && path.unreachableAt >= path.lastHeard) return false;
    return now - path.lastHeard < this.deadTime;
  }

  isAlive(p: Peer, now: Millis): boolean {
    for (const path of p.paths.values()) if (this.pathAlive(path, now)) return true;
    return false;
  }

  /**
   * Whether a live peer (not leaving) has been silent for more than two of its own
   * intervals: heartbeats were lost or the peer is going; a probe asks it to speak up.
   */
  anySuspect(now: Millis): boolean {
    return this.alive(now).some((p) => !p.resigned && now - p.lastHeard > 2 * p.intervalMs);
  }

  alive(now: Millis): Peer[] {
    return [...this.peers.values()].filter((p) => this.isAlive(p, now));
  }

  all(): Peer[] {
    return [...this.peers.values()];
  }

  get(node: NodeId): Peer | undefined {
    return this.peers.get(node);
  }

  /** The moment the next live peer would be declared dead (its last live path), or null. */
  nextDeadline(now: Millis): Millis | null {
    let next: Millis | null = null;
    for (const p of this.alive(now)) {
      let last = 0;
      for (const path of p.paths.values()) if (this.pathAlive(path, now)) last = Math.max(last, path.lastHeard + this.deadTime);
      if (next === null || last < next) next = last;
    }
    return next;
  }

  /**
   * Paths of live peers that fell silent (or came back) since the last call: warnings for
   * the log and status, never an election input.
   */
  pathChanges(now: Millis): PathChange[] {
    const out: PathChange[] = [];
    for (const p of this.alive(now)) {
      if (p.paths.size < 2) continue;
      for (const path of p.paths.values()) {
        const silent = !this.pathAlive(path, now);
        if (silent === path.warned) continue;
        path.warned = silent;
        out.push({ node: p.node, address: path.address, silent });
      }
    }
    return out;
  }
}

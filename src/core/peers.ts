/**
 * The peer table: what we last heard from each node, and whether it is alive.
 * A peer is alive while it has been heard within the dead time and the network has
 * not told us since then that nothing listens at its address (ICMP port unreachable,
 * which is how a crashed agent on a live host shows itself long before the dead time).
 */
import type { Message, WireGroup } from '../wire/types.js';
import type { Millis, NodeId } from './types.js';

export interface Peer {
  node: NodeId;
  address: string;
  port: number;
  bootId: bigint;
  lastHeard: Millis;
  /** set when an ICMP port unreachable for the peer's address arrives after lastHeard. */
  unreachableAt: Millis | null;
  intervalMs: number;
  groups: Map<string, WireGroup>;
  /** the last message was a resign. */
  resigned: boolean;
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
    const groups = new Map(msg.groups.map((g) => [g.name, g] as const));
    const peer: Peer = {
      node: msg.node,
      address,
      port,
      bootId: msg.bootId,
      lastHeard: now,
      unreachableAt: null,
      intervalMs: msg.intervalMs,
      groups,
      resigned: msg.type === 'resign',
    };
    this.peers.set(msg.node, peer);
    if (!old) return 'new';
    if (old.bootId !== msg.bootId) return 'restarted';
    return wasAlive ? 'known' : 'returned';
  }

  /** Marks every peer at this address unreachable; returns the nodes that were alive until now. */
  markUnreachable(address: string, now: Millis): NodeId[] {
    const hit: NodeId[] = [];
    for (const p of this.peers.values()) {
      if (p.address !== address) continue;
      if (this.isAlive(p, now)) hit.push(p.node);
      p.unreachableAt = now;
    }
    return hit;
  }

  isAlive(p: Peer, now: Millis): boolean {
    if (p.unreachableAt !== null && p.unreachableAt >= p.lastHeard) return false;
    return now - p.lastHeard < this.deadTime;
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

  /** The moment the next live peer would be declared dead, or null. */
  nextDeadline(now: Millis): Millis | null {
    let next: Millis | null = null;
    for (const p of this.alive(now)) {
      const d = p.lastHeard + this.deadTime;
      if (next === null || d < next) next = d;
    }
    return next;
  }
}

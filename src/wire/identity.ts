/**
 * Which senders a receiver admits, before their datagrams reach the replay guard or the core.
 *
 * Named peers (heartbeat.peers entries with `node:`) bind each node name to the addresses of
 * its paths: a datagram naming a node that is not configured, or coming from an address that
 * is not one of that node's, is an 'unknown-peer'. A key holder can then speak only as a
 * configured node and only from that node's address, and no table (the replay marks, the
 * core's peers, the per-peer metrics) holds more than the configured nodes.
 *
 * Unnamed peers (plain addresses, as older configurations have them) cannot be bound: any
 * name is admitted until as many distinct names as configured peer addresses have been heard
 * (or MAX_UNNAMED with multicast), then new names are refused. That bounds the tables; it
 * cannot stop a key holder from taking a free name first. docs/configuration.md says so.
 */
import type { PeerAddress } from '../config/types.js';

/** Distinct node names admitted when peers carry no names and multicast leaves the count open. */
export const MAX_UNNAMED = 64;

export interface IdentitySpec {
  peers: readonly PeerAddress[];
  multicast: string | null;
}

export class PeerIdentity {
  /** node -> addresses of its paths; null when the peers are unnamed. */
  private readonly bound: ReadonlyMap<string, ReadonlySet<string>> | null;
  private readonly seen = new Set<string>();
  readonly capacity: number;

  constructor(spec: IdentitySpec) {
    this.bound = bindings(spec.peers);
    this.capacity = this.bound !== null ? Math.max(1, this.bound.size) : spec.multicast !== null ? MAX_UNNAMED : Math.max(1, spec.peers.length);
  }

  /** The configured node names, or null when the peers are unnamed. */
  names(): ReadonlySet<string> | null {
    return this.bound === null ? null : new Set(this.bound.keys());
  }

  /** Whether a datagram from `address` that names `node` may go further. */
  admit(node: string, address: string): boolean {
    if (this.bound !== null) return this.bound.get(node)?.has(address) ?? false;
    if (this.seen.has(node)) return true;
    if (this.seen.size >= this.capacity) return false;
    this.seen.add(node);
    return true;
  }
}

/** node -> its addresses when every peer is named (the configuration refuses a mix). */
export function bindings(peers: readonly PeerAddress[]): Map<string, Set<string>> | null {
  if (peers.length === 0 || peers.some((p) => p.node === null)) return null;
  const out = new Map<string, Set<string>>();
  for (const p of peers) {
    const node = p.node as string;
    const set = out.get(node) ?? new Set<string>();
    set.add(p.address);
    out.set(node, set);
  }
  return out;
}

/** How many peer nodes the configuration names: distinct names, else one per address. */
export function peerNodeCount(peers: readonly PeerAddress[]): number {
  return bindings(peers)?.size ?? peers.length;
}

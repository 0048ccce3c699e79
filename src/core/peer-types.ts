/** The peer table's records (peers.ts) and the small helpers on them. */
import type { WireGroup } from '../wire/types.js';
import type { Lateness } from './lateness.js';
import type { Millis, NodeId } from './types.js';

export interface PeerPath {
  address: string;
  port: number;
  lastHeard: Millis;
  /** an ICMP port unreachable for this address arrived then (after lastHeard): a hint. */
  unreachableAt: Millis | null;
  /** hints on this path are ignored until then (the last one was refuted). */
  hintsIgnoredUntil: Millis;
  /** ms of our own stalls since it was last heard: silence we could not have observed. */
  stalledMs: Millis;
  /** the peer host refused a datagram of ours (a verified ICMP error) then: the path is dead. */
  refusedAt: Millis | null;
  /** while refused: when we last sent to it anyway (core/quiet.ts: once every 2 s). */
  refusedSentAt: Millis | null;
  /** a "path silent" warning was given and not yet cleared. */
  warned: boolean;
}

export interface Peer {
  node: NodeId;
  /** the path the last message came on. */
  address: string;
  port: number;
  bootId: bigint;
  /** the latest message on any path, and its sequence number. */
  lastHeard: Millis;
  lastSeq: bigint;
  intervalMs: number;
  groups: Map<string, WireGroup>;
  /** the last message was a resign. */
  resigned: boolean;
  /** every path it was heard on (a few at most: an array, iterated without allocating). */
  paths: PeerPath[];
  lateness: Lateness;
  /** the first probe sent since it was last heard, and when its answer is overdue. */
  probedAt: Millis | null;
  answerDue: Millis | null;
  /** ICMP hints this peer refuted by speaking (forged, or a transient). */
  refutedHints: number;
  /** what livenessChanges last reported. */
  reportedAlive: boolean;
  /** probe rounds (probedAt set) that ended with the peer heard, and with it declared dead. */
  probesAnswered: number;
  probesUnanswered: number;
}

export interface PathChange {
  node: NodeId;
  address: string;
  silent: boolean;
}

/** A peer that died since the last livenessChanges() call, and how. */
export interface PeerDeath {
  node: NodeId;
  /** ms since it was last heard. */
  silentMs: Millis;
  /** set when the last path died of an unanswered probe after ICMP port unreachable. */
  confirmMs: Millis | null;
  /** its host refused a datagram we sent (a verified ICMP port unreachable). */
  refused: boolean;
}

export type RecordKind = 'new' | 'restarted' | 'returned' | 'known';

export function pathAt(p: Peer, address: string): PeerPath | undefined {
  for (let j = 0; j < p.paths.length; j++) {
    const path = p.paths[j]!;
    if (path.address === address) return path;
  }
  return undefined;
}

export function newPath(address: string, port: number, now: Millis): PeerPath {
  return { address, port, lastHeard: now, unreachableAt: null, hintsIgnoredUntil: 0, stalledMs: 0, refusedAt: null, refusedSentAt: null, warned: false };
}

/** The groups of a message by name, reusing the old map when nothing changed (the steady state). */
export function groupMap(groups: readonly WireGroup[], old: Map<string, WireGroup> | null): Map<string, WireGroup> {
  if (old && old.size === groups.length) {
    let same = true;
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!;
      if (!sameGroup(old.get(g.name), g)) same = false;
    }
    if (same) return old;
  }
  return new Map(groups.map((g) => [g.name, g] as const));
}

function sameGroup(a: WireGroup | undefined, b: WireGroup): boolean {
  return a !== undefined && a.state === b.state && a.priority === b.priority && a.reach === b.reach;
}

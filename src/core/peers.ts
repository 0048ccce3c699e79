/**
 * The peer table: what we last heard from each node, on each path, and whether it is alive.
 *
 * A peer may be heard on several paths (redundant heartbeat media, as Heartbeat had: a
 * second interface or address). A path is alive while it was heard within the dead time (plus
 * any stall of our own meanwhile: silence we could not have heard is no evidence); a peer is
 * alive while any of its paths is. A silent path alone is a warning, never a failover.
 *
 * A peer whose heartbeat is overdue is probed at once and then every fifth of its interval
 * (when, and how long an answer may take: peer-probing.ts).
 *
 * ICMP port unreachable: a crashed agent on a live host shows itself once the kernel has torn
 * the process down and closed its socket (measured here: 3 ms for a 13 MB process, 6-14 ms
 * for a 41 MB Node, 15-23 ms at 86 MB: the socket closes after the memory is freed); its kernel
 * then answers our next datagram with "port unreachable". When the error quotes a datagram we
 * really sent (the transport reads the kernel's error queue; the driver checks MAC, node, boot
 * and a recent seq), it is the peer host's own answer: the path dies at once. Anyone who knows
 * the two addresses can forge an error without such a quote; that is only a hint: the path dies
 * of it only when the peer has also failed to answer an authenticated probe for `confirmMs`
 * (the first probe since it was last heard, sent when it became overdue or, if none was, at once
 * on the hint). A live peer answers within a millisecond, so a forged error moves nothing. A
 * hint the peer refutes by speaking is counted, and hints on that path are ignored for
 * `hintHold` (DEFAULTS.election): someone forging them can at most make us fall back to the dead time.
 */
import { DEFAULTS } from '../config/defaults.js';
import type { Message } from '../wire/types.js';
import { Lateness } from './lateness.js';
import { livenessChanges, pathChanges } from './peer-changes.js';
import * as probing from './peer-probing.js';
import { groupMap, newPath, pathAt, type PathChange, type Peer, type PeerDeath, type PeerPath, type RecordKind } from './peer-types.js';
import type { Millis, NodeId } from './types.js';

export type { PathChange, Peer, PeerDeath, PeerPath, RecordKind };

export class PeerTable {
  private readonly peers = new Map<NodeId, Peer>();
  /** the same peers as an array: the hot loops below run every step and must not allocate. */
  private readonly list: Peer[] = [];
  /** alive() is asked many times per step: cached per (now, version of the table). */
  private version = 0;
  private aliveNow = Number.NaN;
  private aliveVersion = -1;
  private readonly aliveCache: Peer[] = [];

  constructor(private deadTime: Millis) {}

  setDeadTime(ms: Millis): void {
    this.deadTime = ms;
    this.version++;
  }

  /**
   * Records a message; returns 'new' for a first contact, 'restarted' on a new boot id,
   * 'returned' when a peer we had declared dead speaks again (a healed partition), and
   * `refuted` when it spoke after an ICMP hint on this path.
   */
  record(msg: Message, address: string, port: number, now: Millis): { kind: RecordKind; refuted: boolean } {
    this.version++;
    const old = this.peers.get(msg.node);
    if (old && old.bootId === msg.bootId) return this.update(old, msg, address, port, now);
    const peer: Peer = {
      node: msg.node, address, port, bootId: msg.bootId, lastHeard: now, lastSeq: msg.seq, intervalMs: msg.intervalMs,
      groups: groupMap(msg.groups, null), resigned: msg.type === 'resign', paths: [newPath(address, port, now)],
      lateness: new Lateness(now), probedAt: null, answerDue: null, refutedHints: old?.refutedHints ?? 0, reportedAlive: true,
      probesAnswered: old?.probesAnswered ?? 0, probesUnanswered: old?.probesUnanswered ?? 0,
    };
    this.peers.set(msg.node, peer);
    if (old) this.list[this.list.indexOf(old)] = peer;
    else this.list.push(peer);
    return { kind: old ? 'restarted' : 'new', refuted: false };
  }

  private update(p: Peer, msg: Message, address: string, port: number, now: Millis): { kind: RecordKind; refuted: boolean } {
    const wasAlive = this.isAlive(p, now);
    // Lateness of the sender (and of our own loop) as we see it: how far past its interval a
    // datagram came right after the previous one. Only consecutive ones: a gap after lost
    // datagrams is loss, not lateness, and must not make us wait longer to probe.
    if (wasAlive && msg.seq === p.lastSeq + 1n) p.lateness.add(Math.max(0, now - p.lastHeard - msg.intervalMs), now);
    let path = pathAt(p, address);
    if (!path) {
      path = newPath(address, port, now);
      p.paths.push(path);
    }
    const refuted = path.unreachableAt !== null;
    if (refuted) {
      path.hintsIgnoredUntil = now + DEFAULTS.election.hintHold;
      p.refutedHints++;
    }
    path.lastHeard = now;
    path.port = port;
    path.unreachableAt = null;
    path.refusedAt = path.refusedSentAt = null;
    path.stalledMs = 0;
    // A probe round ends: answered while it was alive (a dead peer's round was counted unanswered).
    if (p.probedAt !== null && wasAlive) p.probesAnswered++;
    p.probedAt = p.answerDue = null;
    p.address = address;
    p.port = port;
    p.lastHeard = now;
    p.lastSeq = msg.seq;
    p.intervalMs = msg.intervalMs;
    p.groups = groupMap(msg.groups, p.groups);
    p.resigned = msg.type === 'resign';
    p.reportedAlive = true;
    return { kind: wasAlive ? 'known' : 'returned', refuted };
  }

  /**
   * ICMP port unreachable for this address: a hint on every live path there, unless hints
   * are being ignored on it. Returns the nodes hinted and the nodes whose hint was ignored.
   */
  markUnreachable(address: string, now: Millis, verified = false): { hinted: NodeId[]; ignored: NodeId[] } {
    const out = { hinted: [] as NodeId[], ignored: [] as NodeId[] };
    for (let i = 0; i < this.list.length; i++) {
      const p = this.list[i]!;
      const path = pathAt(p, address);
      if (!path || !this.pathAlive(p, path, now)) continue;
      if (verified) {
        // The peer host refused a datagram we really sent: no probe to wait for.
        path.refusedAt = now;
        this.version++;
        out.hinted.push(p.node);
        continue;
      }
      if (now < path.hintsIgnoredUntil) {
        out.ignored.push(p.node);
        continue;
      }
      if (path.unreachableAt !== null) continue; // already being confirmed
      path.unreachableAt = now;
      this.version++;
      out.hinted.push(p.node);
    }
    return out;
  }

  /**
   * Our own loop was stalled for `ms` up to now (a timer fired that late: the CPU was taken
   * from us, a GC pause, the whole machine paused). Nothing could be read meanwhile, so that
   * time is not silence we observed: every path that was alive when the stall began gets it
   * added to its dead time. When both directors stall together (a hypervisor pause, a loaded
   * host running both), neither calls the other dead for it; a real death is found late by at
   * most the stall itself.
   */
  stalled(ms: Millis, now: Millis): void {
    const from = now - ms;
    for (let i = 0; i < this.list.length; i++) {
      const p = this.list[i]!;
      for (let j = 0; j < p.paths.length; j++) {
        const path = p.paths[j]!;
        if (path.lastHeard >= from || this.pathDeath(p, path) <= from) continue;
        path.stalledMs += ms;
        this.version++;
      }
    }
  }

  /** Whether a live peer has a hint on a path and no probe out since it was last heard. */
  needsConfirmProbe(now: Millis): boolean {
    return probing.needsConfirmProbe(this.alive(now));
  }

  /** A probe went to every peer now: the first one since a peer was last heard starts its answer's clock. */
  probeSent(now: Millis): void {
    const alive = this.alive(now);
    for (let i = 0; i < alive.length; i++) {
      const p = alive[i]!;
      if (p.probedAt !== null) continue;
      p.probedAt = now;
      p.answerDue = now + this.confirmMs(p, now);
      this.version++;
    }
  }

  /** How long a peer gets to answer the probe after an ICMP hint (peer-probing.ts). */
  confirmMs(p: Peer, now: Millis): Millis {
    return probing.confirmMs(p, now, this.deadTime);
  }

  /**
   * When the path dies if nothing more is heard on it: at the dead time, or once an ICMP hint
   * and an unanswered probe are both there (whichever came last).
   */
  private pathDeath(p: Peer, path: PeerPath): Millis {
    const silent = path.lastHeard + this.deadTime + path.stalledMs;
    if (path.refusedAt !== null) return Math.min(silent, path.refusedAt);
    if (path.unreachableAt === null || p.answerDue === null) return silent;
    return Math.min(silent, Math.max(path.unreachableAt, p.answerDue));
  }

  /** Whether the path died of a hint and an unanswered probe rather than of silence. */
  /** @internal */
  diedOfHint(p: Peer, path: PeerPath): boolean {
    if (path.refusedAt !== null) return true;
    return path.unreachableAt !== null && p.answerDue !== null && this.pathDeath(p, path) < path.lastHeard + this.deadTime + path.stalledMs;
  }

  pathAlive(p: Peer, path: PeerPath, now: Millis): boolean {
    return now < this.pathDeath(p, path);
  }

  isAlive(p: Peer, now: Millis): boolean {
    for (let j = 0; j < p.paths.length; j++) {
      const path = p.paths[j]!;
      if (this.pathAlive(p, path, now)) return true;
    }
    return false;
  }

  /** How far past its interval a peer's heartbeat may be before it is probed (peer-probing.ts). */
  overdueMargin(p: Peer, now: Millis): Millis {
    return probing.overdueMargin(p, now);
  }

  /** When a live peer (not leaving) becomes overdue, or null when none can. */
  nextOverdue(now: Millis): Millis | null {
    return probing.nextOverdue(this.alive(now), now);
  }

  /** Whether a live peer (not leaving) is overdue now: heartbeats were lost, or it is gone. */
  anyOverdue(now: Millis): boolean {
    const at = this.nextOverdue(now);
    return at !== null && now >= at;
  }

  /** How often to probe while a peer is overdue: a fifth of the shortest interval among them. */
  probeEvery(now: Millis): Millis {
    return probing.probeEvery(this.alive(now));
  }

  /** The live peers. The array is reused: read it, do not keep it. */
  alive(now: Millis): readonly Peer[] {
    if (now === this.aliveNow && this.version === this.aliveVersion) return this.aliveCache;
    this.aliveCache.length = 0;
    for (let i = 0; i < this.list.length; i++) {
      const p = this.list[i]!;
      if (this.isAlive(p, now)) this.aliveCache.push(p);
    }
    this.aliveNow = now;
    this.aliveVersion = this.version;
    return this.aliveCache;
  }

  all(): readonly Peer[] {
    return this.list;
  }

  get(node: NodeId): Peer | undefined {
    return this.peers.get(node);
  }

  /** The moment the next live peer would be declared dead (its last live path), or null. */
  nextDeadline(now: Millis): Millis | null {
    let next: Millis | null = null;
    const alive = this.alive(now);
    for (let i = 0; i < alive.length; i++) {
      const p = alive[i]!;
      let last = 0;
      for (let j = 0; j < p.paths.length; j++) {
        const path = p.paths[j]!;
        if (this.pathAlive(p, path, now)) last = Math.max(last, this.pathDeath(p, path));
      }
      if (next === null || last < next) next = last;
    }
    return next;
  }

  /** Peers that died since the last call (each once), with what killed them (peer-changes.ts). */
  livenessChanges(now: Millis): readonly PeerDeath[] {
    return livenessChanges(this, now);
  }

  /** Paths of live peers that fell silent or came back since the last call (peer-changes.ts). */
  pathChanges(now: Millis): readonly PathChange[] {
    return pathChanges(this, now);
  }
}

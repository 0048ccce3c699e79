/**
 * The peer table: what we last heard from each node, on each path, and whether it is alive.
 *
 * A peer may be heard on several paths (redundant heartbeat media, as Heartbeat had: a
 * second interface or address). A path is alive while it was heard within the dead time; a
 * peer is alive while any of its paths is. A silent path alone is a warning, never a failover.
 *
 * A peer whose heartbeat is overdue (later than its interval plus a margin sized from how
 * late it has been recently) is probed at once and then every fifth of its interval: a live
 * peer answers a probe immediately, so a burst of lost datagrams must also swallow those
 * round trips before the dead time, and a crashed one is asked again and again.
 *
 * ICMP port unreachable is a hint, never a verdict. A crashed agent on a live host shows itself
 * once the kernel has torn the process down and closed its socket (measured here: 3 ms for a
 * 13 MB process, 6-14 ms for a 41 MB Node, 15-23 ms at 86 MB: the socket closes after the
 * memory is freed): its kernel then answers our next datagram with "port unreachable". But ICMP
 * is not authenticated, and anyone on the segment who knows the two addresses can forge one. So
 * a path dies of a hint only when the peer has also failed to answer an authenticated probe for
 * `confirmMs`: the first probe since it was last heard, sent when it became overdue or, if none
 * was, at once on the hint. A live peer answers within a millisecond, so a forged error moves
 * nothing. A hint the peer refutes by speaking is counted, and hints on that path are ignored
 * for `HINT_HOLD_MS`: someone forging them can at most make us fall back to the dead time,
 * which is all keepalived has.
 */
import type { Message, WireGroup } from '../wire/types.js';
import type { Millis, NodeId } from './types.js';

/**
 * Least time a probe answer is given after an ICMP hint, on an idle host. An answer takes a
 * wake-up, one HMAC and one datagram each way: well under a millisecond, a few with a
 * young-generation GC in between. Added to it: twice the worst lateness the peer's own
 * heartbeats showed recently, so a loaded or slow peer gets the time it has been needing.
 */
export const CONFIRM_FLOOR_MS: Millis = 4;
/** How long hints on a path are ignored after one was refuted (a forger's retry rate). */
export const HINT_HOLD_MS: Millis = 10_000;
/** Lateness is remembered over one to two windows of this length. */
export const LATENESS_WINDOW_MS: Millis = 5_000;
/** A heartbeat this much past the peer's interval (at least) makes the peer overdue. */
export const OVERDUE_MIN_MS: Millis = 1;
/** While a peer is overdue it is probed this often, as a fraction of its interval. */
export const OVERDUE_PROBES_PER_INTERVAL = 5;

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
  /** a "path silent" warning was given and not yet cleared. */
  warned: boolean;
}

/** The worst recent lateness of a peer's datagrams: max over the current and the last window. */
export class Lateness {
  private cur = 0;
  private prev = 0;
  private start: Millis;

  constructor(now: Millis) {
    this.start = now;
  }

  add(lateMs: Millis, now: Millis): void {
    this.roll(now);
    if (lateMs > this.cur) this.cur = lateMs;
  }

  max(now: Millis): Millis {
    this.roll(now);
    return Math.max(this.cur, this.prev);
  }

  private roll(now: Millis): void {
    const age = now - this.start;
    if (age < LATENESS_WINDOW_MS) return;
    this.prev = age < 2 * LATENESS_WINDOW_MS ? this.cur : 0;
    this.cur = 0;
    this.start = now;
  }
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

const NO_DEATHS: readonly PeerDeath[] = Object.freeze([]);
const NO_CHANGES: readonly PathChange[] = Object.freeze([]);

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
      path.hintsIgnoredUntil = now + HINT_HOLD_MS;
      p.refutedHints++;
    }
    path.lastHeard = now;
    path.port = port;
    path.unreachableAt = null;
    path.refusedAt = null;
    path.stalledMs = 0;
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
    for (const p of this.list) {
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
    for (const p of this.list) {
      for (const path of p.paths) {
        if (path.lastHeard >= from || this.pathDeath(p, path) <= from) continue;
        path.stalledMs += ms;
        this.version++;
      }
    }
  }

  /** Whether a live peer has a hint on a path and no probe out since it was last heard. */
  needsConfirmProbe(now: Millis): boolean {
    for (const p of this.alive(now)) {
      if (p.probedAt !== null) continue;
      for (const path of p.paths) if (path.unreachableAt !== null) return true;
    }
    return false;
  }

  /** A probe went to every peer now: the first one since a peer was last heard starts its answer's clock. */
  probeSent(now: Millis): void {
    for (const p of this.alive(now)) {
      if (p.probedAt !== null) continue;
      p.probedAt = now;
      p.answerDue = now + this.confirmMs(p, now);
      this.version++;
    }
  }

  /** How long a peer gets to answer the probe after an ICMP hint. */
  confirmMs(p: Peer, now: Millis): Millis {
    const want = CONFIRM_FLOOR_MS + 2 * p.lateness.max(now);
    return Math.max(1, Math.min(want, this.deadTime / 2));
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
  private diedOfHint(p: Peer, path: PeerPath): boolean {
    if (path.refusedAt !== null) return true;
    return path.unreachableAt !== null && p.answerDue !== null && this.pathDeath(p, path) < path.lastHeard + this.deadTime + path.stalledMs;
  }

  pathAlive(p: Peer, path: PeerPath, now: Millis): boolean {
    return now < this.pathDeath(p, path);
  }

  isAlive(p: Peer, now: Millis): boolean {
    for (const path of p.paths) if (this.pathAlive(p, path, now)) return true;
    return false;
  }

  /**
   * How far past its interval a peer's heartbeat may be before it is probed: twice its recent
   * lateness, at least OVERDUE_MIN_MS, at most one more interval (probing starts no later
   * than after two silent intervals, whatever the lateness).
   */
  overdueMargin(p: Peer, now: Millis): Millis {
    return Math.min(p.intervalMs, Math.max(OVERDUE_MIN_MS, 2 * p.lateness.max(now)));
  }

  /** When a live peer (not leaving) becomes overdue, or null when none can. */
  nextOverdue(now: Millis): Millis | null {
    let next: Millis | null = null;
    for (const p of this.alive(now)) {
      if (p.resigned) continue;
      const at = p.lastHeard + p.intervalMs + this.overdueMargin(p, now);
      if (next === null || at < next) next = at;
    }
    return next;
  }

  /** Whether a live peer (not leaving) is overdue now: heartbeats were lost, or it is gone. */
  anyOverdue(now: Millis): boolean {
    const at = this.nextOverdue(now);
    return at !== null && now >= at;
  }

  /** How often to probe while a peer is overdue: a fifth of the shortest interval among them. */
  probeEvery(now: Millis): Millis {
    let every = Number.POSITIVE_INFINITY;
    for (const p of this.alive(now)) if (!p.resigned) every = Math.min(every, p.intervalMs / OVERDUE_PROBES_PER_INTERVAL);
    return Math.max(1, every);
  }

  /** The live peers. The array is reused: read it, do not keep it. */
  alive(now: Millis): readonly Peer[] {
    if (now === this.aliveNow && this.version === this.aliveVersion) return this.aliveCache;
    this.aliveCache.length = 0;
    for (const p of this.list) if (this.isAlive(p, now)) this.aliveCache.push(p);
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
    for (const p of this.alive(now)) {
      let last = 0;
      for (const path of p.paths) if (this.pathAlive(p, path, now)) last = Math.max(last, this.pathDeath(p, path));
      if (next === null || last < next) next = last;
    }
    return next;
  }

  /** Peers that died since the last call (each once), with what killed them. */
  livenessChanges(now: Millis): readonly PeerDeath[] {
    let out: PeerDeath[] | null = null;
    for (const p of this.list) {
      if (!p.reportedAlive || this.isAlive(p, now)) continue;
      p.reportedAlive = false;
      let confirmMs: Millis | null = null;
      let refused = false;
      for (const path of p.paths) {
        if (path.refusedAt !== null) refused = true;
        else if (this.diedOfHint(p, path) && p.probedAt !== null) confirmMs = now - p.probedAt;
      }
      (out ??= []).push({ node: p.node, silentMs: now - p.lastHeard, confirmMs, refused });
    }
    return out ?? NO_DEATHS;
  }

  /**
   * Paths of live peers that fell silent (or came back) since the last call: warnings for
   * the log and status, never an election input.
   */
  pathChanges(now: Millis): readonly PathChange[] {
    let out: PathChange[] | null = null;
    for (const p of this.alive(now)) {
      if (p.paths.length < 2) continue;
      for (const path of p.paths) {
        const silent = !this.pathAlive(p, path, now);
        if (silent === path.warned) continue;
        path.warned = silent;
        (out ??= []).push({ node: p.node, address: path.address, silent });
      }
    }
    return out ?? NO_CHANGES;
  }
}

function pathAt(p: Peer, address: string): PeerPath | undefined {
  for (const path of p.paths) if (path.address === address) return path;
  return undefined;
}

function newPath(address: string, port: number, now: Millis): PeerPath {
  return { address, port, lastHeard: now, unreachableAt: null, hintsIgnoredUntil: 0, stalledMs: 0, refusedAt: null, warned: false };
}

/** The groups of a message by name, reusing the old map when nothing changed (the steady state). */
function groupMap(groups: readonly WireGroup[], old: Map<string, WireGroup> | null): Map<string, WireGroup> {
  if (old && old.size === groups.length) {
    let same = true;
    for (const g of groups) if (!sameGroup(old.get(g.name), g)) same = false;
    if (same) return old;
  }
  return new Map(groups.map((g) => [g.name, g] as const));
}

function sameGroup(a: WireGroup | undefined, b: WireGroup): boolean {
  return a !== undefined && a.state === b.state && a.priority === b.priority && a.reach === b.reach;
}

/**
 * The end of every step: what to send (beat.ts decides, the peer table and the groups say
 * what is wanted), the next deadline to be woken at, and the log notes the peer table's
 * changes make. Pure functions over the core's state; nothing here changes a group.
 */
import type { BeatSchedule, SendWants } from './beat.js';
import type { GroupRt } from './group.js';
import type { PeerTable } from './peers.js';
import type { Millis, Note } from './types.js';

export interface ScheduleView {
  peers: PeerTable;
  groups: readonly GroupRt[];
  beat: BeatSchedule;
  shuttingDown: boolean;
  /** probes on (the default; off only to measure without them). */
  probes: boolean;
  handoverGrace: Millis;
}

/** What the peer table and the groups ask of the send schedule now (beat.ts). */
export function sendWants(v: ScheduleView, now: Millis): SendWants {
  const probing = !v.shuttingDown && v.probes;
  let holding = false;
  for (let i = 0; i < v.groups.length; i++) {
    const g = v.groups[i]!;
    if (g.state === 'active' && g.vipReady && !g.release) holding = true;
  }
  return {
    now,
    sendNow: false,
    shuttingDown: v.shuttingDown,
    suspect: probing && v.peers.anyOverdue(now),
    probeEvery: v.peers.probeEvery(now),
    confirm: v.peers.needsConfirmProbe(now),
    follower: holding && v.peers.alive(now).length > 0,
  };
}

/** The earliest deadline: the send schedule's, a peer's death or overdue time, a group's timer. */
export function nextWake(v: ScheduleView, now: Millis, wants: SendWants): Millis {
  // A probe sent in this step changed the peers' confirmation state: ask again then.
  let at = v.beat.wakeAt(wants.confirm ? sendWants(v, now) : wants);
  const min = (t: Millis | null): void => {
    if (t !== null && t < at) at = t;
  };
  min(v.peers.nextDeadline(now));
  // The moment a peer becomes overdue it is probed (a step at least then).
  if (!v.shuttingDown && v.probes) {
    const overdue = v.peers.nextOverdue(now);
    if (overdue !== null && overdue > now) min(overdue);
  }
  for (let i = 0; i < v.groups.length; i++) {
    const g = v.groups[i]!;
    if (g.state === 'init') min(g.initUntil);
    min(g.listenUntil);
    min(g.preemptAt);
    min(g.retryAt);
    min(g.refreshAt);
    if (g.release) {
      min(g.release.deadline);
      if (g.release.successorSince !== null) min(g.release.successorSince + v.handoverGrace);
    }
  }
  return at;
}

/** Log notes for the peers that died and the paths that fell silent or came back. */
export function peerNotes(peers: PeerTable, now: Millis, notes: Note[]): void {
  const deaths = peers.livenessChanges(now);
  for (let i = 0; i < deaths.length; i++) {
    const d = deaths[i]!;
    const msg = d.refused
      ? `peer ${d.node} dead: its host refused our heartbeat (port unreachable, quoting it)`
      : d.confirmMs !== null
        ? `peer ${d.node} dead: port unreachable and no answer to a probe within ${fmtMs(d.confirmMs)} ms`
        : `peer ${d.node} dead: silent for ${fmtMs(d.silentMs)} ms`;
    notes.push({ level: 'warn', peer: d.node, msg });
  }
  const changes = peers.pathChanges(now);
  for (let i = 0; i < changes.length; i++) {
    const c = changes[i]!;
    notes.push(c.silent ? { level: 'warn', peer: c.node, msg: `peer ${c.node}: path ${c.address} silent (other paths alive: no failover)` } : { level: 'info', peer: c.node, msg: `peer ${c.node}: path ${c.address} heard again` });
  }
}

/** Milliseconds for a log line: whole numbers, one decimal below 10. */
export function fmtMs(ms: Millis): string {
  return ms < 10 ? ms.toFixed(1) : String(Math.round(ms));
}

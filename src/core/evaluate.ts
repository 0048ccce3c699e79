/**
 * One group's evaluation at the end of a step: what its state calls for now (init ->
 * standby, claim, preempt, hand over, release, retry after a fault). Reads the core through
 * EvalCore; changes the group through transitions.ts.
 */
import { DEFAULTS } from '../config/defaults.js';
import type { GroupRt } from './group.js';
import type { PeerTable } from './peers.js';
import { best, outranks, type Candidate } from './rank.js';
import { isBgp, isLevip, isShared, type StepCtx } from './step.js';
import { announce, becomeActive, becomeStandby, ensureVip, nextBackoff, reannounce, toHealthFault } from './transitions.js';
import type { CoreOptions, Millis } from './types.js';
import { activePeers, anyActivePeer, holderPeer, liveCandidates } from './views.js';

/** What the evaluation reads of the core (Core implements it). */
export interface EvalCore {
  readonly opts: CoreOptions;
  readonly peers: PeerTable;
  readonly shuttingDown: boolean;
  readonly maintenance: boolean;
  readonly handoverGrace: Millis;
  hasQuorum(now: Millis): boolean;
  selfCandidate(g: GroupRt): Candidate;
  /** why g may not be active here (its own state, or a member of its sync unit). */
  ineligible(g: GroupRt): string;
  startRelease(g: GroupRt, reason: string, ctx: StepCtx): void;
}

export function evaluate(c: EvalCore, g: GroupRt, ctx: StepCtx): void {
  trackHolder(c, g, ctx.now);
  switch (g.state) {
    case 'init':
      return evalInit(c, g, ctx);
    case 'standby':
      return evalStandby(c, g, ctx);
    case 'active':
      return evalActive(c, g, ctx);
    case 'fault':
      return evalFault(c, g, ctx);
  }
}

function evalInit(c: EvalCore, g: GroupRt, ctx: StepCtx): void {
  if (c.shuttingDown || g.vipPending > 0) return;
  const heardAll = c.opts.expectedPeers > 0 && c.peers.alive(ctx.now).length >= c.opts.expectedPeers;
  let reason: string | null = null;
  if (holderPeer(c.peers, g, ctx.now)) reason = 'learned the active node';
  else if (heardAll) reason = 'heard every peer';
  else if (ctx.now >= g.initUntil) reason = 'init-dead elapsed';
  if (reason === null) return;
  g.become('standby', ctx.now, reason, ctx.transitions);
  ctx.sendNow = true;
  evalStandby(c, g, ctx);
}

function evalStandby(c: EvalCore, g: GroupRt, ctx: StepCtx): void {
  if (g.healthFault) return toHealthFault(g, g.healthFault, ctx);
  const self = c.selfCandidate(g);
  if (c.shuttingDown || self.priority <= 0) {
    g.preemptAt = null;
    return;
  }
  if (!c.hasQuorum(ctx.now)) {
    g.preemptAt = null;
    return;
  }
  if (isShared(g)) {
    // LevIP, ecmp bgp: every eligible member holds the IP; nobody competes, so there is
    // nothing to listen for after a fault (a listenUntil left set would be a deadline in the
    // past for ever: nextWake would spin).
    g.listenUntil = null;
    becomeActive(g, isLevip(g) ? 'levip member' : 'ecmp member', ctx);
    return;
  }
  const holder = holderPeer(c.peers, g, ctx.now);
  const cands = liveCandidates(c.peers, g, ctx.now);
  const isBest = cands.every((c) => outranks(self, c));
  if (!holder) {
    g.preemptAt = null;
    if (listening(c, g, ctx.now)) return;
    // 'no eligible peer': peers are alive but none may serve (fault, resigning, maintenance).
    if (isBest) becomeActive(g, cands.length > 0 ? 'no active peer; we rank best' : c.peers.alive(ctx.now).length > 0 ? 'no eligible peer' : 'no live peer', ctx);
    return;
  }
  g.listenUntil = null; // an active peer is heard: we know enough
  const mayPreempt = (g.cfg.preempt || g.boosted) && isBest && outranks(self, holder);
  if (!mayPreempt) {
    g.preemptAt = null;
    return;
  }
  const delay = g.boosted ? 0 : g.cfg.preemptDelay;
  g.preemptAt ??= ctx.now + delay;
  if (ctx.now >= g.preemptAt) becomeActive(g, `preempting ${holder.node} (priority ${self.priority} > ${holder.priority})`, ctx);
}

function evalActive(c: EvalCore, g: GroupRt, ctx: StepCtx): void {
  const self = c.selfCandidate(g);
  if (g.release) return evalRelease(c, g, ctx);
  if (self.priority <= 0) return c.startRelease(g, c.maintenance ? 'maintenance' : c.ineligible(g), ctx);
  if (!c.hasQuorum(ctx.now)) return becomeStandby(g, `lost quorum: hear fewer than ${c.opts.quorum} of the configured nodes`, ctx);
  if (isShared(g)) return; // no dual-active rule: several active members is the point
  const others = activePeers(c.peers, g, ctx.now);
  const top = best(others);
  if (top && outranks(top, self)) {
    // Make-before-break, as in a planned handover: the winner re-announces now; we keep
    // answering for the handover grace (under half an interval) so the client is not left
    // on our MAC with nobody behind it while that announcement is on its way.
    c.startRelease(g, `dual active: ${top.node} outranks us`, ctx);
    return;
  }
  // No ARP to win back a router with: the routing daemon's announcement is the claim.
  if (isBgp(g)) return;
  const conflict = top !== null || ctx.peerReturned;
  if (conflict && g.vipReady && (g.conflictAnnouncedAt === null || ctx.now - g.conflictAnnouncedAt >= Math.max(c.opts.deadTime, DEFAULTS.election.reannounceMin))) {
    // Both sides may have been active (a healed partition, a restarted peer): we win, so
    // pull the router back to us even if the loser already released.
    g.conflictAnnouncedAt = ctx.now;
    reannounce(g, top ? `dual active: we outrank ${top.node}` : 'a peer came back: re-announcing', ctx);
  }
  if (ctx.peerYielded?.has(g.name) && g.vipReady && top === null && g.conflictAnnouncedAt !== ctx.now) {
    // The other side of a dual active just released: its takeover or conflict GARPs may
    // have reached the router after ours, so claim the address again, now that it is ours
    // alone (not rate limited: a peer leaves active at most once per claim of its own).
    g.conflictAnnouncedAt = ctx.now;
    reannounce(g, 'a peer released the VIP: re-announcing', ctx);
  }
  if (g.refreshAt !== null && ctx.now >= g.refreshAt && g.vipReady) {
    g.refreshAt = ctx.now + g.cfg.garp.refresh;
    announce(g, 'refresh', ctx);
  }
}

export function evalRelease(c: EvalCore, g: GroupRt, ctx: StepCtx): void {
  const rel = g.release!;
  const successor = holderPeer(c.peers, g, ctx.now);
  if (successor) {
    rel.successorSince ??= ctx.now;
    if (ctx.now >= rel.successorSince + c.handoverGrace) becomeStandby(g, `${rel.reason}: handed over to ${successor.node}`, ctx);
    return;
  }
  rel.successorSince = null;
  if (liveCandidates(c.peers, g, ctx.now).length === 0) return becomeStandby(g, `${rel.reason}: no live peer to hand over to`, ctx);
  if (ctx.now >= rel.deadline) becomeStandby(g, `${rel.reason}: no successor within the dead time`, ctx);
}

function evalFault(c: EvalCore, g: GroupRt, ctx: StepCtx): void {
  if (g.vipPending > 0) return;
  const due = g.retryAt === null || ctx.now >= g.retryAt;
  if (g.vipHave !== false) {
    // Leave fault only once the VIP is known to be gone.
    if (due) {
      g.retryAt = ctx.now + nextBackoff(g);
      ensureVip(g, false, ctx);
    }
    return;
  }
  if (g.healthFault) {
    // VIP gone; stay until the check or link recovers (no timer: the monitor reports it).
    g.retryAt = null;
    g.faultReason = g.healthFault;
    return;
  }
  if (!due) return;
  g.retryAt = null;
  g.become('standby', ctx.now, 'retrying after fault', ctx.transitions);
  g.listenUntil = ctx.now + c.opts.deadTime;
  ctx.sendNow = true;
  ctx.solicit = true;
  evalStandby(c, g, ctx);
}

/** Back from fault and not yet sure who is alive: no claim (see GroupRt.listenUntil). */
function listening(c: EvalCore, g: GroupRt, now: Millis): boolean {
  if (g.listenUntil === null) return false;
  const heardAll = c.opts.expectedPeers > 0 && c.peers.alive(now).length >= c.opts.expectedPeers;
  if (now < g.listenUntil && !heardAll) return true;
  g.listenUntil = null;
  return false;
}

function trackHolder(c: EvalCore, g: GroupRt, now: Millis): void {
  let holder: string | null = null;
  if (g.state === 'active' && g.vipReady) holder = c.opts.node;
  else {
    const p = anyActivePeer(c.peers, g, now);
    holder = p?.node ?? null;
  }
  if (holder !== g.holder) {
    g.holder = holder;
    g.holderSince = holder === null ? null : now;
  }
}

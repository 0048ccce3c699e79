/**
 * The election: a deterministic state machine per VIP group, driven by inputs that carry
 * `now` (monotonic ms). It never reads a clock, sets a timer, or touches the host; it
 * returns actions, transitions and the next deadline it wants to be woken at.
 *
 *          start --> INIT --(init-dead elapsed | group state learned)--> STANDBY
 *                                                                       |    ^
 *      (no live active peer and we rank best | preempt over lower) -----+    | (better active peer,
 *                                                                       v    |  handover, shutdown)
 *                                                                      ACTIVE
 *      VIP add/remove failed (from any state) ----------------------> FAULT --(retry, VIP absent)--> STANDBY
 *
 * The transition table is in group.ts, the ranking in rank.ts. Design notes:
 * - Level-triggered: every input updates the view (peer table, VIP results), then every
 *   group is re-evaluated from scratch. No decision depends on which event came first.
 * - A group advertises `active` only once the VIP is confirmed on the host, so a peer
 *   never releases to a node that cannot serve yet.
 * - A planned handover (shutdown, `standby`, maintenance) keeps the VIP until a successor
 *   advertises active, plus a short grace for its gratuitous ARP to land, so clients see
 *   no gap; with no successor alive it releases at once.
 */
import { QuietPaths } from './quiet.js';
import type { GroupConfig } from '../config/types.js';
import type { WireGroup } from '../wire/types.js';
import { vipDevice } from '../levip/mode.js';
import { GroupRt } from './group.js';
import { BeatSchedule, type SendWants } from './beat.js';
import { nextWake, peerNotes, sendWants, type ScheduleView } from './schedule.js';
import { applyPeerInput } from './peer-inputs.js';
import { PeerTable } from './peers.js';
import { best, outranks, type Candidate } from './rank.js';
import { operatorCommand } from './commands.js';
import { reconfigure, retiredResult } from './reconfigure.js';
import { isLevip, order, type StepCtx } from './step.js';
import { activePeers, anyActivePeer, holderPeer, liveCandidates } from './views.js';
import type { CommandReply, CoreOptions, Input, Millis, StepResult } from './types.js';

/** Priority advertised after an operator `takeover`: above any configured priority (1-254). */
export const TAKEOVER_PRIORITY = 255;
/** Priority advertised after an operator `standby`: the lowest eligible one (last resort only). */
export const DEMOTED_PRIORITY = 1;
/** First and largest retry delay after a VIP operation failed. */
export const FAULT_RETRY_MIN: Millis = 1000;
export const FAULT_RETRY_MAX: Millis = 16000;
/**
 * Least time between two re-announcements for a returning peer or a dual active. Short
 * enough that the first re-announce of a new episode (a partition healing shortly after
 * the last one) is never suppressed; long enough, with re-announcements of one frame pair
 * (see reannounce), that a peer flapping on a loaded host (missing a dead time now and
 * then) cannot turn into a stream of arping spawns that loads the host further.
 */
export const REANNOUNCE_MIN: Millis = 250;


export class Core {
  readonly peers: PeerTable;
  private readonly quietPaths = new QuietPaths();
  groups: GroupRt[];
  /** groups removed by a reload, until their VIP is confirmed gone. */
  retired: GroupRt[] = [];
  /** @internal next group instance id (reload allocates). */
  nextGid = 1;
  maintenance: boolean;
  shuttingDown = false;
  startedAt: Millis | null = null;
  private beat: BeatSchedule;
  private exited = false;
  lastReply: CommandReply | null = null;

  readonly opts: CoreOptions;

  constructor(opts: CoreOptions) {
    this.opts = { ...opts };
    this.peers = new PeerTable(opts.deadTime);
    this.beat = new BeatSchedule(opts.interval, 0);
    this.groups = opts.groups.map((g: GroupConfig) => new GroupRt(g, 0, this.nextGid++));
    this.maintenance = opts.maintenance ?? false;
  }

  /** @internal a reload changed the heartbeat interval. */
  changeInterval(ms: Millis): void {
    this.beat.changeInterval(ms);
  }

  /** Handover grace: how long a releasing node keeps the VIP after the successor claimed it. */
  get handoverGrace(): Millis {
    return Math.min(20, this.opts.interval / 2);
  }

  step(input: Input): StepResult {
    const ctx: StepCtx = { now: input.now, actions: [], transitions: [], notes: [], sendNow: false, solicit: false, heard: false, peerReturned: false, peerYielded: null };
    this.lastReply = null;
    this.apply(input, ctx);
    peerNotes(this.peers, ctx.now, ctx.notes);
    if (!this.quiet(input, ctx)) {
      for (let i = 0; i < this.groups.length; i++) {
        const g = this.groups[i]!;
        this.evaluate(g, ctx);
      }
    }
    const wants = this.finish(ctx);
    const wakeAt = wants === null || this.exited ? null : nextWake(this.view(), ctx.now, wants);
    return { actions: order(ctx.actions), transitions: ctx.transitions, wakeAt, notes: ctx.notes };
  }

  /**
   * A heartbeat that says what the peer's last one said, from a peer that was alive, while
   * every group is settled (no claim, release, preemption or VIP change under way): the
   * evaluation would find what it found at the last step, and every decision that depends on
   * time alone has its deadline in wakeAt. So only the peer table and the send schedule move.
   * This is the steady state, a hundred times a second at 10 ms heartbeats.
   */
  private quiet(input: Input, ctx: StepCtx): boolean {
    if (input.kind !== 'message' || input.same !== true || ctx.peerReturned || ctx.sendNow || ctx.notes.length > 0) return false;
    for (let i = 0; i < this.groups.length; i++) {
      const g = this.groups[i]!;
      if (g.state === 'init' || g.release || g.preemptAt !== null || g.vipPending > 0 || g.listenUntil !== null) return false;
    }
    return true;
  }

  private apply(input: Input, ctx: StepCtx): void {
    switch (input.kind) {
      case 'start':
        this.startedAt = input.now;
        this.beat = new BeatSchedule(this.opts.interval, input.now);
        // Peers answer a probe at once: init ends as soon as every one of them was heard.
        ctx.solicit = true;
        for (let i = 0; i < this.groups.length; i++) {
          const g = this.groups[i]!;
          g.since = input.now;
          g.initUntil = input.now + this.opts.initDead;
          // Reconcile a VIP that a crashed run may have left behind: nobody has won yet.
          this.ensureVip(g, false, ctx);
        }
        return;
      case 'tick':
      case 'message':
      case 'unreachable':
        return applyPeerInput(this.peers, this.beat, this.opts.deadTime, input, ctx);
      case 'vipResult':
        return this.onVipResult(input, ctx);
      case 'reconfigure':
        return reconfigure(this, input.options, ctx);
      case 'conflict': {
        const g = this.instance(input.group, undefined);
        if (!g || g.state !== 'active' || !g.vipReady || input.macs.length === 0) return;
        g.conflicts++;
        g.lastConflict = { macs: input.macs, at: input.now };
        ctx.notes.push({ level: 'error', group: g.name, msg: `VIP CONFLICT: ${g.cfg.vip.address} is also answered by ${input.macs.join(', ')}; re-announcing` });
        // Both forms, whatever the configured form: a router that missed one may honour the other.
        ctx.actions.push({ kind: 'announce', group: g.name, gid: g.id, reason: 'conflict', vip: g.cfg.vip, iface: g.cfg.interface, garp: { ...g.cfg.garp, form: 'both' } });
        return;
      }
      case 'health': {
        const g = this.group(input.group);
        if (!g) return;
        const was = g.healthFault;
        g.healthPenalty = Math.max(0, input.penalty);
        g.healthFault = input.fault;
        g.healthPending = input.pending ?? null;
        g.reach = input.reach;
        ctx.sendNow = true; // peers rank on our priority and reach: tell them now
        // In init the flag alone keeps us from claiming; from standby/active it is a fault.
        if (input.fault && (g.state === 'standby' || g.state === 'active')) this.toHealthFault(g, input.fault, ctx);
        else if (!input.fault && was) ctx.notes.push({ level: 'info', group: g.name, msg: `health recovered (was: ${was})` });
        return;
      }
      case 'announceResult': {
        const g = this.instance(input.group, input.gid);
        if (g) g.announcements += input.sent;
        for (const e of input.errors) ctx.notes.push({ level: 'error', group: input.group, msg: `gratuitous ARP failed: ${e}` });
        return;
      }
      case 'shutdown':
        return this.onShutdown(ctx);
      case 'command':
        this.lastReply = operatorCommand(this, input.command, ctx);
        return;
    }
  }

  // ---- inputs ----------------------------------------------------------------------

  private onVipResult(r: Extract<Input, { kind: 'vipResult' }>, ctx: StepCtx): void {
    const old = this.retired.find((x) => x.id === r.gid);
    if (old) return retiredResult(this, old, r, ctx);
    const g = this.instance(r.group, r.gid);
    if (!g) return;
    g.vipPending = Math.max(0, g.vipPending - 1);
    if (r.ok) {
      g.vipHave = r.present;
      g.vipError = null;
      if (r.present) g.retryBackoff = 0; // healthy again only once a claim succeeded
      if (r.present && g.state === 'active' && g.vipWant === true) {
        // LevIP members never announce on their own: the rotation schedule does.
        if (!isLevip(g)) this.announce(g, 'took over', ctx);
        ctx.sendNow = true;
        if (g.cfg.garp.refresh > 0) g.refreshAt = ctx.now + g.cfg.garp.refresh;
      }
      // What we want may have changed while this change ran (a flap): follow the latest want.
      if (g.vipWant !== null && g.vipWant !== r.present) this.ensureVip(g, g.vipWant, ctx);
      return;
    }
    g.vipError = r.error ?? 'unknown error';
    const what = r.present ? 'add' : 'remove';
    ctx.notes.push({ level: 'error', group: g.name, msg: `cannot ${what} VIP: ${g.vipError}` });
    if (!r.present) g.vipHave = null; // unknown: evalFault keeps trying to remove it
    // After a failed add, clear the VIP at once; after a failed remove, wait for the retry
    // deadline instead of spinning on a command that just failed.
    this.toFault(g, `cannot ${what} VIP: ${g.vipError}`, ctx, r.present);
  }

  private onShutdown(ctx: StepCtx): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    ctx.sendNow = true;
    for (let i = 0; i < this.groups.length; i++) {
      const g = this.groups[i]!;
      if (g.state === 'active') this.startRelease(g, 'shutting down', ctx);
      else this.ensureVip(g, false, ctx);
    }
  }

  // ---- evaluation ------------------------------------------------------------------

  private evaluate(g: GroupRt, ctx: StepCtx): void {
    this.trackHolder(g, ctx.now);
    switch (g.state) {
      case 'init':
        return this.evalInit(g, ctx);
      case 'standby':
        return this.evalStandby(g, ctx);
      case 'active':
        return this.evalActive(g, ctx);
      case 'fault':
        return this.evalFault(g, ctx);
    }
  }

  private evalInit(g: GroupRt, ctx: StepCtx): void {
    if (this.shuttingDown || g.vipPending > 0) return;
    const heardAll = this.opts.expectedPeers > 0 && this.peers.alive(ctx.now).length >= this.opts.expectedPeers;
    let reason: string | null = null;
    if (holderPeer(this.peers, g, ctx.now)) reason = 'learned the active node';
    else if (heardAll) reason = 'heard every peer';
    else if (ctx.now >= g.initUntil) reason = 'init-dead elapsed';
    if (reason === null) return;
    g.become('standby', ctx.now, reason, ctx.transitions);
    ctx.sendNow = true;
    this.evalStandby(g, ctx);
  }

  private evalStandby(g: GroupRt, ctx: StepCtx): void {
    if (g.healthFault) return this.toHealthFault(g, g.healthFault, ctx);
    const self = this.selfCandidate(g);
    if (this.shuttingDown || self.priority <= 0) {
      g.preemptAt = null;
      return;
    }
    if (!this.hasQuorum(ctx.now)) {
      g.preemptAt = null;
      return;
    }
    if (isLevip(g)) {
      // LevIP: every eligible member holds the IP; nobody competes.
      this.becomeActive(g, 'levip member', ctx);
      return;
    }
    const holder = holderPeer(this.peers, g, ctx.now);
    const cands = liveCandidates(this.peers, g, ctx.now);
    const isBest = cands.every((c) => outranks(self, c));
    if (!holder) {
      g.preemptAt = null;
      if (this.listening(g, ctx.now)) return;
      if (isBest) this.becomeActive(g, cands.length === 0 ? 'no live peer' : 'no active peer; we rank best', ctx);
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
    if (ctx.now >= g.preemptAt) this.becomeActive(g, `preempting ${holder.node} (priority ${self.priority} > ${holder.priority})`, ctx);
  }

  private evalActive(g: GroupRt, ctx: StepCtx): void {
    const self = this.selfCandidate(g);
    if (g.release) return this.evalRelease(g, ctx);
    if (self.priority <= 0) return this.startRelease(g, this.maintenance ? 'maintenance' : 'not eligible', ctx);
    if (!this.hasQuorum(ctx.now)) return this.becomeStandby(g, `lost quorum: hear fewer than ${this.opts.quorum} of the configured nodes`, ctx);
    if (isLevip(g)) return; // no dual-active rule: several active members is the point
    const others = activePeers(this.peers, g, ctx.now);
    const top = best(others);
    if (top && outranks(top, self)) {
      // Make-before-break, as in a planned handover: the winner re-announces now; we keep
      // answering for the handover grace (under half an interval) so the client is not left
      // on our MAC with nobody behind it while that announcement is on its way.
      this.startRelease(g, `dual active: ${top.node} outranks us`, ctx);
      return;
    }
    const conflict = top !== null || ctx.peerReturned;
    if (conflict && g.vipReady && (g.conflictAnnouncedAt === null || ctx.now - g.conflictAnnouncedAt >= Math.max(this.opts.deadTime, REANNOUNCE_MIN))) {
      // Both sides may have been active (a healed partition, a restarted peer): we win, so
      // pull the router back to us even if the loser already released.
      g.conflictAnnouncedAt = ctx.now;
      this.reannounce(g, top ? `dual active: we outrank ${top.node}` : 'a peer came back: re-announcing', ctx);
    }
    if (ctx.peerYielded?.has(g.name) && g.vipReady && top === null && g.conflictAnnouncedAt !== ctx.now) {
      // The other side of a dual active just released: its takeover or conflict GARPs may
      // have reached the router after ours, so claim the address again, now that it is ours
      // alone (not rate limited: a peer leaves active at most once per claim of its own).
      g.conflictAnnouncedAt = ctx.now;
      this.reannounce(g, 'a peer released the VIP: re-announcing', ctx);
    }
    if (g.refreshAt !== null && ctx.now >= g.refreshAt && g.vipReady) {
      g.refreshAt = ctx.now + g.cfg.garp.refresh;
      this.announce(g, 'refresh', ctx);
    }
  }

  private evalRelease(g: GroupRt, ctx: StepCtx): void {
    const rel = g.release!;
    const successor = holderPeer(this.peers, g, ctx.now);
    if (successor) {
      rel.successorSince ??= ctx.now;
      if (ctx.now >= rel.successorSince + this.handoverGrace) this.becomeStandby(g, `${rel.reason}: handed over to ${successor.node}`, ctx);
      return;
    }
    rel.successorSince = null;
    if (liveCandidates(this.peers, g, ctx.now).length === 0) return this.becomeStandby(g, `${rel.reason}: no live peer to hand over to`, ctx);
    if (ctx.now >= rel.deadline) this.becomeStandby(g, `${rel.reason}: no successor within the dead time`, ctx);
  }

  private evalFault(g: GroupRt, ctx: StepCtx): void {
    if (g.vipPending > 0) return;
    const due = g.retryAt === null || ctx.now >= g.retryAt;
    if (g.vipHave !== false) {
      // Leave fault only once the VIP is known to be gone.
      if (due) {
        g.retryAt = ctx.now + this.nextBackoff(g);
        this.ensureVip(g, false, ctx);
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
    g.listenUntil = ctx.now + this.opts.deadTime;
    ctx.sendNow = true;
    ctx.solicit = true;
    this.evalStandby(g, ctx);
  }

  /** Back from fault and not yet sure who is alive: no claim (see GroupRt.listenUntil). */
  private listening(g: GroupRt, now: Millis): boolean {
    if (g.listenUntil === null) return false;
    const heardAll = this.opts.expectedPeers > 0 && this.peers.alive(now).length >= this.opts.expectedPeers;
    if (now < g.listenUntil && !heardAll) return true;
    g.listenUntil = null;
    return false;
  }

  // ---- state changes ---------------------------------------------------------------

  private becomeActive(g: GroupRt, reason: string, ctx: StepCtx): void {
    g.become('active', ctx.now, reason, ctx.transitions);
    this.ensureVip(g, true, ctx);
    // The triggered heartbeat goes out when the VIP is confirmed (onVipResult).
  }

  private becomeStandby(g: GroupRt, reason: string, ctx: StepCtx): void {
    g.become('standby', ctx.now, reason, ctx.transitions);
    this.ensureVip(g, false, ctx);
    ctx.sendNow = true;
  }

  private toFault(g: GroupRt, reason: string, ctx: StepCtx, removeNow: boolean): void {
    if (g.state !== 'fault') g.become('fault', ctx.now, reason, ctx.transitions);
    g.faultReason = reason;
    g.retryAt = ctx.now + this.nextBackoff(g);
    if (removeNow) this.ensureVip(g, false, ctx);
    ctx.sendNow = true;
  }

  /**
   * A fault the health monitor reports: no retry timer, since the monitor says when it is
   * over (its rise/fall and hold-down damp flapping). The group leaves fault as soon as its
   * VIP is gone and the check passes, not a backoff later.
   */
  private toHealthFault(g: GroupRt, reason: string, ctx: StepCtx): void {
    this.toFault(g, reason, ctx, true);
    g.retryAt = null;
  }

  /** @internal */
  startRelease(g: GroupRt, reason: string, ctx: StepCtx): void {
    g.release = { deadline: ctx.now + this.opts.deadTime, reason, successorSince: null };
    ctx.sendNow = true;
    this.evalRelease(g, ctx);
  }

  private nextBackoff(g: GroupRt): Millis {
    g.retryBackoff = g.retryBackoff === 0 ? FAULT_RETRY_MIN : Math.min(FAULT_RETRY_MAX, g.retryBackoff * 2);
    return g.retryBackoff;
  }

  /** @internal */
  ensureVip(g: GroupRt, present: boolean, ctx: StepCtx): void {
    const settled = g.vipWant === present && g.vipHave === present;
    g.vipWant = present;
    // One change in flight per group: a flapping node must not queue add, remove, add... and
    // re-add a VIP it has lost meanwhile. The result handler follows the latest want.
    if (g.vipPending > 0 || settled) return;
    g.vipPending++;
    ctx.actions.push({ kind: 'ensureVip', group: g.name, gid: g.id, present, vip: g.cfg.vip, iface: vipDevice(g.cfg) }); // lo for LevIP
  }

  /** One request and one reply: the router already knows us; this only wins back a late race. */
  private reannounce(g: GroupRt, reason: string, ctx: StepCtx): void {
    ctx.actions.push({ kind: 'announce', group: g.name, gid: g.id, reason, vip: g.cfg.vip, iface: g.cfg.interface, garp: { ...g.cfg.garp, count: 1, form: 'both' } });
  }

  private announce(g: GroupRt, reason: string, ctx: StepCtx): void {
    ctx.actions.push({ kind: 'announce', group: g.name, gid: g.id, reason, vip: g.cfg.vip, iface: g.cfg.interface, garp: g.cfg.garp });
  }

  // ---- views -----------------------------------------------------------------------

  /** What we advertise for a group: state, and priority 0 when we are not a candidate. */
  advertised(g: GroupRt): WireGroup {
    const state = g.state === 'active' && !g.vipReady ? 'standby' : g.state;
    return { name: g.name, state, priority: this.selfCandidate(g).priority, reach: Math.min(255, g.reach) };
  }

  /** Quorum (when configured): alive peers plus ourselves reach the configured count. */
  hasQuorum(now: Millis): boolean {
    const q = this.opts.quorum ?? 0;
    return q <= 0 || this.peers.alive(now).length + 1 >= q;
  }

  selfCandidate(g: GroupRt): Candidate {
    // LevIP advertises its rotation weight where failover groups advertise priority.
    let priority = isLevip(g) ? g.cfg.levip!.weight : Math.max(1, g.cfg.priority - g.healthPenalty);
    if (g.boosted) priority = TAKEOVER_PRIORITY;
    else if (g.demoted) priority = DEMOTED_PRIORITY;
    if (g.state === 'fault' || g.healthFault || g.release || this.maintenance || this.shuttingDown) priority = 0;
    // Not known yet: never a reason to give a VIP up, always one not to claim it.
    if (g.healthPending !== null && g.state !== 'active') priority = 0;
    return { node: this.opts.node, priority, reach: g.reach };
  }

  private trackHolder(g: GroupRt, now: Millis): void {
    let holder: string | null = null;
    if (g.state === 'active' && g.vipReady) holder = this.opts.node;
    else {
      const p = anyActivePeer(this.peers, g, now);
      holder = p?.node ?? null;
    }
    if (holder !== g.holder) {
      g.holder = holder;
      g.holderSince = holder === null ? null : now;
    }
  }

  group(name: string): GroupRt | undefined {
    return this.groups.find((g) => g.name === name);
  }

  /** The group instance a result belongs to (by id when given; by name for hand-fed inputs). */
  private instance(name: string, gid: number | undefined): GroupRt | undefined {
    return gid === undefined ? this.group(name) : this.groups.find((g) => g.id === gid);
  }

  // ---- end of step -----------------------------------------------------------------

  private view(): ScheduleView {
    return { peers: this.peers, groups: this.groups, beat: this.beat, shuttingDown: this.shuttingDown, probes: this.opts.probes !== false, handoverGrace: this.handoverGrace };
  }

  private finish(ctx: StepCtx): SendWants | null {
    if (this.startedAt === null) return null;
    const wants = sendWants(this.view(), ctx.now);
    wants.sendNow = ctx.sendNow;
    wants.solicit = ctx.solicit;
    wants.heard = ctx.heard;
    const type = this.beat.decide(wants);
    if (type !== null) {
      const groups = this.groups.map((g) => this.advertised(g));
      const skip = this.quietPaths.skip(this.peers.all(), ctx.now);
      ctx.actions.push(skip === undefined ? { kind: 'send', type, groups } : { kind: 'send', type, groups, skip });
      if (type === 'probe') this.peers.probeSent(ctx.now);
    }
    if (this.shuttingDown && !this.exited && this.retired.length === 0 && this.groups.every((g) => g.state !== 'active' && g.vipPending === 0 && g.vipHave === false)) {
      this.exited = true;
      ctx.actions.push({ kind: 'exit' });
    }
    return wants;
  }
}

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
import { DEFAULTS } from '../config/defaults.js';
import { skipRefused } from './quiet.js';
import { evalRelease, evaluate, type EvalCore } from './evaluate.js';
import { ensureVip, toHealthFault } from './transitions.js';
import type { GroupConfig } from '../config/types.js';
import type { WireGroup } from '../wire/types.js';
import { GroupRt } from './group.js';
import { BeatSchedule, type SendWants } from './beat.js';
import { nextWake, peerNotes, sendWants, type ScheduleView } from './schedule.js';
import { applyPeerInput } from './peer-inputs.js';
import { PeerTable } from './peers.js';
import type { Candidate } from './rank.js';
import { operatorCommand } from './commands.js';
import { reconfigure, retiredResult } from './reconfigure.js';
import { liveVipResult } from './vip-result.js';
import { conflictFound, Detections } from './detect.js';
import { Confirmations } from './confirm.js';
import { anyActivePeer } from './views.js';
import { unitCandidate, unitOf } from './sync.js';
import { isLevip, isShared, order, type StepCtx } from './step.js';
import { LevipMode } from './levip/mode.js';
import type { CommandReply, CoreOptions, Input, Millis, StepResult } from './types.js';

export class Core implements EvalCore {
  readonly peers: PeerTable;
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
  private readonly detections: Detections;
  private readonly confirmations: Confirmations;
  /** the LevIP groups' rotation (core/levip/mode.ts). */
  readonly levip = new LevipMode();

  readonly opts: CoreOptions;

  constructor(opts: CoreOptions) {
    this.opts = { ...opts };
    this.peers = new PeerTable(opts.deadTime);
    this.beat = new BeatSchedule(opts.interval, 0);
    this.groups = opts.groups.map((g: GroupConfig) => new GroupRt(g, 0, this.nextGid++));
    this.maintenance = opts.maintenance ?? false;
    this.detections = new Detections(opts.detect ?? null);
    this.confirmations = new Confirmations(opts.confirm ?? null);
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
    const reply = this.apply(input, ctx) ?? undefined;
    peerNotes(this.peers, ctx.now, ctx.notes);
    if (!this.quiet(input, ctx)) {
      for (let i = 0; i < this.groups.length; i++) {
        const g = this.groups[i]!;
        evaluate(this, g, ctx);
      }
      if (!this.shuttingDown) this.detections.plan(this.groups, ctx, (g) => anyActivePeer(this.peers, g, ctx.now) !== null);
      if (!this.shuttingDown) this.confirmations.plan(this.groups, ctx);
    }
    if (this.startedAt !== null && !this.exited) this.levip.step(this, input, ctx);
    const wants = this.finish(ctx);
    let wakeAt = wants === null || this.exited ? null : Math.min(nextWake(this.view(), ctx.now, wants), this.levip.wakeAt);
    for (const at of [this.detections.nextAt(), this.confirmations.nextAt()]) if (wakeAt !== null && at !== null && at < wakeAt) wakeAt = at;
    const r: StepResult = { actions: order(ctx.actions), transitions: ctx.transitions, wakeAt, notes: ctx.notes };
    if (reply) r.reply = reply;
    return r;
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

  /** Updates the view from one input; an operator command returns its reply. */
  private apply(input: Input, ctx: StepCtx): CommandReply | void {
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
          ensureVip(g, false, ctx);
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
      case 'detectResult': {
        const g = this.instance(input.group, input.gid);
        if (this.detections.result(g, input, ctx, (x) => anyActivePeer(this.peers, x, ctx.now) !== null)) conflictFound(g!, input.macs, ctx, input.address);
        return;
      }
      case 'confirmResult':
        return this.confirmations.result(this.instance(input.group, input.gid), input, ctx);
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
        if (input.fault && (g.state === 'standby' || g.state === 'active')) toHealthFault(g, input.fault, ctx);
        else if (!input.fault && was) ctx.notes.push({ level: 'info', group: g.name, msg: `health recovered (was: ${was})` });
        return;
      }
      case 'levipAnswerResult':
        return this.levip.answered(input, ctx);
      case 'announceResult': {
        const g = this.instance(input.group, input.gid);
        if (g && isLevip(g)) return this.levip.announced(g.name, input.sent, input.errors, ctx);
        if (g) g.announcements += input.sent;
        for (const e of input.errors) ctx.notes.push({ level: 'error', group: input.group, msg: `gratuitous ARP failed: ${e}` });
        return;
      }
      case 'shutdown':
        return this.onShutdown(ctx);
      case 'command':
        return operatorCommand(this, input.command, ctx);
    }
  }

  // ---- inputs ----------------------------------------------------------------------

  private onVipResult(r: Extract<Input, { kind: 'vipResult' }>, ctx: StepCtx): void {
    const old = this.retired.find((x) => x.id === r.gid);
    if (old) return retiredResult(this, old, r, ctx);
    const g = this.instance(r.group, r.gid);
    if (!g) return;
    liveVipResult(g, r, ctx);
  }

  private onShutdown(ctx: StepCtx): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    ctx.sendNow = true;
    for (let i = 0; i < this.groups.length; i++) {
      const g = this.groups[i]!;
      if (g.state === 'active') this.startRelease(g, 'shutting down', ctx);
      else ensureVip(g, false, ctx);
    }
  }

  // ---- state changes (the primitives are in transitions.ts) -------------------------

  /** @internal */
  startRelease(g: GroupRt, reason: string, ctx: StepCtx): void {
    g.release = { deadline: ctx.now + this.opts.deadTime, reason, successorSince: null };
    ctx.sendNow = true;
    evalRelease(this, g, ctx);
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

  /** What this node offers for g: its own candidacy, or its sync unit's weakest (sync.ts). */
  selfCandidate(g: GroupRt): Candidate {
    return unitCandidate(this.groups, g, (x) => this.ownCandidate(x));
  }

  ineligible(g: GroupRt): string {
    const blocker = this.ownCandidate(g).priority > 0 ? unitOf(this.groups, g).find((m) => this.ownCandidate(m).priority <= 0) : undefined;
    return blocker ? `sync unit ${g.cfg.sync}: ${blocker.name} cannot serve here` : 'not eligible';
  }

  private ownCandidate(g: GroupRt): Candidate {
    // LevIP advertises its rotation weight where failover groups advertise priority.
    let priority = isLevip(g) ? g.cfg.levip!.weight : Math.max(1, g.cfg.priority - g.healthPenalty);
    if (g.boosted) priority = DEFAULTS.election.takeoverPriority;
    // A member of an ecmp bgp group stood down by the operator withdraws (no election to lose).
    else if (g.demoted) priority = isShared(g) ? 0 : DEFAULTS.election.demotedPriority;
    if (g.state === 'fault' || g.healthFault || g.release || this.maintenance || this.shuttingDown) priority = 0;
    // Not known yet: never a reason to give a VIP up, always one not to claim it.
    if (g.healthPending !== null && g.state !== 'active') priority = 0;
    return { node: this.opts.node, priority, reach: g.reach };
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
      const skip = skipRefused(this.peers.all(), ctx.now);
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

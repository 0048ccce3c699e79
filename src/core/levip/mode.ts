/**
 * The LevIP mode of the core: for every LevIP group, who takes part in the rotation
 * (members.ts, table.ts), whether this node owns the current slot (the pure schedule,
 * src/core/levip/schedule.ts), and the actions that follow, as a step of the core like every other
 * decision. The failover groups' evaluation (evaluate.ts) knows nothing of it; the election
 * only makes every eligible LevIP member active with its IP on lo (evaluate.ts evalStandby).
 *
 * Each step, after the groups were evaluated (the membership of ourselves is the record our
 * next heartbeat carries), on the input's wall time (clock.ts):
 *   - the member tables follow the election (joins at joinSlot, leaves at once);
 *   - in an owned slot, one unsolicited ARP reply (an `announce` action, ONE_REPLY) at each
 *     announce instant that came due since the last one, never in the last `guard` ms of the
 *     slot (docs/levip.md "The rotation"); a slot gained mid-way (the owner died) is announced
 *     at once unless in its quiet tail;
 *   - the owner's ARP answering (answering.ts) on for the same window [slot start, slotEnd -
 *     guard), off outside it;
 *   - wakeAt: the next instant that matters (an announce instant, the quiet start, the slot
 *     boundary, a retry), as a monotonic deadline at most MAX_SLEEP_MS away.
 *
 * Results come back as inputs. A reply's (announceResult) is counted and a failure logged; it
 * is never retried beyond the schedule: the next announce instant of the slot, at most `repeat`
 * ms later, is the retry, and a slot without any reply leaves the router on the previous
 * owner, which is alive and holds the IP too, so nothing calls for a fault. The answering
 * switch's (levipAnswerResult): see answering.ts.
 */
import type { GarpConfig } from '../../config/types.js';
import { isLevipGroup, type LevipGroupConfig } from '../../config/vip-device.js';
import { plan, type Member, type Timing } from './schedule.js';
import type { WireGroup } from '../../wire/types.js';
import type { GroupRt } from '../group.js';
import type { Peer } from '../peer-types.js';
import type { StepCtx } from '../step.js';
import { toFault } from '../transitions.js';
import type { Input, Millis, NodeId } from '../types.js';
import { AnswerSwitch } from './answering.js';
import { MAX_SLEEP_MS, monotonicDeadline, WallClock } from './clock.js';
import { membersOf } from './members.js';
import { MemberTable } from './table.js';

/** One reply per announce instant: the repeat within the slot is what covers a lost frame. */
export const ONE_REPLY: GarpConfig = { count: 1, spacing: 0, form: 'reply', refresh: 0 };

/** What the mode reads of the core (Core implements it). */
export interface LevipCore {
  readonly opts: { readonly node: NodeId };
  readonly groups: readonly GroupRt[];
  readonly peers: { alive(now: Millis): readonly Peer[] };
  advertised(g: GroupRt): WireGroup;
}

/** One LevIP group as status shows it (src/levip/status.ts adds the slots). */
export interface LevipGroupRead {
  cfg: LevipGroupConfig;
  /** this node is a member now. */
  member: boolean;
  /** every member with its weight and first slot, by node id. */
  members: Member[];
  /** the interface's ARP answering was last switched on. */
  answering: boolean;
  /** slots in which this node announced at least once. */
  slotsOwned: number;
  /** unsolicited replies sent, and failed. */
  announcements: number;
  announceErrors: number;
  /** failed switches of the interface's ARP answering. */
  answerErrors: number;
}

/** The mode as the layers above may read it (CoreView.levip). */
export interface LevipReader {
  groups(): LevipGroupRead[];
  /** the monotonic deadline of the mode's next instant; Infinity when it has none. */
  readonly wakeAt: Millis;
}

interface Rotation {
  cfg: LevipGroupConfig;
  /** the group instance (its id names the announce actions). */
  g: GroupRt;
  table: MemberTable;
  member: boolean;
  /** wall time of the last reply asked for. */
  lastAnnounceAt: Millis | null;
  lastOwnedSlot: number | null;
  slotsOwned: number;
  announcements: number;
  announceErrors: number;
  /** the step that last saw the group (a group a reload removed is forgotten). */
  seen: number;
}

function timingOf(cfg: LevipGroupConfig): Timing {
  return { period: cfg.levip.period, guard: cfg.levip.guard, repeat: cfg.levip.repeat };
}

function sameRotation(a: LevipGroupConfig, b: LevipGroupConfig): boolean {
  const ta = timingOf(a);
  const tb = timingOf(b);
  return ta.period === tb.period && ta.guard === tb.guard && ta.repeat === tb.repeat && a.interface === b.interface && a.vip.address === b.vip.address;
}

export class LevipMode implements LevipReader {
  private readonly rotations = new Map<string, Rotation>();
  private readonly answers = new AnswerSwitch();
  private readonly clock = new WallClock();
  private steps = 0;
  /** monotonic deadline of the next instant that matters; Infinity without LevIP groups. */
  wakeAt: Millis = Infinity;

  /** One step, after the groups were evaluated. */
  step(c: LevipCore, input: Input, ctx: StepCtx): void {
    const wall = this.clock.read(input);
    if (wall === null) return; // no input has carried the wall time yet: no slot to place
    const step = ++this.steps;
    let any = false;
    for (let i = 0; i < c.groups.length; i++) {
      const g = c.groups[i]!;
      if (!isLevipGroup(g.cfg)) continue;
      any = true;
      this.sync(c, g, g.cfg, wall, step, ctx);
    }
    if (!any && this.rotations.size === 0) {
      // A failover-only node (the common case), or the last LevIP group went at an earlier step.
      this.wakeAt = Infinity;
      return;
    }
    for (const [name, r] of this.rotations) if (r.seen !== step) this.rotations.delete(name);
    this.evaluate(c.opts.node, wall, ctx);
  }

  /** The result of a LevIP group's reply (announceResult): counted; see the header. */
  announced(group: string, sent: number, errors: readonly string[], ctx: StepCtx): void {
    const r = this.rotations.get(group);
    if (r) {
      r.announcements += sent;
      r.announceErrors += errors.length;
    }
    for (const e of errors) ctx.notes.push({ level: 'error', group, msg: `levip: unsolicited ARP reply failed: ${e}` });
  }

  /** The result of a levipAnswer action; repeated failures to turn it off fault the interface's groups. */
  answered(r: Extract<Input, { kind: 'levipAnswerResult' }>, ctx: StepCtx): void {
    // Retried at the next instant: the deadline the last step planned, or this step's if it passed.
    const retryAt = this.wakeAt === Infinity ? ctx.now + MAX_SLEEP_MS : Math.max(ctx.now, this.wakeAt);
    if (!this.answers.result(r.iface, r.on, r.ok, r.error, retryAt, ctx.notes)) return;
    for (const rot of this.rotations.values()) {
      if (rot.cfg.interface !== r.iface || rot.g.state === 'fault') continue;
      toFault(rot.g, `cannot turn ARP answering off on ${r.iface}: ${r.error ?? 'unknown error'}`, ctx, true);
    }
  }

  groups(): LevipGroupRead[] {
    return [...this.rotations.values()].map((r) => ({
      cfg: r.cfg,
      member: r.member,
      members: r.table.list(),
      answering: this.answers.answering(r.cfg.interface),
      slotsOwned: r.slotsOwned,
      announcements: r.announcements,
      announceErrors: r.announceErrors,
      answerErrors: this.answers.errors(r.cfg.interface),
    }));
  }

  /** Brings one group's rotation in line with the election. */
  private sync(c: LevipCore, g: GroupRt, cfg: LevipGroupConfig, wall: Millis, step: number, ctx: StepCtx): void {
    let r = this.rotations.get(g.name);
    if (r && !sameRotation(r.cfg, cfg)) {
      // Slot indices mean nothing under another period: everyone joins afresh.
      ctx.notes.push({ level: 'info', group: g.name, msg: 'levip: rotation settings changed, members rejoin' });
      r.table = new MemberTable(g.name, cfg.levip.period);
    }
    if (r === undefined) {
      r = { cfg, g, table: new MemberTable(g.name, cfg.levip.period), member: false, lastAnnounceAt: null, lastOwnedSlot: null, slotsOwned: 0, announcements: 0, announceErrors: 0, seen: step };
      this.rotations.set(g.name, r);
    }
    r.cfg = cfg;
    r.g = g;
    r.seen = step;
    const m = membersOf(g.name, c.opts.node, c.advertised(g), c.peers.alive(ctx.now));
    r.member = m.self !== null;
    r.table.sync(m, wall, ctx.notes);
  }

  private evaluate(node: NodeId, wall: Millis, ctx: StepCtx): void {
    const want = new Map<string, boolean>();
    let next = Infinity;
    for (const r of this.rotations.values()) {
      const p = plan(wall, node, r.table.list(), timingOf(r.cfg));
      // Inside the owner's window: we own the slot and it is not yet the quiet tail.
      const own = r.member && p.iOwn && wall < p.quietFrom;
      // arp_ignore is per interface: answer only when we own every LevIP group on it.
      want.set(r.cfg.interface, (want.get(r.cfg.interface) ?? true) && own);
      if (!own) {
        next = Math.min(next, p.nextBoundary);
        continue;
      }
      if (r.lastAnnounceAt !== null && r.lastAnnounceAt > wall) r.lastAnnounceAt = null; // clock stepped back
      const last = r.lastAnnounceAt;
      if (p.announceAt.some((at) => at <= wall && (last === null || at > last))) this.announce(r, p.slot, wall, ctx);
      next = Math.min(next, p.announceAt.find((at) => at > wall) ?? Infinity, p.quietFrom);
    }
    this.answers.apply(want, ctx.now, ctx.actions);
    this.wakeAt = Math.min(monotonicDeadline(next, wall, ctx.now), this.answers.nextRetry());
  }

  private announce(r: Rotation, slot: number, wall: Millis, ctx: StepCtx): void {
    r.lastAnnounceAt = wall;
    if (r.lastOwnedSlot !== slot) {
      r.lastOwnedSlot = slot;
      r.slotsOwned++;
      ctx.notes.push({ level: 'debug', group: r.g.name, msg: `levip: owning slot ${slot}` });
    }
    const { vip, interface: iface } = r.cfg;
    ctx.actions.push({ kind: 'announce', group: r.g.name, gid: r.g.id, reason: `levip slot ${slot}`, vips: [{ vip, iface }], garp: ONE_REPLY });
  }
}

/**
 * The LevIP rotation: turns the pure schedule (schedule.ts) into effects for every
 * LevIP group of this node. The election decides who is a member (view.ts); the rotation only
 * decides, from the WALL clock, whether we own the current slot, and then
 *   - sends one unsolicited ARP reply (through the Announcer port: the frame `arping -A -c 1
 *     -I IF VIP` sends) at each announce instant of an owned slot, never in the last `guard`
 *     ms (docs/levip.md "The rotation");
 *   - turns the owner's ARP answering on (`arp_ignore=0` on the interface, host.ts) for the
 *     same window [slot start, slotEnd - guard), and off outside it.
 *
 * Joins: a member first seen at wall time t takes part from joinSlot(t) = slot(t) + 2. The
 * heartbeat does not carry the member's own `since` (docs/levip.md recommends it), so each node
 * uses the time IT first saw the member; they agree except when a boundary falls between two
 * nodes' first sightings (a few ms), and then only for one slot, in which two nodes announce
 * or none does: harmless, every member holds the IP. Leaves take effect at once: if that makes
 * us the owner mid-slot, we announce at once (the due instant is in the past).
 *
 * Returns: a member that went unheard (dead time, partition, a stalled event loop) and comes
 * back with the same boot id never stopped being a member in its own eyes, nor in those of the
 * nodes that kept hearing it, so it gets its old join slot back (the design's "still
 * advertising its old since"); a fresh join slot there would make this node's cycle differ from
 * everyone else's for two slots after every heartbeat hiccup. A member that left on purpose
 * (heard as standby, fault, releasing) or restarted (new boot id) joins afresh.
 *
 * Driven two ways: update() after every election step (membership may have changed), and an
 * own timer at the next instant that matters (announce, quiet start, slot boundary). Timers
 * and both clocks are injected; unit tests never sleep.
 */
import { vipCidr } from '../config/vip.js';
import type { GarpConfig, Millis } from '../config/types.js';
import type { NodeId } from '../core/types.js';
import { joinSlot, plan, upcoming, type Member, type Plan, type Timing } from './schedule.js';
import type { LevipGroupConfig } from '../config/vip-device.js';
import type { LevipGroupStatus } from './status.js';
import type { LevipGroupView, MemberView } from './view.js';
import type { LevipRotationDeps } from './rotation-ports.js';

export type { LevipHostPort, LevipRotationDeps, LevipTimers, RotationLog } from './rotation-ports.js';

export type { LevipGroupStatus, LevipSlotStatus } from './status.js';

/** One reply per announce instant: the repeat within the slot is what covers a lost frame. */
export const ONE_REPLY: GarpConfig = { count: 1, spacing: 0, form: 'reply', refresh: 0 };
/** Longest sleep: a stepped wall clock is noticed within this long. */
export const MAX_SLEEP_MS: Millis = 1000;
/** Upcoming slots shown in status. */
export const STATUS_SLOTS = 6;

interface Departed {
  since: number;
  boot: string | undefined;
}

interface Rotation {
  cfg: LevipGroupConfig;
  members: Map<NodeId, Member>;
  /** members that went unheard, with the join slot to give back if they return unchanged. */
  departed: Map<NodeId, Departed>;
  member: boolean;
  lastAnnounceAt: Millis | null;
  lastOwnedSlot: number | null;
  slotsOwned: number;
  announcements: number;
  announceErrors: number;
}

function timingOf(cfg: LevipGroupConfig): Timing {
  return { period: cfg.levip.period, guard: cfg.levip.guard, repeat: cfg.levip.repeat };
}

function sameRotation(a: LevipGroupConfig, b: LevipGroupConfig): boolean {
  const ta = timingOf(a);
  const tb = timingOf(b);
  return ta.period === tb.period && ta.guard === tb.guard && ta.repeat === tb.repeat && a.interface === b.interface && a.vip.address === b.vip.address;
}

/** Inside the owner's window: we own the slot and it is not yet the quiet tail. */
function inWindow(r: Rotation, p: Plan, wall: Millis): boolean {
  return r.member && p.iOwn && wall < p.quietFrom;
}

export class LevipRotation {
  private readonly rotations = new Map<string, Rotation>();
  /** what we last asked the host for, per interface. */
  private readonly answering = new Map<string, boolean>();
  /** interfaces whose sysctls were (or are being) set up, with the outcome. */
  private readonly prepared = new Map<string, Promise<void>>();
  /** last boot id heard per peer. */
  private readonly boots = new Map<NodeId, string>();
  private timer: unknown = null;
  private closed = false;

  constructor(private readonly deps: LevipRotationDeps) {}

  /**
   * Sets up the ARP sysctls of every LevIP group's interface. Await it before the election
   * starts: the shared IP must never be on lo while the interface still answers ARP for it.
   * Rejects when an interface cannot be set up (the agent must not run the group then).
   */
  async prepare(groups: readonly { interface: string }[]): Promise<void> {
    await Promise.all(groups.map((g) => this.prepareIface(g.interface)));
  }

  private prepareIface(iface: string): Promise<void> {
    let p = this.prepared.get(iface);
    if (p) return p;
    p = this.deps.host.prepare(iface).then((r) => {
      for (const d of r.done) this.deps.log.info({ iface }, `levip: ${d}`);
      for (const w of r.warnings) this.deps.log.warn({ iface }, `levip: ${w}`);
    });
    // A failed set-up is retried at the next update rather than remembered forever.
    p.catch(() => this.prepared.delete(iface));
    this.prepared.set(iface, p);
    return p;
  }

  /** After every election step: the members of every LevIP group, then act on the schedule. */
  update(views: readonly LevipGroupView[]): void {
    if (this.closed) return;
    const wall = this.deps.wallClock();
    const names = new Set(views.map((v) => v.cfg.name));
    for (const name of this.rotations.keys()) if (!names.has(name)) this.rotations.delete(name);
    for (const v of views) this.sync(v, wall);
    this.evaluate(wall);
  }

  /** Stops the timer; the agent restores the sysctls (host.ts) once the IP left lo. */
  close(): void {
    this.closed = true;
    this.clearTimer();
  }

  status(): LevipGroupStatus[] {
    const wall = this.deps.wallClock();
    return [...this.rotations.values()].map((r) => {
      const members = this.memberList(r).sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
      const p = plan(wall, this.deps.node, members, timingOf(r.cfg));
      return {
        group: r.cfg.name,
        interface: r.cfg.interface,
        vip: vipCidr(r.cfg.vip),
        ...timingOf(r.cfg),
        member: r.member,
        members,
        slot: p.slot,
        owner: p.owner,
        iOwn: r.member && p.iOwn,
        answering: this.answering.get(r.cfg.interface) ?? false,
        next: upcoming(wall, members, STATUS_SLOTS, r.cfg.levip.period).map((s) => ({ slot: s.slot, start: s.start, inMs: s.start - wall, owner: s.owner })),
        slotsOwned: r.slotsOwned,
        announcements: r.announcements,
        announceErrors: r.announceErrors,
        answerErrors: 0,
      };
    });
  }

  private memberList(r: Rotation): Member[] {
    return [...r.members.values()].map((m) => ({ ...m }));
  }

  /** Brings one group's member table in line with the view; new members get a join slot. */
  private sync(v: LevipGroupView, wall: Millis): void {
    let r = this.rotations.get(v.cfg.name);
    if (r && !sameRotation(r.cfg, v.cfg)) {
      // Slot indices mean nothing under another period: everyone joins afresh.
      this.deps.log.info({ group: v.cfg.name }, 'levip: rotation settings changed, members rejoin');
      r.members.clear();
      r.departed.clear();
    }
    r ??= { cfg: v.cfg, members: new Map(), departed: new Map(), member: false, lastAnnounceAt: null, lastOwnedSlot: null, slotsOwned: 0, announcements: 0, announceErrors: 0 };
    r.cfg = v.cfg;
    r.member = v.self !== null;
    // A group added by a reload: its interface is set up here, long before its init-dead
    // time lets it claim the IP; the host applies answer() calls after this, in order.
    if (!this.prepared.has(v.cfg.interface)) {
      this.prepareIface(v.cfg.interface).catch((e: unknown) => this.deps.log.error({ group: v.cfg.name }, `levip: cannot set up ${v.cfg.interface}: ${String(e)}`));
    }
    this.rotations.set(v.cfg.name, r);
    const present = v.self ? [v.self, ...v.peers] : v.peers;
    for (const m of present) this.admit(r, m, wall);
    for (const [node, m] of [...r.members]) {
      if (present.some((x) => x.node === node)) continue;
      r.members.delete(node);
      // Heard as a non-member: it left on purpose. Not heard: it may come back unchanged.
      if (!v.others.includes(node)) r.departed.set(node, { since: m.since, boot: this.boots.get(node) });
      this.deps.log.info({ group: v.cfg.name, peer: node }, `levip: ${node} leaves the rotation`);
    }
    for (const node of v.others) r.departed.delete(node);
  }

  private admit(r: Rotation, m: MemberView, wall: Millis): void {
    const group = r.cfg.name;
    const old = r.members.get(m.node);
    if (m.boot !== undefined) this.boots.set(m.node, m.boot);
    if (old) {
      old.weight = m.weight;
      return;
    }
    const back = r.departed.get(m.node);
    r.departed.delete(m.node);
    if (back && back.boot !== undefined && back.boot === m.boot) {
      r.members.set(m.node, { node: m.node, weight: m.weight, since: back.since });
      this.deps.log.info({ group, peer: m.node, weight: m.weight, since: back.since }, `levip: ${m.node} joins the rotation from slot ${back.since} (heard again, same boot)`);
      return;
    }
    const since = joinSlot(wall, r.cfg.levip.period);
    r.members.set(m.node, { node: m.node, weight: m.weight, since });
    this.deps.log.info({ group, peer: m.node, weight: m.weight, since }, `levip: ${m.node} joins the rotation from slot ${since}`);
  }

  private evaluate(wall: Millis): void {
    if (this.closed) return;
    const want = new Map<string, boolean>();
    let wake = Infinity;
    for (const r of this.rotations.values()) {
      const p = plan(wall, this.deps.node, this.memberList(r), timingOf(r.cfg));
      const own = inWindow(r, p, wall);
      // arp_ignore is per interface: answer only when we own every LevIP group on it.
      want.set(r.cfg.interface, (want.get(r.cfg.interface) ?? true) && own);
      if (!own) {
        wake = Math.min(wake, p.nextBoundary);
        continue;
      }
      if (r.lastAnnounceAt !== null && r.lastAnnounceAt > wall) r.lastAnnounceAt = null; // clock stepped back
      const last = r.lastAnnounceAt;
      if (p.announceAt.some((at) => at <= wall && (last === null || at > last))) this.announce(r, p.slot, wall);
      wake = Math.min(wake, p.announceAt.find((at) => at > wall) ?? Infinity, p.quietFrom);
    }
    this.switchAnswers(want);
    this.schedule(wake, wall);
  }

  private announce(r: Rotation, slot: number, wall: Millis): void {
    r.lastAnnounceAt = wall;
    if (r.lastOwnedSlot !== slot) {
      r.lastOwnedSlot = slot;
      r.slotsOwned++;
      this.deps.log.debug({ group: r.cfg.name, slot }, 'levip: owning slot');
    }
    const group = r.cfg.name;
    // Treated as sent once spawned: bookworm's arping lingers ~1 s after its frame (measured on Debian 12 bookworm).
    this.deps.announcer.announce(r.cfg.vip, r.cfg.interface, ONE_REPLY).then(
      (o) => {
        r.announcements += o.sent;
        r.announceErrors += o.errors.length;
        for (const e of o.errors) this.deps.log.error({ group }, `levip: unsolicited ARP reply failed: ${e}`);
      },
      (e: unknown) => {
        r.announceErrors++;
        this.deps.log.error({ group }, `levip: unsolicited ARP reply failed: ${String(e)}`);
      },
    );
  }

  private switchAnswers(want: Map<string, boolean>): void {
    // An interface with no LevIP group left goes back to suppressing.
    for (const iface of this.answering.keys()) if (!want.has(iface)) want.set(iface, false);
    for (const [iface, on] of want) {
      if (this.answering.get(iface) === on) continue;
      this.answering.set(iface, on);
      this.deps.host.answer(iface, on).catch((e: unknown) => {
        // Unknown state now: forget it, so the next evaluation asks again (unless a newer
        // request has been made since; the host applies requests in order).
        if (this.answering.get(iface) === on) this.answering.delete(iface);
        this.deps.log.error({ iface }, `levip: cannot turn ARP answering ${on ? 'on' : 'off'} on ${iface}: ${String(e)}`);
      });
    }
    for (const [iface, on] of want) if (!on && !this.hasGroupOn(iface)) this.answering.delete(iface);
  }

  private hasGroupOn(iface: string): boolean {
    return [...this.rotations.values()].some((r) => r.cfg.interface === iface);
  }

  private schedule(wake: Millis, wall: Millis): void {
    this.clearTimer();
    if (!Number.isFinite(wake)) return;
    const delay = Math.min(MAX_SLEEP_MS, Math.max(0, Math.ceil(wake - wall)));
    this.timer = this.deps.timers.setTimeout(() => {
      this.timer = null;
      this.evaluate(this.deps.wallClock());
    }, delay);
  }

  private clearTimer(): void {
    if (this.timer !== null) this.deps.timers.clearTimeout(this.timer);
    this.timer = null;
  }
}

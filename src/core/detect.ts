/**
 * VIP conflict probing, decided in the core. While a group is active with its VIPs in place
 * (failover mode, not handing over), the core asks for a duplicate address detection of each
 * VIP on its interface: a `detect` action each, which the driver performs and reports back as
 * a `detectResult` input. IPv4: `arping -D`, a request from 0.0.0.0 asking who has the VIP
 * (our own kernel does not answer its own broadcast). IPv6: a Neighbor Solicitation from ::
 * to the VIP's solicited-node group (RFC 4862 §5.4), written below our own IPv6 stack, which
 * therefore does not answer it. Either way any answer is another host claiming the address.
 * An answer is a conflict: a rogue host, an old owner that did not release (a crashed agent's
 * kernel keeps answering for the VIP it left behind), or a split brain. The core logs it,
 * counts it and re-announces (IPv4: in both ARP forms; IPv6: neighbour advertisements).
 *
 * Timing, per term (a term begins each time the group becomes active):
 *   - the first detection `fastGap` after the VIP is in place: a planned handover's old owner
 *     keeps the VIP for the handover grace (at most 20 ms) after it hears us active, so it
 *     has let go by then and its answer is not mistaken for a conflict;
 *   - then `fastDetections` in all back to back, `fastGap` apart (the announcement check: an
 *     old owner still answering is answered with announcements until it stops);
 *   - then one every `interval`.
 * A detection of each VIP of the group is a round; one round per group runs at a time,
 * and its last result, not a timer, schedules the next.
 * Not while a live peer advertises the group active: an old owner handing over to us (it keeps
 * the VIP until it hears us active, plus a grace, and longer on a loaded host) or the other
 * side of a dual active, which the election resolves; its answers are no rogue's. The probe
 * waits (rechecked every fastGap) until no peer says so. Not while we hand over either: the
 * successor holds the VIP too, by design, for the grace.
 */
import { groupVips } from '../config/vip-device.js';
import type { VipPlacement } from '../config/types.js';
import type { GroupRt } from './group.js';
import { isBgp, isLevip, type StepCtx } from './step.js';
import type { DetectTiming, Input, Millis } from './types.js';

interface Term {
  /** the group's active-since time: a new value is a new term. */
  since: Millis;
  /** when the next round of detections is due (null: one is running). */
  at: Millis | null;
  fastLeft: number;
  /** the errors of the last round, so a broken probe is logged once per term, not every round. */
  lastErrors: Set<string>;
  /** the errors of the round running. */
  roundErrors: Set<string>;
  pass: number;
}

export type DetectResult = Extract<Input, { kind: 'detectResult' }>;

/** The group's VIPs, both families, with the interface each is on: what a round probes. */
function probed(g: GroupRt): readonly VipPlacement[] {
  return groupVips(g.cfg);
}

/** Detections wanted: active with the VIPs in place, failover mode, not handing over. */
export function detectable(g: GroupRt): boolean {
  return g.state === 'active' && g.vipReady && g.release === null && !isLevip(g) && !isBgp(g) && probed(g).length > 0;
}

/**
 * Other hosts answered for one of the VIPs (`address`; absent: the first one): log it
 * loudly, count it, re-announce that VIP (IPv4 in both ARP forms).
 */
export function conflictFound(g: GroupRt, macs: string[], ctx: StepCtx, address?: string): void {
  const vips = probed(g);
  const p = vips.find((x) => x.vip.address === address) ?? vips[0];
  if (!p) return;
  g.conflicts++;
  g.lastConflict = { macs, at: ctx.now };
  ctx.notes.push({ level: 'error', group: g.name, msg: `VIP CONFLICT: ${p.vip.address} is also answered by ${macs.join(', ')}; re-announcing` });
  // Both forms, whatever the configured form: a router that missed one may honour the other.
  ctx.actions.push({ kind: 'announce', group: g.name, gid: g.id, reason: 'conflict', vips: [p], garp: { ...g.cfg.garp, form: 'both' } });
}

export class Detections {
  /** per group instance (gid). */
  private readonly terms = new Map<number, Term>();
  /** plan() passes: a term not seen in the latest pass belongs to a group that left. */
  private pass = 0;
  /** per group instance with a round in flight: the detections whose results are still out. */
  private readonly running = new Map<number, number>();

  constructor(private readonly timing: DetectTiming | null) {}

  /**
   * After every step: start the rounds that are due (one detection per VIP), and forget
   * groups that left. `peerActive(g)`: a live peer advertises g active (then the probe waits).
   */
  plan(groups: readonly GroupRt[], ctx: StepCtx, peerActive: (g: GroupRt) => boolean): void {
    if (this.timing === null) return;
    const pass = ++this.pass;
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!;
      if (!detectable(g)) continue;
      let term = this.terms.get(g.id);
      if (term === undefined || term.since !== g.since) {
        term = { since: g.since, at: ctx.now + this.timing.fastGap, fastLeft: this.timing.fastDetections, lastErrors: new Set(), roundErrors: new Set(), pass };
        this.terms.set(g.id, term);
      }
      term.pass = pass;
      if (term.at === null || ctx.now < term.at || this.running.has(g.id)) continue;
      if (peerActive(g)) {
        term.at = ctx.now + this.timing.fastGap;
        continue;
      }
      term.at = null;
      const vips = probed(g);
      this.running.set(g.id, vips.length);
      for (const p of vips) ctx.actions.push({ kind: 'detect', group: g.name, gid: g.id, vip: p.vip, iface: p.iface });
    }
    for (const [gid, term] of this.terms) if (term.pass !== pass) this.terms.delete(gid);
  }

  /**
   * A detection finished. The last of its round schedules the next round of the term; each
   * returns whether its answers are a conflict to act on (the group still active with its
   * VIPs in place).
   */
  result(g: GroupRt | undefined, r: DetectResult, ctx: StepCtx, peerActive: (g: GroupRt) => boolean): boolean {
    const gid = r.gid ?? g?.id;
    const left = gid === undefined ? 0 : (this.running.get(gid) ?? 1) - 1;
    if (gid !== undefined) {
      if (left > 0) this.running.set(gid, left);
      else this.running.delete(gid);
    }
    if (g === undefined || this.timing === null) return false;
    const term = this.terms.get(g.id);
    if (term === undefined || !detectable(g)) return false;
    if (left === 0) {
      if (term.fastLeft > 0) term.fastLeft--;
      term.at = ctx.now + (term.fastLeft > 0 ? this.timing.fastGap : this.timing.interval);
    }
    if (r.error !== undefined) {
      if (!term.lastErrors.has(r.error)) ctx.notes.push({ level: 'warn', group: g.name, msg: `conflict probe failed: ${r.error} (probing goes on every ${this.timing.interval} ms)` });
      term.roundErrors.add(r.error);
    }
    if (left === 0) {
      term.lastErrors = term.roundErrors;
      term.roundErrors = new Set();
    }
    return r.error === undefined && r.macs.length > 0 && !peerActive(g);
  }

  /** The earliest detection due, for wakeAt. */
  nextAt(): Millis | null {
    let at: Millis | null = null;
    for (const [gid, term] of this.terms) {
      if (term.at !== null && !this.running.has(gid) && (at === null || term.at < at)) at = term.at;
    }
    return at;
  }
}

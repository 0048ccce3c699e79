/**
 * VIP conflict probing, decided in the core. While a group is active with its VIP in place
 * (IPv4, failover mode, not handing over), the core asks for a duplicate address detection
 * on the segment: the `detect` action, which the driver performs (`arping -D`: a request from
 * 0.0.0.0 asking who has the VIP; our own kernel does not answer its own broadcast, so any
 * answer is another host claiming the address) and reports back as a `detectResult` input.
 * An answer is a conflict: a rogue host, an old owner that did not release (a crashed agent's
 * kernel keeps answering for the VIP it left behind), or a split brain. The core logs it,
 * counts it and re-announces in both ARP forms.
 *
 * Timing, per term (a term begins each time the group becomes active):
 *   - the first detection `fastGap` after the VIP is in place: a planned handover's old owner
 *     keeps the VIP for the handover grace (at most 20 ms) after it hears us active, so it
 *     has let go by then and its answer is not mistaken for a conflict;
 *   - then `fastDetections` in all back to back, `fastGap` apart (the announcement check: an
 *     old owner still answering is answered with announcements until it stops);
 *   - then one every `interval`.
 * One detection per group runs at a time; its result, not a timer, schedules the next.
 * Not while a live peer advertises the group active: an old owner handing over to us (it keeps
 * the VIP until it hears us active, plus a grace, and longer on a loaded host) or the other
 * side of a dual active, which the election resolves; its answers are no rogue's. The probe
 * waits (rechecked every fastGap) until no peer says so. Not while we hand over either: the
 * successor holds the VIP too, by design, for the grace.
 */
import type { GroupRt } from './group.js';
import { isLevip, type StepCtx } from './step.js';
import type { DetectTiming, Input, Millis } from './types.js';

interface Term {
  /** the group's active-since time: a new value is a new term. */
  since: Millis;
  /** when the next detection is due (null: one is running). */
  at: Millis | null;
  fastLeft: number;
  /** the last error reported, so a broken arping is logged once per term, not every round. */
  lastError: string | null;
  pass: number;
}

export type DetectResult = Extract<Input, { kind: 'detectResult' }>;

/** Detections wanted: active with the VIP in place, IPv4, failover mode, not handing over. */
export function detectable(g: GroupRt): boolean {
  return g.state === 'active' && g.vipReady && g.release === null && !isLevip(g) && g.cfg.vip.family === 4;
}

/** Other hosts answered for the VIP: log it loudly, count it, re-announce in both ARP forms. */
export function conflictFound(g: GroupRt, macs: string[], ctx: StepCtx): void {
  g.conflicts++;
  g.lastConflict = { macs, at: ctx.now };
  ctx.notes.push({ level: 'error', group: g.name, msg: `VIP CONFLICT: ${g.cfg.vip.address} is also answered by ${macs.join(', ')}; re-announcing` });
  // Both forms, whatever the configured form: a router that missed one may honour the other.
  ctx.actions.push({ kind: 'announce', group: g.name, gid: g.id, reason: 'conflict', vip: g.cfg.vip, iface: g.cfg.interface, garp: { ...g.cfg.garp, form: 'both' } });
}

export class Detections {
  /** per group instance (gid). */
  private readonly terms = new Map<number, Term>();
  /** plan() passes: a term not seen in the latest pass belongs to a group that left. */
  private pass = 0;
  /** group instances with a detection in flight (its result must come back before the next). */
  private readonly running = new Set<number>();

  constructor(private readonly timing: DetectTiming | null) {}

  /**
   * After every step: start the detections that are due, and forget groups that left.
   * `peerActive(g)`: a live peer advertises g active (then the probe waits).
   */
  plan(groups: readonly GroupRt[], ctx: StepCtx, peerActive: (g: GroupRt) => boolean): void {
    if (this.timing === null) return;
    const pass = ++this.pass;
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!;
      if (!detectable(g)) continue;
      let term = this.terms.get(g.id);
      if (term === undefined || term.since !== g.since) {
        term = { since: g.since, at: ctx.now + this.timing.fastGap, fastLeft: this.timing.fastDetections, lastError: null, pass };
        this.terms.set(g.id, term);
      }
      term.pass = pass;
      if (term.at === null || ctx.now < term.at || this.running.has(g.id)) continue;
      if (peerActive(g)) {
        term.at = ctx.now + this.timing.fastGap;
        continue;
      }
      term.at = null;
      this.running.add(g.id);
      ctx.actions.push({ kind: 'detect', group: g.name, gid: g.id, vip: g.cfg.vip, iface: g.cfg.interface });
    }
    for (const [gid, term] of this.terms) if (term.pass !== pass) this.terms.delete(gid);
  }

  /**
   * A detection finished. Schedules the next one of the term and returns whether the answers
   * are a conflict to act on (the group still active with its VIP in place).
   */
  result(g: GroupRt | undefined, r: DetectResult, ctx: StepCtx, peerActive: (g: GroupRt) => boolean): boolean {
    if (r.gid !== undefined) this.running.delete(r.gid);
    if (g === undefined || this.timing === null) return false;
    this.running.delete(g.id);
    const term = this.terms.get(g.id);
    if (term === undefined || !detectable(g)) return false;
    if (term.fastLeft > 0) term.fastLeft--;
    term.at = ctx.now + (term.fastLeft > 0 ? this.timing.fastGap : this.timing.interval);
    if (r.error !== undefined) {
      if (r.error !== term.lastError) ctx.notes.push({ level: 'warn', group: g.name, msg: `conflict probe failed: ${r.error} (probing goes on every ${this.timing.interval} ms)` });
      term.lastError = r.error;
      return false;
    }
    term.lastError = null;
    return r.macs.length > 0 && !peerActive(g);
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

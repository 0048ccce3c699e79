/**
 * The announcement check, decided in the core: after a takeover, show that the gateway's ARP
 * entry for each IPv4 VIP points here instead of assuming the gratuitous ARP burst landed.
 *
 * For a group with `confirm: { gateway }`, once it is active with its VIPs in place (failover
 * mode, not handing over), the core asks for a `confirm` action per IPv4 VIP: the driver sends
 * an ARP request for the gateway's own address with the VIP as sender address and our MAC as
 * sender hardware address (`arping -s VIP GW`). A Linux gateway creates or updates its entry
 * for the VIP from such a request (any entry but a permanent one, whatever arp_accept says,
 * because the request is addressed to it), and answers with a reply to our MAC. The reply,
 * reported back as a `confirmResult` input, is the confirmation.
 *
 * Timing, per term (a term begins each time the group becomes active):
 *   - the first round `settle` after the end of the takeover burst ((count - 1) x spacing);
 *   - a round whose probes all got an answer confirms the term, and no more rounds run;
 *   - otherwise the VIPs left unanswered are announced again (both ARP forms) and asked
 *     again after `retryBase`, doubling after each round up to `retryMax`;
 *   - after `attempts` rounds (the group's `confirm.attempts`) without every answer the term
 *     is unconfirmed: logged as an error, shown in status and metrics, no more probes.
 * A probe that fails to run (no arping, a bad interface) counts as unanswered, with its error.
 */
import { groupVips } from '../config/vip-device.js';
import type { VipPlacement } from '../config/types.js';
import type { GroupRt } from './group.js';
import { isLevip, type StepCtx } from './step.js';
import type { ConfirmTiming, Input, Millis } from './types.js';

export type ConfirmResult = Extract<Input, { kind: 'confirmResult' }>;

interface Term {
  since: Millis;
  /** when the next round is due (null: one is running, or the term is over). */
  at: Millis | null;
  /** the VIPs the next round asks from (all of them first, then those left unanswered). */
  targets: VipPlacement[];
  /** the results of the running round still out. */
  running: number;
  /** the VIPs of the running round that got no answer. */
  unanswered: VipPlacement[];
  pass: number;
}

/** The group's IPv4 VIPs with their interfaces: what a round asks from. */
function probed(g: GroupRt): VipPlacement[] {
  return groupVips(g.cfg).filter((p) => p.vip.family === 4);
}

/** The check applies: a gateway named, active with the VIPs in place, failover mode, not handing over. */
export function confirmable(g: GroupRt): boolean {
  return !!g.cfg.confirm && g.state === 'active' && g.vipReady && g.release === null && !isLevip(g) && probed(g).length > 0;
}

export class Confirmations {
  private readonly terms = new Map<number, Term>();
  private pass = 0;

  constructor(private readonly timing: ConfirmTiming | null) {}

  /** After every step: start the rounds that are due, forget terms whose group left active. */
  plan(groups: readonly GroupRt[], ctx: StepCtx): void {
    if (this.timing === null) return;
    const pass = ++this.pass;
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!;
      if (!confirmable(g)) {
        // The check is about the current term: a node that is not active has none.
        if (g.state !== 'active') g.confirm = null;
        continue;
      }
      let term = this.terms.get(g.id);
      if (term === undefined || term.since !== g.since) {
        const burst = Math.max(0, g.cfg.garp.count - 1) * g.cfg.garp.spacing;
        term = { since: g.since, at: ctx.now + burst + this.timing.settle, targets: probed(g), running: 0, unanswered: [], pass };
        this.terms.set(g.id, term);
        g.confirm = { state: 'pending', attempts: 0, since: g.since, confirmedAt: null, lastLatency: null, lastError: null };
      }
      term.pass = pass;
      if (term.at === null || ctx.now < term.at || term.running > 0) continue;
      term.at = null;
      term.running = term.targets.length;
      term.unanswered = [];
      g.confirm!.attempts++;
      g.confirmProbes += term.targets.length;
      const gateway = g.cfg.confirm!.gateway;
      for (const p of term.targets) ctx.actions.push({ kind: 'confirm', group: g.name, gid: g.id, vip: p.vip, iface: p.iface, gateway });
    }
    for (const [gid, term] of this.terms) if (term.pass !== pass) this.terms.delete(gid);
  }

  /** One probe finished; the last of its round decides: confirmed, ask again, or unconfirmed. */
  result(g: GroupRt | undefined, r: ConfirmResult, ctx: StepCtx): void {
    if (g === undefined || this.timing === null) return;
    const term = this.terms.get(g.id);
    const st = g.confirm;
    if (term === undefined || st === null || term.running === 0) return;
    // Not a VIP this round asked from (a hand-fed input): no evidence for the round either way.
    const p = term.targets.find((x) => x.vip.address === r.address);
    if (p === undefined) return;
    term.running--;
    if (!confirmable(g)) {
      // Not now (a VIP change in flight): the round is asked again once the group is back.
      if (term.running === 0) term.at = ctx.now;
      return;
    }
    if (r.answered) st.lastLatency = r.latency ?? null;
    else term.unanswered.push(p);
    if (r.error !== undefined) st.lastError = r.error;
    if (term.running > 0) return;
    const gateway = g.cfg.confirm!.gateway;
    if (term.unanswered.length === 0) {
      st.state = 'confirmed';
      st.confirmedAt = ctx.now;
      const latency = st.lastLatency === null ? '' : `, answer in ${st.lastLatency.toFixed(1)} ms`;
      ctx.notes.push({ level: 'info', group: g.name, msg: `announcement confirmed: gateway ${gateway} answered every VIP after ${st.attempts} attempt(s), ${ctx.now - st.since} ms after the takeover${latency}` });
      return;
    }
    const missing = term.unanswered.map((x) => x.vip.address).join(', ');
    const why = r.error !== undefined ? ` (${r.error})` : '';
    if (st.attempts >= g.cfg.confirm!.attempts) {
      st.state = 'unconfirmed';
      ctx.notes.push({ level: 'error', group: g.name, msg: `announcement UNCONFIRMED: gateway ${gateway} did not answer for ${missing} in ${st.attempts} attempts${why}; its ARP entry may still point elsewhere` });
      return;
    }
    const wait = Math.min(this.timing.retryMax, this.timing.retryBase * 2 ** (st.attempts - 1));
    ctx.notes.push({ level: 'warn', group: g.name, msg: `announcement not confirmed yet: gateway ${gateway} did not answer for ${missing}${why}; re-announcing, asking again in ${wait} ms` });
    // Both forms, whatever the configured form: a router that missed one may honour the other.
    ctx.actions.push({ kind: 'announce', group: g.name, gid: g.id, reason: 'unconfirmed', vips: term.unanswered, garp: { ...g.cfg.garp, form: 'both' } });
    term.targets = term.unanswered;
    term.at = ctx.now + wait;
  }

  /** The earliest round due, for wakeAt. */
  nextAt(): Millis | null {
    let at: Millis | null = null;
    for (const term of this.terms.values()) {
      if (term.at !== null && term.running === 0 && (at === null || term.at < at)) at = term.at;
    }
    return at;
  }
}

/**
 * Per-group runtime state and the only code that changes a group's state.
 *
 * Transition table (anything else throws: it is a bug, not an input):
 *
 *   from      to        when
 *   init      standby   init-dead elapsed, or the group's state was learned from peers
 *   init      fault     the VIP could not be cleared at start, or a fault check failed
 *   standby   active    no live active peer and we rank best; or preempt over a lower active
 *   standby   fault     a VIP operation failed, or a `weight: fault` check / tracked link failed
 *   active    standby   a better active peer (dual active), handover done, or shutdown
 *   active    fault     the VIP could not be added, or a fault check / tracked link failed
 *   fault     standby   retry deadline passed (or the failing check recovered) and the VIP is
 *                       known to be absent
 */
import type { GroupConfig } from '../config/types.js';
import type { ConfirmState, GroupState, Millis, NodeId, Transition } from './types.js';

const LEGAL: Record<GroupState, readonly GroupState[]> = {
  init: ['standby', 'fault'],
  standby: ['active', 'fault'],
  active: ['standby', 'fault'],
  fault: ['standby'],
};

export interface Release {
  /** give up even without a successor at this time. */
  deadline: Millis;
  reason: string;
  /** when a successor was first seen active. */
  successorSince: Millis | null;
}

export class GroupRt {
  state: GroupState = 'init';
  since: Millis;
  transitions = 0;
  /** last VIP state the host confirmed (null: unknown). */
  vipHave: boolean | null = null;
  vipWant: boolean | null = null;
  vipPending = 0;
  vipError: string | null = null;
  preemptAt: Millis | null = null;
  retryAt: Millis | null = null;
  retryBackoff: Millis = 0;
  faultReason: string | null = null;
  release: Release | null = null;
  refreshAt: Millis | null = null;
  conflictAnnouncedAt: Millis | null = null;
  /** operator `standby`: advertise the lowest priority, never preempt. */
  demoted = false;
  /** operator `takeover`: advertise priority 255 until `standby`. */
  boosted = false;
  /** who we believe holds the VIP, and since when (for status). */
  holder: NodeId | null = null;
  holderSince: Millis | null = null;
  announcements = 0;
  /** ARP probes answered by another MAC while we held the VIP. */
  conflicts = 0;
  lastConflict: { macs: string[]; at: Millis } | null = null;
  /** the announcement check of the current (or last) term; null: none configured or none yet. */
  confirm: ConfirmState | null = null;
  /** confirm probes asked for, over every term. */
  confirmProbes = 0;
  /** from health checks: failing weights, fault reason, ping nodes reached. */
  healthPenalty = 0;
  healthFault: string | null = null;
  /** health not known yet (start-up, a check added by reload): no claim, but no fault. */
  healthPending: string | null = null;
  reach = 0;

  /** listen until then before claiming (per group: a group added by a reload listens too). */
  initUntil: Millis = 0;
  /**
   * Back from fault (a tracked link down, a failed check, a VIP error), the peer table is
   * stale: peers look dead because we could not hear them. Until then, claim only if every
   * configured peer has been heard again or one is seen active.
   */
  listenUntil: Millis | null = null;

  constructor(
    /** replaced in place by a reload that keeps the VIP and interface. */
    public cfg: GroupConfig,
    now: Millis,
    /** unique per core: results of a replaced group's actions never reach its successor. */
    readonly id: number,
  ) {
    this.since = now;
  }

  get name(): string {
    return this.cfg.name;
  }

  /** The VIP is on the host and no change is in flight. */
  get vipReady(): boolean {
    return this.vipHave === true && this.vipPending === 0;
  }

  become(to: GroupState, now: Millis, reason: string, out: Transition[]): void {
    const from = this.state;
    if (from === to) return;
    if (!LEGAL[from].includes(to)) {
      throw new Error(`illegal transition ${from} -> ${to} in group ${this.name} (${reason})`);
    }
    this.state = to;
    this.since = now;
    this.transitions++;
    this.preemptAt = null;
    if (to !== 'active') {
      this.release = null;
      this.refreshAt = null;
      this.conflictAnnouncedAt = null;
    }
    if (to !== 'fault') this.faultReason = null;
    out.push({ group: this.name, from, to, reason });
  }
}

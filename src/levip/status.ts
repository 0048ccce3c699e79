/**
 * The LevIP part of `haagent status`: members, the current slot and owner, the next slots,
 * counters, read off the core's LevIP mode (src/core/levip/mode.ts, CoreView.levip) at a wall
 * time. JSON keys are a stable interface for scripts: add keys, never rename or remove them.
 */
import { vipCidr } from '../config/vip.js';
import type { CoreView } from '../core/read-view.js';
import type { Millis, NodeId } from '../core/types.js';
import { plan, upcoming } from '../core/levip/schedule.js';
import type { Member } from '../core/levip/sequence.js';

/** Upcoming slots shown in status. */
export const STATUS_SLOTS = 6;

export interface LevipSlotStatus {
  slot: number;
  /** wall-clock ms. */
  start: Millis;
  /** start minus the wall time of the status (negative for the current slot). */
  inMs: Millis;
  owner: NodeId | null;
}

export interface LevipGroupStatus {
  group: string;
  interface: string;
  vip: string;
  period: Millis;
  guard: Millis;
  repeat: Millis;
  /** whether this node is a member now. */
  member: boolean;
  /** every member with its weight and first slot, by node id. */
  members: Member[];
  slot: number;
  owner: NodeId | null;
  iOwn: boolean;
  /** the owner switch of the interface (arp_ignore 0) is on. */
  answering: boolean;
  next: LevipSlotStatus[];
  /** slots in which this node announced at least once. */
  slotsOwned: number;
  /** unsolicited replies started. */
  announcements: number;
  announceErrors: number;
  /** failed switches of the interface's ARP answering (each retried; see src/core/levip/answering.ts). */
  answerErrors: number;
}

/** The status of every LevIP group of `core` at wall time `wall`. */
export function levipStatus(core: CoreView, wall: Millis): LevipGroupStatus[] {
  return core.levip.groups().map((r) => {
    const { period, guard, repeat } = r.cfg.levip;
    const p = plan(wall, core.opts.node, r.members, { period, guard, repeat });
    return {
      group: r.cfg.name,
      interface: r.cfg.interface,
      vip: vipCidr(r.cfg.vip),
      period,
      guard,
      repeat,
      member: r.member,
      members: r.members,
      slot: p.slot,
      owner: p.owner,
      iOwn: r.member && p.iOwn,
      answering: r.answering,
      next: upcoming(wall, r.members, STATUS_SLOTS, period).map((s) => ({ slot: s.slot, start: s.start, inMs: s.start - wall, owner: s.owner })),
      slotsOwned: r.slotsOwned,
      announcements: r.announcements,
      announceErrors: r.announceErrors,
      answerErrors: r.answerErrors,
    };
  });
}

/** The human lines of `haagent status` for the LevIP groups. */
export function formatLevipStatus(groups: readonly LevipGroupStatus[]): string[] {
  const out: string[] = [];
  for (const g of groups) {
    const members = g.members.map((m) => `${m.node}/${m.weight}${m.since > g.slot ? ` (from slot ${m.since})` : ''}`).join(' ') || '(none)';
    out.push(`levip ${g.group}  ${g.vip} via ${g.interface}  period ${g.period}ms guard ${g.guard}ms repeat ${g.repeat}ms  ${g.member ? 'member' : 'NOT A MEMBER'}`);
    out.push(`  members ${members}`);
    out.push(`  slot ${g.slot} owner ${g.owner ?? '(none)'}${g.iOwn ? ' (us, answering ' + (g.answering ? 'on' : 'off') + ')' : ''}; next: ${g.next.slice(1).map((s) => `${s.owner ?? '-'} in ${s.inMs}ms`).join(', ')}`);
    const switchErrors = g.answerErrors > 0 ? `, answering switch failed ${g.answerErrors}` : '';
    out.push(`  slots owned ${g.slotsOwned}, replies sent ${g.announcements}, failed ${g.announceErrors}${switchErrors}`);
  }
  return out;
}

/**
 * The LevIP part of `haagent status` (rotation.ts LevipRotation.status()): members, the current
 * slot and owner, the next slots, counters. JSON keys are a stable interface for scripts:
 * add keys, never rename or remove them.
 */
import type { Millis, NodeId } from '../core/types.js';
import type { Member } from './sequence.js';

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
}

/** The human lines of `haagent status` for the LevIP groups. */
export function formatLevipStatus(groups: readonly LevipGroupStatus[]): string[] {
  const out: string[] = [];
  for (const g of groups) {
    const members = g.members.map((m) => `${m.node}/${m.weight}${m.since > g.slot ? ` (from slot ${m.since})` : ''}`).join(' ') || '(none)';
    out.push(`levip ${g.group}  ${g.vip} via ${g.interface}  period ${g.period}ms guard ${g.guard}ms repeat ${g.repeat}ms  ${g.member ? 'member' : 'NOT A MEMBER'}`);
    out.push(`  members ${members}`);
    out.push(`  slot ${g.slot} owner ${g.owner ?? '(none)'}${g.iOwn ? ' (us, answering ' + (g.answering ? 'on' : 'off') + ')' : ''}; next: ${g.next.slice(1).map((s) => `${s.owner ?? '-'} in ${s.inMs}ms`).join(', ')}`);
    out.push(`  slots owned ${g.slotsOwned}, replies sent ${g.announcements}, failed ${g.announceErrors}`);
  }
  return out;
}

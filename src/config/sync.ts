/**
 * Sync groups: groups that name the same `sync:` unit fail over together, as keepalived's
 * vrrp_sync_group does (an LVS-NAT director's external VIP and the real servers' gateway
 * must live on the same director, or the replies are lost). The rule itself is the core's
 * (src/core/election.ts selfCandidate: a member advertises the unit's lowest priority, so a
 * fault in one makes every member ineligible and the peer takes them all). Here: the checks.
 */
import { NAME_RE } from './fields.js';
import type { PathKey } from './locate.js';

type Obj = Record<string, unknown>;

/** A unit needs two members or more; LevIP and ecmp bgp groups take no part (every member is active). */
export function checkSyncUnits(groups: readonly unknown[], out: { path: PathKey[]; expected: string }[]): void {
  const members = new Map<string, number[]>();
  groups.forEach((raw, i) => {
    const g = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Obj) : undefined;
    if (g?.sync === undefined) return;
    if (typeof g.sync !== 'string' || !NAME_RE.test(g.sync)) {
      out.push({ path: ['groups', i, 'sync'], expected: 'the name of a sync unit (letters, digits, - _ .), the same in every group of the unit' });
      return;
    }
    if (g.mode === 'levip') {
      out.push({ path: ['groups', i, 'sync'], expected: 'no sync unit for a levip group (every member is active; nothing fails over)' });
      return;
    }
    const bgp = g.bgp !== null && typeof g.bgp === 'object' ? (g.bgp as Obj) : undefined;
    if (g.mode === 'bgp' && bgp?.style === 'ecmp') {
      out.push({ path: ['groups', i, 'sync'], expected: 'no sync unit for an ecmp bgp group (every eligible member announces; nothing fails over)' });
      return;
    }
    members.set(g.sync, [...(members.get(g.sync) ?? []), i]);
  });
  for (const [unit, idx] of members) {
    if (idx.length < 2) out.push({ path: ['groups', idx[0]!, 'sync'], expected: `a sync unit another group names too ("${unit}" has this group only)` });
  }
}

/**
 * Who is a member of a LevIP group's rotation, read off the election's own state. Pure.
 *
 * A node is a member while it advertises the group `active` with a priority above 0: for
 * ourselves that is the record our next heartbeat carries (Core.advertised), so every node
 * judges every member, us included, from the same two fields. The core advertises `active`
 * only once the shared IP is really on lo, and priority 0 while releasing, in fault or in
 * maintenance, so a member always holds the IP. The advertised priority of a LevIP group is
 * its weight (Core.selfCandidate).
 */
import { MAX_WEIGHT, MIN_WEIGHT } from './sequence.js';
import type { WireGroup } from '../../wire/types.js';
import type { Peer } from '../peer-types.js';
import type { NodeId } from '../types.js';

export interface MemberView {
  node: NodeId;
  /** share of slots, MIN_WEIGHT..MAX_WEIGHT. */
  weight: number;
  /** the peer's boot id (absent for ourselves): a new one means it restarted. */
  boot?: string;
}

export interface GroupMembers {
  /** ourselves, when we are a member now; null otherwise. */
  self: MemberView | null;
  /** live peers that advertise the group active with a priority above 0. */
  peers: MemberView[];
  /**
   * live peers that advertise the group but are not members (standby, fault, releasing):
   * they left the rotation on purpose, unlike a peer that merely went unheard.
   */
  others: NodeId[];
}

/**
 * Weight from an advertised priority. An operator `takeover` advertises 255 and a health
 * penalty may lower it; the schedule throws outside 1..100 (a bug upstream, by its contract),
 * so every node clamps the same wire value the same way.
 */
export function weightOf(priority: number): number {
  return Math.min(MAX_WEIGHT, Math.max(MIN_WEIGHT, Math.round(priority)));
}

function isMember(g: WireGroup | undefined): g is WireGroup {
  return g !== undefined && g.state === 'active' && g.priority > 0;
}

/** The members of group `name`: ourselves (`node`, advertising `mine`) and the live peers. */
export function membersOf(name: string, node: NodeId, mine: WireGroup, alive: readonly Peer[]): GroupMembers {
  const peers: MemberView[] = [];
  const others: NodeId[] = [];
  for (const p of alive) {
    const pg = p.groups.get(name);
    if (isMember(pg)) peers.push({ node: p.node, weight: weightOf(pg.priority), boot: p.bootId.toString() });
    else others.push(p.node);
  }
  return { self: isMember(mine) ? { node, weight: weightOf(mine.priority) } : null, peers, others };
}

/**
 * What the LevIP rotation needs from the election, read off the core after each step. Pure.
 *
 * A node is a member of a LevIP group while it advertises the group `active` with a priority
 * above 0: for ourselves that is `core.advertised(g)`, the very record our peers receive, so
 * every node judges every member, us included, from the same two fields. The core advertises
 * `active` only once the shared IP is really on lo, and priority 0 while releasing, in fault
 * or in maintenance, so a member always holds the IP. The advertised priority of a LevIP group
 * is its weight (src/core/election.ts selfCandidate).
 */
import type { CoreView } from '../core/read-view.js';
import type { Millis, NodeId } from '../core/types.js';
import type { WireGroup } from '../wire/types.js';
import { isLevipGroup, type LevipGroupConfig } from '../config/vip-device.js';
import { MAX_WEIGHT, MIN_WEIGHT } from './sequence.js';

export interface MemberView {
  node: NodeId;
  /** share of slots, MIN_WEIGHT..MAX_WEIGHT. */
  weight: number;
  /** the peer's boot id (absent for ourselves): a new one means it restarted. */
  boot?: string;
}

export interface LevipGroupView {
  cfg: LevipGroupConfig;
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

/** One view per LevIP group of the core, at monotonic time now (for peer liveness). */
export function levipViews(core: CoreView, now: Millis): LevipGroupView[] {
  const out: LevipGroupView[] = [];
  const alive = core.peers.alive(now);
  for (const g of core.groups) {
    if (!isLevipGroup(g.cfg)) continue;
    const mine = core.advertised(g);
    const peers: MemberView[] = [];
    const others: NodeId[] = [];
    for (const p of alive) {
      const pg = p.groups.get(g.name);
      if (isMember(pg)) peers.push({ node: p.node, weight: weightOf(pg.priority), boot: p.bootId.toString() });
      else others.push(p.node);
    }
    out.push({ cfg: g.cfg, self: isMember(mine) ? { node: core.opts.node, weight: weightOf(mine.priority) } : null, peers, others });
  }
  return out;
}

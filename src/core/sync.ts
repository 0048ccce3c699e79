/**
 * Sync units in the core: groups whose configuration names the same `sync:` unit fail over
 * together. Each member advertises, and is ranked by, the unit's weakest candidacy (lowest
 * priority, lowest reach), so every node ranks all members alike and elects one node for the
 * whole unit; a member that cannot serve (fault, failing check, releasing, a VIP that would
 * not go on) makes every member ineligible here, and the peer takes them all. Operator
 * commands naming one member act on the unit.
 */
import type { GroupRt } from './group.js';
import type { Candidate } from './rank.js';

/** g's unit, g included; g alone when it names none. */
export function unitOf(groups: readonly GroupRt[], g: GroupRt): GroupRt[] {
  const unit = g.cfg.sync;
  return unit === undefined ? [g] : groups.filter((x) => x.cfg.sync === unit);
}

/** The unit's candidacy for g: its own, lowered to the weakest member's. */
export function unitCandidate(groups: readonly GroupRt[], g: GroupRt, own: (x: GroupRt) => Candidate): Candidate {
  const mine = own(g);
  const unit = g.cfg.sync;
  if (unit === undefined) return mine;
  let priority = mine.priority;
  let reach = mine.reach ?? 0;
  for (let i = 0; i < groups.length; i++) {
    const m = groups[i]!;
    if (m === g || m.cfg.sync !== unit) continue;
    const c = own(m);
    if (c.priority < priority) priority = c.priority;
    if ((c.reach ?? 0) < reach) reach = c.reach ?? 0;
  }
  return { node: mine.node, priority, reach };
}

/**
 * One LevIP group's member table as this node keeps it: who takes part in the rotation and
 * from which slot (Member.since). Pure: the wall time is given.
 *
 * Joins: a member first seen at wall time t takes part from joinSlot(t) = slot(t) + 2. The
 * heartbeat does not carry the member's own `since` (docs/levip.md recommends it), so each node
 * uses the time IT first saw the member; they agree except when a boundary falls between two
 * nodes' first sightings (a few ms), and then only for one slot, in which two nodes announce
 * or none does: harmless, every member holds the IP. Leaves take effect at once.
 *
 * Returns: a member that went unheard (dead time, partition, a stalled event loop) and comes
 * back with the same boot id never stopped being a member in its own eyes, nor in those of the
 * nodes that kept hearing it, so it gets its old join slot back (the design's "still
 * advertising its old since"); a fresh join slot there would make this node's cycle differ from
 * everyone else's for two slots after every heartbeat hiccup. A member that left on purpose
 * (heard as standby, fault, releasing) or restarted (new boot id) joins afresh. Ourselves: no
 * boot id, so always afresh, as our peers see us leave on purpose.
 */
import { joinSlot, type Member } from './schedule.js';
import type { Millis, NodeId, Note } from '../types.js';
import type { GroupMembers, MemberView } from './members.js';

interface Departed {
  since: number;
  boot: string | undefined;
}

export class MemberTable {
  private readonly members = new Map<NodeId, Member>();
  /** members that went unheard, with the join slot to give back if they return unchanged. */
  private readonly departed = new Map<NodeId, Departed>();
  /** last boot id heard per member. */
  private readonly boots = new Map<NodeId, string>();

  constructor(
    private readonly group: string,
    private readonly period: Millis,
  ) {}

  /** Copies of the members, by node id: what plan() and status take. */
  list(): Member[] {
    const out = [...this.members.values()].map((m) => ({ ...m }));
    return out.sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  }

  /** Brings the table in line with what the election says now; joins and leaves become notes. */
  sync(m: GroupMembers, wall: Millis, notes: Note[]): void {
    const present = m.self ? [m.self, ...m.peers] : m.peers;
    for (let i = 0; i < present.length; i++) this.admit(present[i]!, wall, notes);
    if (this.members.size > present.length || m.others.length > 0) this.dropAbsent(present, m.others, notes);
  }

  private dropAbsent(present: readonly MemberView[], others: readonly NodeId[], notes: Note[]): void {
    for (const [node, m] of [...this.members]) {
      if (present.some((x) => x.node === node)) continue;
      this.members.delete(node);
      // Heard as a non-member: it left on purpose. Not heard: it may come back unchanged.
      if (!others.includes(node)) this.departed.set(node, { since: m.since, boot: this.boots.get(node) });
      notes.push({ level: 'info', group: this.group, peer: node, msg: `levip: ${node} leaves the rotation` });
    }
    for (const node of others) this.departed.delete(node);
  }

  private admit(m: MemberView, wall: Millis, notes: Note[]): void {
    const old = this.members.get(m.node);
    if (m.boot !== undefined) this.boots.set(m.node, m.boot);
    if (old) {
      old.weight = m.weight;
      return;
    }
    const back = this.departed.get(m.node);
    this.departed.delete(m.node);
    const group = this.group;
    if (back && back.boot !== undefined && back.boot === m.boot) {
      this.members.set(m.node, { node: m.node, weight: m.weight, since: back.since });
      notes.push({ level: 'info', group, peer: m.node, msg: `levip: ${m.node} joins the rotation from slot ${back.since} (heard again, same boot)`, data: { weight: m.weight, since: back.since } });
      return;
    }
    const since = joinSlot(wall, this.period);
    this.members.set(m.node, { node: m.node, weight: m.weight, since });
    notes.push({ level: 'info', group, peer: m.node, msg: `levip: ${m.node} joins the rotation from slot ${since}`, data: { weight: m.weight, since } });
  }
}

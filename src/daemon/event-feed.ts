/**
 * The event stream of `haagent events`: one JSON object per event, to every follower.
 *
 * Transitions, reloads and the election's warnings are emitted where they happen (agent.ts);
 * health checks and links by the health side (agent-health.ts). The rest is derived here by
 * comparing two digests of the core's state, taken after each step: a peer up or down, a path
 * of a live peer silent or heard again, maintenance on or off, a group's health verdict, a
 * VIP conflict. The digest and the comparison are pure (eventDigest, digestEvents); the feed
 * takes a digest only while someone follows, so an agent nobody watches does no extra work.
 *
 * The states compared are those the core itself reported (a peer's reportedAlive, a path's
 * warned flag), so an event matches the log line of the same change.
 */
import type { CoreView } from '../core/read-view.js';
import type { EventSource } from './control-protocol.js';

export interface EventDigest {
  maintenance: boolean;
  /** by peer: alive as last reported, and its paths reported silent. */
  peers: Map<string, { alive: boolean; silent: string[] }>;
  /** by group: the health verdict the core holds, and the conflicts seen. */
  groups: Map<string, { fault: string | null; pending: string | null; penalty: number; conflicts: number }>;
}

export function eventDigest(core: CoreView): EventDigest {
  const peers = new Map<string, { alive: boolean; silent: string[] }>();
  for (const p of core.peers.all()) peers.set(p.node, { alive: p.reportedAlive, silent: p.paths.filter((x) => x.warned).map((x) => x.address) });
  const groups = new Map<string, { fault: string | null; pending: string | null; penalty: number; conflicts: number }>();
  for (const g of core.groups) groups.set(g.name, { fault: g.healthFault, pending: g.healthPending, penalty: g.healthPenalty, conflicts: g.conflicts });
  return { maintenance: core.maintenance, peers, groups };
}

export type FeedEvent = Record<string, unknown> & { event: string };

/** The events between two digests, in a fixed order: maintenance, peers, paths, health, conflicts. */
export function digestEvents(before: EventDigest, after: EventDigest, core: CoreView): FeedEvent[] {
  const out: FeedEvent[] = [];
  if (before.maintenance !== after.maintenance) out.push({ event: 'maintenance', on: after.maintenance });
  for (const [node, p] of after.peers) {
    const was = before.peers.get(node);
    if ((was?.alive ?? false) !== p.alive) out.push({ event: p.alive ? 'peer-up' : 'peer-down', peer: node });
    for (const address of p.silent) if (!was?.silent.includes(address)) out.push({ event: 'path-down', peer: node, address });
    for (const address of was?.silent ?? []) if (!p.silent.includes(address) && p.alive) out.push({ event: 'path-up', peer: node, address });
  }
  for (const [name, g] of after.groups) {
    const was = before.groups.get(name);
    if (was === undefined) continue; // a group a reload added: its reload event says so
    if (was.fault !== g.fault || was.pending !== g.pending || was.penalty !== g.penalty) {
      out.push({ event: 'health', group: name, fault: g.fault, pending: g.pending, penalty: g.penalty });
    }
    if (g.conflicts > was.conflicts) {
      const last = core.group(name)?.lastConflict;
      out.push({ event: 'conflict', group: name, conflicts: g.conflicts, macs: last?.macs ?? [] });
    }
  }
  return out;
}

/** The followers and what they are sent; `view` is the core (null before it exists). */
export class EventFeed {
  private readonly followers = new Set<(ev: object) => void>();
  private last: EventDigest | null = null;

  constructor(
    private readonly node: () => string,
    private readonly view: () => CoreView | null,
    private readonly time: () => string = () => new Date().toISOString(),
  ) {}

  /** For the control server: subscribes a follower; the digest starts with the first one. */
  readonly source: EventSource = (write) => {
    if (this.followers.size === 0) this.last = this.digest();
    this.followers.add(write);
    return () => {
      this.followers.delete(write);
      if (this.followers.size === 0) this.last = null;
    };
  };

  emit(ev: FeedEvent): void {
    if (this.followers.size === 0) return;
    const line = { time: this.time(), node: this.node(), ...ev };
    for (const w of this.followers) w(line);
  }

  /** After a core step: the changes since the last one, while someone follows. */
  observe(): void {
    if (this.followers.size === 0) return;
    const now = this.digest();
    const core = this.view();
    if (this.last !== null && now !== null && core !== null) for (const ev of digestEvents(this.last, now, core)) this.emit(ev);
    this.last = now;
  }

  private digest(): EventDigest | null {
    const core = this.view();
    return core === null ? null : eventDigest(core);
  }
}

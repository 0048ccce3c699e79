/**
 * Pure maths on the VIP timeline recorded by vipwatch.ts: who held the VIP when, how long two
 * directors held it at once, how often it moved. No clock, no I/O; times are epoch ms.
 */

export interface VipEvent {
  at: number;
  host: string;
  /** true: the VIP was (or is found) on host's interface from `at` on; false: removed. */
  present: boolean;
  /**
   * `at` is ip's own stamp (`ip -ts monitor`, read promptly under SCHED_FIFO), not when this
   * process saw the line: only such a stamp may time the VIP's arrival against the wire.
   */
  ipStamp?: boolean;
  /** with several monitors: how much later than `at` the latest of them stamped the same event, ms. */
  spreadMs?: number;
}

/**
 * Several monitors of one host's addresses report the same kernel events in the same order,
 * each stamped when that monitor got round to it: the n-th report of every monitor is one
 * event, its time the earliest stamp (no monitor sees an event before it happened), its
 * spreadMs how much later the latest stamped it. A monitor whose n-th report disagrees with
 * the others (it lost a message) is left out from then on.
 */
export class MonitorMerge {
  readonly events: VipEvent[] = [];
  dropped = 0;
  private readonly byHost = new Map<string, VipEvent[]>();
  /** per host/monitor: reports so far; -1 once left out. */
  private readonly seen = new Map<string, number>();

  /** One report: `stamp` is the monitor's own time (null: none), `arrived` when this process read it. */
  add(host: string, monitor: number, present: boolean, stamp: number | null, arrived: number): void {
    const key = `${host}/${monitor}`;
    const i = this.seen.get(key) ?? 0;
    if (i < 0) return;
    this.seen.set(key, i + 1);
    const list = this.byHost.get(host) ?? [];
    this.byHost.set(host, list);
    const known = list[i];
    if (known === undefined) {
      const e: VipEvent = stamp === null ? { at: arrived, host, present } : { at: stamp, host, present, ipStamp: true, spreadMs: 0 };
      list.push(e);
      this.events.push(e);
    } else if (known.present !== present) {
      this.seen.set(key, -1);
      this.dropped++;
    } else if (stamp !== null && known.ipStamp) {
      const latest = Math.max(known.at + (known.spreadMs ?? 0), stamp);
      known.at = Math.min(known.at, stamp);
      known.spreadMs = latest - known.at;
    }
  }
}

function ordered(events: readonly VipEvent[]): VipEvent[] {
  return [...events].sort((a, b) => a.at - b.at);
}

/** The hosts holding the VIP at time t (events at exactly t count). */
export function holdersAt(events: readonly VipEvent[], t: number): string[] {
  const state = new Map<string, boolean>();
  for (const e of ordered(events)) {
    if (e.at > t) break;
    state.set(e.host, e.present);
  }
  return [...state.entries()].filter(([, p]) => p).map(([h]) => h).sort();
}

/** Milliseconds within [from, to] during which two or more hosts held the VIP. */
export function overlapMs(events: readonly VipEvent[], from: number, to: number): number {
  if (to <= from) return 0;
  const state = new Map<string, boolean>();
  const both = (): boolean => [...state.values()].filter(Boolean).length >= 2;
  let total = 0;
  let prev = from;
  for (const e of ordered(events)) {
    if (e.at > to) break;
    if (e.at > from) {
      if (both()) total += e.at - prev;
      prev = e.at;
    }
    state.set(e.host, e.present);
  }
  if (both()) total += to - prev;
  return total;
}

/**
 * Separate stretches within [from, to] during which two or more hosts held the VIP (one under
 * way at `from` counts). Events with the same time are applied together, so a move reported
 * as add-then-delete in the same instant is no episode.
 */
export function overlapEpisodes(events: readonly VipEvent[], from: number, to: number): number {
  if (to <= from) return 0;
  const state = new Map<string, boolean>();
  const dual = (): boolean => [...state.values()].filter(Boolean).length >= 2;
  const evs = ordered(events);
  let i = 0;
  for (; i < evs.length && evs[i].at <= from; i++) state.set(evs[i].host, evs[i].present);
  let was = dual();
  let n = was ? 1 : 0;
  while (i < evs.length && evs[i].at < to) {
    const at = evs[i].at;
    for (; i < evs.length && evs[i].at === at; i++) state.set(evs[i].host, evs[i].present);
    const now = dual();
    if (now && !was) n++;
    was = now;
  }
  return n;
}

/**
 * The first time at/after `from` that host came to hold the VIP (absent before, present
 * after); null if it did not. Returns the event, so the caller can see how it was stamped.
 */
export function firstAcquisition(events: readonly VipEvent[], host: string, from: number): VipEvent | null {
  let had = false;
  for (const e of ordered(events)) {
    if (e.host !== host) continue;
    if (e.present && !had && e.at >= from) return e;
    had = e.present;
  }
  return null;
}

/** Times the VIP appeared on a host that did not hold it, within [from, to] (moves and splits). */
export function acquisitions(events: readonly VipEvent[], from: number, to: number): number {
  const state = new Map<string, boolean>();
  let n = 0;
  for (const e of ordered(events)) {
    const was = state.get(e.host) ?? false;
    if (e.present && !was && e.at >= from && e.at <= to) n++;
    state.set(e.host, e.present);
  }
  return n;
}

/** The first time at/after t when exactly one host holds the VIP; null if never (so far). */
export function singleHolderSince(events: readonly VipEvent[], t: number): number | null {
  if (holdersAt(events, t).length === 1) return t;
  for (const e of ordered(events)) {
    if (e.at < t) continue;
    if (holdersAt(events, e.at).length === 1) return e.at;
  }
  return null;
}

/**
 * Pure maths on the VIP timeline recorded by vipwatch.ts: who held the VIP when, how long two
 * directors held it at once, how often it moved. No clock, no I/O; times are epoch ms.
 */

export interface VipEvent {
  at: number;
  host: string;
  /** true: the VIP was (or is found) on host's interface from `at` on; false: removed. */
  present: boolean;
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

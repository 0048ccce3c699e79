/**
 * A group's VIPs made present or absent together, through whatever VipHost is at hand: its
 * ensureAll when it has one (one exchange for all), otherwise one call per VIP, side by side.
 * One VIP is always one plain call, so a group of one VIP costs what it always did.
 *
 * The answers are collected by calling then() on each at once, with no promise combinator in
 * between: an in-process answer (netlink) that is settled when returned is then acted on in
 * the same turn of the loop, and the simulator's ports (test/scenarios), which settle on
 * their own queue, see their callers waiting.
 */
import type { EnsureOutcome, VipHost, VipPlacement } from './index.js';

/**
 * Starts every call and hands the outcomes, in call order, to `done` once all are in; a call
 * that throws or rejects gives `failed(error)` for its place.
 */
export function gather<T>(calls: readonly (() => PromiseLike<T>)[], failed: (e: unknown) => T, done: (outs: T[]) => void): void {
  const outs: T[] = new Array<T>(calls.length);
  let left = calls.length;
  if (left === 0) return done(outs);
  const put = (i: number) => (v: T) => {
    outs[i] = v;
    if (--left === 0) done(outs);
  };
  calls.forEach((call, i) => {
    let answer: PromiseLike<T>;
    try {
      answer = call();
    } catch (e) {
      return put(i)(failed(e));
    }
    answer.then(put(i), (e: unknown) => put(i)(failed(e)));
  });
}

/** One outcome per placement, in order, handed to `done`. */
export function ensureVipsThen(host: VipHost, placements: readonly VipPlacement[], present: boolean, done: (outs: EnsureOutcome[]) => void): void {
  if (placements.length > 1 && host.ensureAll) {
    const all = host.ensureAll.bind(host);
    return gather([() => all(placements, present)], (e) => placements.map(() => failure(e)), ([outs]) => done(outs!));
  }
  const calls = placements.map((p) => () => (present ? host.ensurePresent(p.vip, p.iface) : host.ensureAbsent(p.vip, p.iface)));
  gather(calls, failure, done);
}

/** ensureVipsThen as a promise, for callers off the takeover path (release, a forced stop). */
export function ensureVips(host: VipHost, placements: readonly VipPlacement[], present: boolean): Promise<EnsureOutcome[]> {
  return new Promise((resolve) => ensureVipsThen(host, placements, present, resolve));
}

function failure(e: unknown): EnsureOutcome {
  return { ok: false, error: e instanceof Error ? e.message : String(e) };
}

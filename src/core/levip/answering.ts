/**
 * The ARP answering switch of the interfaces that carry LevIP groups: what this node last
 * asked the host for (levipAnswer actions), what came of it (levipAnswerResult inputs), and
 * when to ask again. arp_ignore is per interface, not per address: an interface answers only
 * while this node owns the current slot of every LevIP group on it.
 *
 * Failures (a sysctl write refused, the interface gone, its set-up refused):
 *   - every failure is counted (status `answerErrors`) and logged, and the request is asked
 *     again at the mode's next instant (an announcement, a quiet start, a boundary; at most
 *     MAX_SLEEP_MS away), not at every step: a broken sysctl would otherwise be written a
 *     hundred times a second at 10 ms heartbeats;
 *   - an `on` that keeps failing is retried for ever: it costs the owner only its answers to
 *     a router's own probes (its unsolicited replies still go out);
 *   - an `off` that keeps failing leaves the interface answering ARP for the shared IP on lo
 *     outside our slots, out of turn, which the mode exists to prevent. After FAULT_AFTER
 *     failures in a row, the last of them an `off`, result() says so and the mode puts the
 *     interface's LevIP groups in fault, which takes the IP off lo (nothing left to answer
 *     for) and retries with the fault backoff. Not after the first failure: a transient
 *     error should not cost a slot's traffic, and the retries follow at the next instants.
 */
import type { Action, Millis, Note } from '../types.js';

/** Failed requests in a row, the last an `off`, after which the interface's groups fault. */
export const FAULT_AFTER = 3;

interface Switch {
  /** what was asked last and is not known to have failed; null: unknown (never asked, or it failed). */
  asked: boolean | null;
  /** failed requests in a row. */
  failures: number;
  /** monotonic: after a failure, no new request before then. */
  retryAt: Millis | null;
  /** failed requests in all (status). */
  errors: number;
}

export class AnswerSwitch {
  private readonly switches = new Map<string, Switch>();

  /** Whether the last request for iface was `on` (and not known to have failed). */
  answering(iface: string): boolean {
    return this.switches.get(iface)?.asked === true;
  }

  /** Failed requests on iface since it was first switched. */
  errors(iface: string): number {
    return this.switches.get(iface)?.errors ?? 0;
  }

  /** The earliest retry waiting (monotonic), or Infinity. */
  nextRetry(): Millis {
    let at = Infinity;
    for (const s of this.switches.values()) if (s.retryAt !== null && s.asked === null) at = Math.min(at, s.retryAt);
    return at;
  }

  /**
   * Asks for `want` (per interface) where it differs from what was asked. An interface that is
   * not in `want` (its last LevIP group went) is switched off once and forgotten.
   */
  apply(want: ReadonlyMap<string, boolean>, now: Millis, actions: Action[]): void {
    for (const [iface, s] of this.switches) {
      if (want.has(iface)) continue;
      if (s.asked !== false) actions.push({ kind: 'levipAnswer', iface, on: false });
      this.switches.delete(iface);
    }
    for (const [iface, on] of want) {
      let s = this.switches.get(iface);
      if (s === undefined) this.switches.set(iface, (s = { asked: null, failures: 0, retryAt: null, errors: 0 }));
      if (s.asked === on) continue;
      if (s.retryAt !== null && now < s.retryAt) continue;
      s.asked = on;
      s.retryAt = null;
      actions.push({ kind: 'levipAnswer', iface, on });
    }
  }

  /**
   * A request's outcome. On failure: counted, a note, the retry not before `retryAt`; returns
   * true when the interface's groups must fault (see the header).
   */
  result(iface: string, on: boolean, ok: boolean, error: string | undefined, retryAt: Millis, notes: Note[]): boolean {
    const s = this.switches.get(iface);
    if (ok) {
      if (s) s.failures = 0;
      return false;
    }
    notes.push({ level: 'error', msg: `levip: cannot turn ARP answering ${on ? 'on' : 'off'} on ${iface}: ${error ?? 'unknown error'}` });
    if (s === undefined) return false;
    s.errors++;
    s.failures++;
    // Results come back in the order asked: a newer request made since stands until its own result.
    if (s.asked === on) {
      s.asked = null;
      s.retryAt = retryAt;
    }
    return !on && s.failures >= FAULT_AFTER;
  }
}

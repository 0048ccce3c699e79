/**
 * The pure half of health tracking: per-check rise/fall with a hold-down (flap damping), and
 * what a set of check, link and ping-node states means for the election. No clock, no timer, no
 * I/O: time comes in as `now` with each result. HealthMonitor (monitor.ts) is the thin loop that
 * feeds it.
 *
 * Per check (R = rise, F = fall, H = holdDown):
 *
 *   unknown --R successes in a row--> passing        (no hold-down: nothing was reported yet)
 *   unknown --F failures in a row---> failing
 *   passing --F failures in a row---> failing        (never delayed: failing must act fast)
 *   failing --R successes in a row--> passing, but not before H ms after the last reported change
 *
 * A recovery that is held down is reported at the first success at or after the hold-down ends,
 * provided the last R results are still successes. A full flap (passing -> failing -> passing)
 * therefore takes at least F x interval + max(R x interval, H): with the defaults (1 s, 2, 2,
 * 10 s) at least 12 s, so 10 reported transitions a minute sustained, at most 11 in any 60 s
 * window (docs/health.md).
 */
import type { CheckResult, CheckState, CheckView, CheckWeight, GroupHealthSpec, HealthSummary, Millis } from './types.js';

export interface TrackerParams {
  rise: number;
  fall: number;
  holdDown: Millis;
}

export interface TrackerState {
  /** the reported state. */
  state: CheckState;
  /** consecutive successes (0 after a failure). */
  successes: number;
  /** consecutive failures (0 after a success). */
  failures: number;
  /** when the reported state last changed; null while nothing was ever reported. */
  changedAt: Millis | null;
}

export const INITIAL_TRACKER: TrackerState = Object.freeze({
  state: 'unknown',
  successes: 0,
  failures: 0,
  changedAt: null,
});

/** One result in, the next tracker state out. Pure. */
export function advance(s: TrackerState, p: TrackerParams, ok: boolean, now: Millis): TrackerState {
  const successes = ok ? s.successes + 1 : 0;
  const failures = ok ? 0 : s.failures + 1;
  let state = s.state;
  if (!ok && failures >= p.fall) {
    state = 'failing';
  } else if (ok && successes >= p.rise && !heldDown(s, p, now)) {
    state = 'passing';
  }
  const changedAt = state === s.state ? s.changedAt : now;
  return { state, successes, failures, changedAt };
}

/** Only a recovery is held down; a first report (from unknown) and a failure never are. */
function heldDown(s: TrackerState, p: TrackerParams, now: Millis): boolean {
  return s.state === 'failing' && s.changedAt !== null && now - s.changedAt < p.holdDown;
}

/** A mutable holder around advance(), one per check. Still no clock: `now` is passed in. */
export class CheckTracker {
  private s: TrackerState = INITIAL_TRACKER;
  private lastResult: CheckResult | null = null;

  constructor(private readonly params: TrackerParams) {}

  get state(): CheckState {
    return this.s.state;
  }

  /** the most recent result, for status output. */
  get last(): CheckResult | null {
    return this.lastResult;
  }

  record(result: CheckResult, now: Millis): { changed: boolean; state: CheckState } {
    const before = this.s.state;
    this.s = advance(this.s, this.params, result.ok, now);
    this.lastResult = result;
    return { changed: this.s.state !== before, state: this.s.state };
  }
}

/**
 * How a state counts for the election. The safe choice, as keepalived's init_fail: a `fault`
 * check must have passed `rise` times before the node may claim, so 'unknown' counts as failing
 * for it. A weight check only shifts preference, so 'unknown' counts as passing: otherwise every
 * restart would lower the node's priority and raise it again a few seconds later, and with
 * preemption that is a pointless VIP move.
 */
export function countsAsFailing(weight: CheckWeight, state: CheckState): boolean {
  return state === 'failing' || (state === 'unknown' && weight === 'fault');
}

export interface CheckEffect {
  /** basePriority minus the weights of failing weight checks, never below 1. */
  priority: number;
  /** why the node is ineligible (a fault check failing), or null. */
  fault: string | null;
  /** fault checks that have not passed yet (none was reported): the node waits, not a fault. */
  pending: string | null;
  /** names of checks in state 'failing', in the given order. */
  failing: string[];
}

/**
 * Weights add up and the result is clamped to 1: weights alone never make a node ineligible
 * (priority 0 means "resigning" in VRRP, RFC 5798 section 5.2.4); only a fault check does.
 */
export function effect(checks: readonly CheckView[], basePriority: number): CheckEffect {
  let lowered = 0;
  const faults: string[] = [];
  const pending: string[] = [];
  for (const c of checks) {
    if (!countsAsFailing(c.spec.weight, c.state)) continue;
    if (c.spec.weight === 'fault') {
      if (c.state === 'unknown') pending.push(`check ${c.spec.name} has not passed yet`);
      else faults.push(`check ${c.spec.name} failing`);
    } else {
      lowered += c.spec.weight;
    }
  }
  return {
    priority: Math.max(1, basePriority - lowered),
    fault: joined(faults),
    pending: joined(pending),
    failing: checks.filter((c) => c.state === 'failing').map((c) => c.spec.name),
  };
}

/**
 * A group's whole health: its checks' effect plus its links and ping nodes. A tracked link that
 * is down is a fault (keepalived's track_interface without a weight): a VIP on a dead link
 * serves nobody. One whose state is not known yet (the first read is under way) is pending:
 * the node may not claim yet, but "not known yet" is not a failure.
 */
export function summarize(
  spec: Pick<GroupHealthSpec, 'basePriority' | 'interfaces' | 'pingNodes'>,
  checks: readonly CheckView[],
  linkUp: (iface: string) => boolean | undefined,
  pingReachable: number,
): HealthSummary {
  const e = effect(checks, spec.basePriority);
  const linksDown: string[] = [];
  const reasons: string[] = [];
  const pending: string[] = [];
  for (const iface of spec.interfaces) {
    const up = linkUp(iface);
    if (up === true) continue;
    if (up === undefined) {
      pending.push(`link ${iface} state not known yet`);
      continue;
    }
    linksDown.push(iface);
    reasons.push(`link ${iface} down`);
  }
  if (e.fault !== null) reasons.push(e.fault);
  if (e.pending !== null) pending.push(e.pending);
  return {
    priority: e.priority,
    fault: joined(reasons),
    pending: joined(pending),
    failing: e.failing,
    linksDown,
    pingReachable,
    pingTotal: spec.pingNodes.length,
  };
}

/** Whether two summaries would tell the election anything different. */
export function sameSummary(a: HealthSummary, b: HealthSummary): boolean {
  return (
    a.priority === b.priority &&
    a.fault === b.fault &&
    a.pending === b.pending &&
    a.pingReachable === b.pingReachable &&
    a.pingTotal === b.pingTotal &&
    a.failing.join('\0') === b.failing.join('\0') &&
    a.linksDown.join('\0') === b.linksDown.join('\0')
  );
}

function joined(reasons: readonly string[]): string | null {
  return reasons.length > 0 ? reasons.join('; ') : null;
}

/**
 * HealthMonitor: the thin loop that runs every check (and ping node) on its interval, feeds the
 * pure trackers in scheduler.ts and reports a group's HealthSummary when it changes.
 *
 * Off the state machine's path: a timer callback only starts a run and returns; the result
 * arrives later as a promise continuation. Nothing here awaits inside a callback the heartbeat
 * needs, so a check that hangs for its whole timeout never delays a heartbeat.
 *
 * Runs of one check never overlap: the next run is scheduled when the current one settles, at
 * start + interval (at once if the run took longer). A run that has not settled by its timeout
 * (plus a little grace, so the check's own, more precise, failure wins) is counted as a failure
 * and aborted; if it is still pending at the next turn, that turn is another failure, not a
 * second concurrent run.
 */
import { errorText } from '../adapters/bounded-buffer.js';
import type { Clock } from '../ports/index.js';
import { CheckTracker, sameSummary, summarize } from './scheduler.js';
import { DEFAULTS } from '../config/defaults.js';
import {
  type CheckResult,
  type CheckSpec,
  type CheckState,
  type CheckView,
  type GroupHealthSpec,
  type HealthSummary,
  type Millis,
  type PingNodeOptions,
} from './types.js';
import type { TimerHandle, Timers } from '../ports/index.js';

/** Runs one check once. Should never reject; a rejection is counted as a failure anyway. */
export type Checker = (spec: CheckSpec, signal: AbortSignal) => Promise<CheckResult>;

/** Past the timeout, how long the monitor lets a check report its own failure before it steps in. */
export const GUARD_GRACE_MS: Millis = 250;

export interface CheckChange {
  group: string | null;
  /** the check name, or "ping-node HOST". */
  check: string;
  from: CheckState;
  to: CheckState;
  detail: string;
}

export interface HealthMonitorDeps {
  clock: Clock;
  timers: Timers;
  checker: Checker;
  /** a group's summary changed (and once per group at start). */
  onChange: (group: string, summary: HealthSummary) => void;
  /** one check or ping node changed state; for logs. */
  onCheckChange?: (change: CheckChange) => void;
  pingNode?: PingNodeOptions;
}

interface Job {
  spec: CheckSpec;
  /** null for a ping node, which may serve several groups. */
  group: string | null;
  tracker: CheckTracker;
  timer: TimerHandle | null;
  /** the timeout guard of the run in flight. */
  guard: TimerHandle | null;
  inFlight: boolean;
  controller: AbortController | null;
  /** dropped by a reload (or stopped): never scheduled or recorded again. */
  halted: boolean;
}

export class HealthMonitor {
  private readonly checkJobs = new Map<string, Job[]>();
  private readonly pingJobs = new Map<string, Job>();
  private readonly links = new Map<string, boolean>();
  private readonly last = new Map<string, HealthSummary>();
  private running = false;

  private groups: readonly GroupHealthSpec[] = [];

  constructor(
    groups: readonly GroupHealthSpec[],
    private readonly deps: HealthMonitorDeps,
  ) {
    this.update(groups);
  }

  /**
   * Replaces what is watched (start, and reload). A check whose spec is unchanged keeps its
   * job: its state, its history and its schedule, so a reload flaps nothing. New checks and
   * ping nodes start at once (when running); dropped ones stop. Every group whose summary
   * differs from the last one reported (a new group: always) is reported.
   */
  update(groups: readonly GroupHealthSpec[]): void {
    const pn = this.deps.pingNode ?? DEFAULTS.health.pingNode;
    const oldChecks = new Map(this.checkJobs);
    const oldPings = new Map(this.pingJobs);
    const fresh: Job[] = [];
    this.checkJobs.clear();
    this.pingJobs.clear();
    for (const g of groups) {
      const pool = [...(oldChecks.get(g.group) ?? [])];
      this.checkJobs.set(
        g.group,
        g.checks.map((spec) => {
          const i = pool.findIndex((j) => sameSpec(j.spec, spec));
          if (i >= 0) return pool.splice(i, 1)[0]!;
          const job = newJob(spec, g.group);
          fresh.push(job);
          return job;
        }),
      );
      oldChecks.set(g.group, pool);
      for (const host of g.pingNodes) {
        if (this.pingJobs.has(host)) continue;
        const kept = oldPings.get(host);
        oldPings.delete(host);
        const job = kept ?? newJob({ type: 'ping', name: `ping-node ${host}`, host, weight: 'fault', ...pn }, null);
        if (!kept) fresh.push(job);
        this.pingJobs.set(host, job);
      }
    }
    for (const job of [...[...oldChecks.values()].flat(), ...oldPings.values()]) halt(job, this.deps.timers, true);
    const names = new Set(groups.map((g) => g.group));
    for (const name of [...this.last.keys()]) if (!names.has(name)) this.last.delete(name);
    this.groups = groups;
    if (!this.running) return;
    for (const g of groups) this.report(g);
    for (const job of fresh) this.schedule(job, 0);
  }

  /** Reports every group's starting summary, then starts every check at once. */
  start(): void {
    if (this.running) return;
    this.running = true;
    for (const g of this.groups) this.report(g);
    for (const job of this.allJobs()) this.schedule(job, 0);
  }

  /** Clears every timer and aborts every run in flight; results arriving later are dropped. */
  stop(): void {
    this.running = false;
    for (const job of this.allJobs()) halt(job, this.deps.timers);
  }

  /** A tracked interface went up or down (from LinkMonitor's onLink). */
  setLink(iface: string, up: boolean): void {
    if (this.links.get(iface) === up) return;
    this.links.set(iface, up);
    for (const g of this.groups) if (g.interfaces.includes(iface)) this.report(g);
  }

  /** The group's checks, for the summary and the status view. */
  checks(group: string): CheckView[] {
    return (this.checkJobs.get(group) ?? []).map((j) => ({ spec: j.spec, state: j.tracker.state, last: j.tracker.last }));
  }

  private allJobs(): Job[] {
    return [...[...this.checkJobs.values()].flat(), ...this.pingJobs.values()];
  }

  private schedule(job: Job, delay: Millis): void {
    if (!this.running || job.halted) return;
    job.timer = this.deps.timers.setTimeout(() => {
      job.timer = null;
      this.runOnce(job);
    }, delay);
  }

  /** Starts one run and returns at once: the result is handled in a continuation. */
  private runOnce(job: Job): void {
    if (!this.running || job.halted) return;
    const startedAt = this.deps.clock.now();
    const next = (): void => this.schedule(job, Math.max(0, startedAt + job.spec.interval - this.deps.clock.now()));
    if (job.inFlight) {
      this.record(job, { ok: false, detail: 'previous run still has not finished', ms: 0 });
      next();
      return;
    }
    const controller = new AbortController();
    job.controller = controller;
    job.inFlight = true;
    let counted = false;
    job.guard = this.deps.timers.setTimeout(() => {
      job.guard = null;
      if (counted) return;
      counted = true;
      controller.abort();
      this.record(job, { ok: false, detail: `timed out after ${job.spec.timeout} ms`, ms: this.deps.clock.now() - startedAt });
      next();
    }, job.spec.timeout + GUARD_GRACE_MS);
    settle(this.deps.checker, job.spec, controller.signal, () => this.deps.clock.now() - startedAt).then((result) => {
      job.inFlight = false;
      if (job.controller === controller) job.controller = null;
      if (counted) return;
      counted = true;
      if (job.guard !== null) this.deps.timers.clearTimeout(job.guard);
      job.guard = null;
      this.record(job, result);
      next();
    });
  }

  private record(job: Job, result: CheckResult): void {
    if (!this.running || job.halted) return;
    const from = job.tracker.state;
    const { changed, state } = job.tracker.record(result, this.deps.clock.now());
    if (!changed) return;
    this.deps.onCheckChange?.({ group: job.group, check: job.spec.name, from, to: state, detail: result.detail });
    for (const g of this.groups) {
      if (job.group === null ? job.spec.type === 'ping' && g.pingNodes.includes(job.spec.host) : g.group === job.group) {
        this.report(g);
      }
    }
  }

  /** Recomputes a group's summary and reports it when it differs from the last one reported. */
  private report(g: GroupHealthSpec): void {
    const views = this.checks(g.group);
    const reachable = g.pingNodes.filter((h) => this.pingJobs.get(h)?.tracker.state === 'passing').length;
    const s = summarize(g, views, (iface) => this.links.get(iface), reachable);
    const before = this.last.get(g.group);
    if (before !== undefined && sameSummary(before, s)) return;
    this.last.set(g.group, s);
    this.deps.onChange(g.group, s);
  }
}

function newJob(spec: CheckSpec, group: string | null): Job {
  return { spec, group, tracker: new CheckTracker(spec), timer: null, guard: null, inFlight: false, controller: null, halted: false };
}

/** Clears a job's timers and aborts its run; a result arriving later is dropped. */
function halt(job: Job, timers: Timers, drop = false): void {
  if (job.timer !== null) timers.clearTimeout(job.timer);
  if (job.guard !== null) timers.clearTimeout(job.guard);
  job.timer = null;
  job.guard = null;
  job.controller?.abort();
  if (drop) job.halted = true;
}

function sameSpec(a: CheckSpec, b: CheckSpec): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The check's promise, with a rejection (or a synchronous throw) turned into a failure. */
function settle(checker: Checker, spec: CheckSpec, signal: AbortSignal, elapsed: () => Millis): Promise<CheckResult> {
  try {
    return checker(spec, signal).catch((err: unknown) => ({ ok: false, detail: errorText(err), ms: elapsed() }));
  } catch (err) {
    return Promise.resolve({ ok: false, detail: errorText(err), ms: elapsed() });
  }
}

/**
 * Notify hooks: operator programs run on every transition (keepalived's notify scripts,
 * Heartbeat's resource scripts). They must never slow a failover or threaten the host, so:
 *
 * - notify() only queues and returns; nothing is spawned before the current turn of the event
 *   loop is over (setImmediate), so the driver's `ip addr add` and arping go first.
 * - One lane per group: the hooks of one transition run together (at most `maxRunning` at
 *   once), and the next transition of that group starts only when they have all ended, so a
 *   hook never sees "active -> standby" before "standby -> active" has finished. Groups do not
 *   wait for each other.
 * - A lane holds at most `maxQueued` waiting transitions; when full the oldest waiting one is
 *   dropped (with a warning), never the newest: after a flood the hooks still learn the final
 *   state, and a flapping group cannot fork without bound.
 * - Every hook is bounded by `timeoutMs` (the runner SIGKILLs it; the OperatorRunner with its
 *   whole process group) and its exit code and output (clipped) are logged: info on exit 0,
 *   warn otherwise.
 *
 * Hooks are argv arrays run without a shell; the transition is appended as arguments
 * (GROUP FROM TO VIP) and given in HAAGENT_* environment variables, added to OPERATOR_ENV:
 * nothing else of the agent's environment reaches a hook.
 */
import { DEFAULTS } from '../config/defaults.js';
import { OPERATOR_ENV } from '../adapters/operator-runner.js';
import type { Millis } from '../config/types.js';
import type { Logger } from '../log.js';
import type { Clock, CommandResult, CommandRunner } from '../ports/index.js';
import type { GroupState } from '../wire/types.js';

export interface NotifyEvent {
  node: string;
  group: string;
  from: GroupState;
  to: GroupState;
  reason: string;
  /** the group's VIPs, comma-separated in the order written: "198.51.100.100/32" or "198.51.100.100/32,203.0.113.1/24". */
  vip: string;
}

export type Hook = readonly string[];

export interface NotifierOptions {
  runner: CommandRunner;
  log: Logger;
  /** run on every transition of every group, first. */
  global: readonly Hook[];
  /** per group name, run after the global hooks. */
  groups: ReadonlyMap<string, readonly Hook[]>;
  timeoutMs: Millis;
  /** hooks of one group running at once. */
  maxRunning?: number;
  /** transitions waiting per group (the one whose hooks run is not counted). */
  maxQueued?: number;
  /** environment the HAAGENT_* variables are added to; default: OPERATOR_ENV. */
  env?: NodeJS.ProcessEnv;
  /** for the duration in the log line; without it no duration is logged. */
  clock?: Clock;
  /** how a lane's work is deferred past the caller's turn; default setImmediate. */
  defer?: (fn: () => void) => void;
}

/** A hook's stdout and stderr are logged up to this many characters each. */
export const MAX_LOGGED_OUTPUT = 4096;

interface Lane {
  queue: NotifyEvent[];
  busy: boolean;
}

export class Notifier {
  private readonly lanes = new Map<string, Lane>();
  private readonly idleWaiters: (() => void)[] = [];
  private readonly maxRunning: number;
  private readonly maxQueued: number;
  private closed = false;

  constructor(private readonly opts: NotifierOptions) {
    this.maxRunning = Math.max(1, opts.maxRunning ?? DEFAULTS.hooks.maxRunning);
    this.maxQueued = Math.max(1, opts.maxQueued ?? DEFAULTS.hooks.maxQueued);
  }

  /** Queues the hooks of one transition and returns at once; never throws, never awaited. */
  notify(ev: NotifyEvent): void {
    if (this.closed || this.hooksOf(ev.group).length === 0) return;
    let lane = this.lanes.get(ev.group);
    if (!lane) {
      lane = { queue: [], busy: false };
      this.lanes.set(ev.group, lane);
    }
    if (lane.queue.length >= this.maxQueued) {
      const old = lane.queue.shift() as NotifyEvent;
      this.opts.log.warn({ group: old.group, from: old.from, to: old.to, reason: old.reason }, `notify: ${this.maxQueued} transitions already waiting, hooks of the oldest skipped`);
    }
    lane.queue.push(ev);
    if (!lane.busy) {
      lane.busy = true;
      const l = lane;
      (this.opts.defer ?? setImmediate)(() => void this.drain(l));
    }
  }

  /** Resolves once no hook runs and none waits (tests; a bounded wait at shutdown). */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Drops every waiting transition and ignores new ones; running hooks end at their timeout. */
  close(): void {
    this.closed = true;
    for (const lane of this.lanes.values()) {
      if (lane.queue.length > 0) this.opts.log.warn({ group: lane.queue[0]?.group, skipped: lane.queue.length }, 'notify: stopping, waiting hooks skipped');
      lane.queue.length = 0;
    }
  }

  private isIdle(): boolean {
    for (const lane of this.lanes.values()) if (lane.busy) return false;
    return true;
  }

  private hooksOf(group: string): Hook[] {
    return [...this.opts.global, ...(this.opts.groups.get(group) ?? [])];
  }

  private async drain(lane: Lane): Promise<void> {
    for (let ev = lane.queue.shift(); ev !== undefined; ev = lane.queue.shift()) {
      await this.runAll(ev);
    }
    lane.busy = false;
    if (this.isIdle()) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  /** Every hook of one transition, at most maxRunning at once, started in list order. */
  private async runAll(ev: NotifyEvent): Promise<void> {
    const hooks = this.hooksOf(ev.group);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < hooks.length) await this.runOne(hooks[next++] as Hook, ev);
    };
    await Promise.all(Array.from({ length: Math.min(this.maxRunning, hooks.length) }, worker));
  }

  private async runOne(hook: Hook, ev: NotifyEvent): Promise<void> {
    const argv = [...hook, ev.group, ev.from, ev.to, ev.vip];
    const env = {
      ...(this.opts.env ?? OPERATOR_ENV),
      HAAGENT_NODE: ev.node,
      HAAGENT_GROUP: ev.group,
      HAAGENT_FROM: ev.from,
      HAAGENT_TO: ev.to,
      HAAGENT_REASON: ev.reason,
      HAAGENT_VIP: ev.vip,
    };
    const started = this.opts.clock?.now();
    let r: CommandResult;
    try {
      r = await this.opts.runner.run(argv, this.opts.timeoutMs, { env });
    } catch (e) {
      // The port promises never to reject; if one does, the lane must still move on.
      r = { code: -1, signal: null, stdout: '', stderr: e instanceof Error ? e.message : String(e), timedOut: false };
    }
    const ms = started === undefined ? undefined : (this.opts.clock as Clock).now() - started;
    this.report(hook, ev, r, ms);
  }

  private report(hook: Hook, ev: NotifyEvent, r: CommandResult, ms: number | undefined): void {
    const ok = r.code === 0 && !r.timedOut;
    const fields: Record<string, unknown> = { group: ev.group, from: ev.from, to: ev.to, reason: ev.reason, hook: hook[0], code: r.code };
    if (r.signal !== null) fields.signal = r.signal;
    if (r.timedOut) fields.timedOut = true;
    if (ms !== undefined) fields.ms = ms;
    const stdout = clip(r.stdout);
    const stderr = clip(r.stderr);
    if (stdout) fields.stdout = stdout;
    if (stderr) fields.stderr = stderr;
    const level = ok ? 'info' : 'warn';
    this.opts.log[level](fields, `notify hook ${hook[0]}: ${outcome(r, this.opts.timeoutMs)}`);
  }
}

function outcome(r: CommandResult, timeoutMs: Millis): string {
  if (r.timedOut) return `still running after ${timeoutMs} ms, killed`;
  if (r.code === -1 && r.signal === null) return 'could not start';
  if (r.signal !== null) return `killed by ${r.signal}`;
  return r.code === 0 ? 'ok' : `exit ${r.code}`;
}

/** Trimmed, and at most MAX_LOGGED_OUTPUT characters, with what was cut counted. */
export function clip(text: string): string {
  const t = text.trim();
  return t.length <= MAX_LOGGED_OUTPUT ? t : `${t.slice(0, MAX_LOGGED_OUTPUT)}... [${t.length - MAX_LOGGED_OUTPUT} more characters]`;
}

/**
 * The real-server role as a long-running service (`haagent run` with a `realserver` section):
 * apply on start, keep it applied, undo on stop. The decisions stay in plan.ts and the
 * effects in apply.ts; this class only sequences them in time and logs what happened.
 *
 * Keeping it applied: every `recheck` the host is checked (realServerCheck) and, when
 * something undid the role (a configuration-management run resetting a sysctl, an
 * `ip addr flush dev lo`), `up` runs again. `up` is idempotent and records into the same state
 * file, so a re-applied sysctl keeps the value the first `up` found and `stop` still restores
 * that one. A drift the role cannot fix (the VIP also on the Ethernet interface) is logged
 * once, not at every recheck, until it changes.
 *
 * Rechecks never overlap: the next one is scheduled when the previous one has finished, and
 * `stop` waits for one in flight before it undoes anything.
 */
import type { RealServerConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import { realTimers, type TimerHandle, type Timers } from '../ports/index.js';
import { realServerCheck, realServerDown, realServerUp, type RealServerDeps, type RunReport } from './apply.js';
import type { Wanted } from './plan.js';
import { vipCidr } from '../config/vip.js';

export interface RoleDeps extends Omit<RealServerDeps, 'stateFile'> {
  /** real timers when absent; tests pass a manual scheduler. */
  timers?: Timers;
}

export class RealServerRole {
  private readonly deps: RealServerDeps;
  private readonly timers: Timers;
  private readonly log: Logger;
  private timer: TimerHandle | null = null;
  /** the recheck in flight, if any. */
  private running: Promise<void> | null = null;
  private stopping: Promise<RunReport | null> | null = null;
  /** the problems of the last drift that a re-apply could not fix ('' = none). */
  private unfixed = '';

  constructor(private readonly cfg: RealServerConfig, deps: RoleDeps, log: Logger) {
    this.deps = { host: deps.host, sysctl: deps.sysctl, bootId: deps.bootId, stateFile: cfg.stateFile };
    this.timers = deps.timers ?? realTimers;
    this.log = log.child({ role: 'realserver' });
  }

  private get wanted(): Wanted {
    return { vips: this.cfg.vips, iface: this.cfg.interface };
  }

  /** Applies the role and starts the rechecks; a report with errors means the start failed. */
  async start(): Promise<RunReport> {
    const { cfg } = this;
    this.log.info({ vips: cfg.vips.map(vipCidr), interface: cfg.interface, recheck: cfg.recheck, stateFile: cfg.stateFile }, 'real-server role starting');
    const r = await realServerUp(this.deps, this.wanted);
    this.logReport(r);
    if (r.done.length === 0 && r.errors.length === 0) this.log.info('real-server role: nothing to change');
    // A start with errors is stopped (and undone) by the caller; no rechecks for it.
    if (r.errors.length === 0) this.schedule();
    return r;
  }

  /**
   * Stops the rechecks and, with undoOnStop, undoes exactly what the role changed. Returns the
   * undo's report (null when nothing was undone on purpose). Safe to call more than once.
   */
  stop(): Promise<RunReport | null> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<RunReport | null> {
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
    // An in-flight re-apply must be recorded before the undo reads the state file.
    await this.running;
    if (!this.cfg.undoOnStop) {
      this.log.info('real-server role stopped; undoOnStop is false: the host stays a real server');
      return null;
    }
    const r = await realServerDown(this.deps);
    this.logReport(r);
    this.log.info({ errors: r.errors.length }, r.errors.length === 0 ? 'real-server role stopped and undone' : 'real-server role stopped; the undo failed in part');
    return r;
  }

  private schedule(): void {
    if (this.stopping !== null || this.cfg.recheck === 0) return;
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      this.running = this.recheck()
        .catch((err: unknown) => this.log.error({ err }, 'real-server recheck failed'))
        .finally(() => {
          this.running = null;
          this.schedule();
        });
    }, this.cfg.recheck);
  }

  /** One recheck: nothing when the host is as wanted; otherwise warn naming the drift and re-apply. */
  async recheck(): Promise<void> {
    const c = await realServerCheck(this.deps, this.wanted);
    if (c.problems.length === 0) {
      if (this.unfixed !== '') this.log.info('real-server role: the host is safe again');
      this.unfixed = '';
      return;
    }
    const key = c.problems.join('\n');
    // The same unfixable drift as last time was already reported: keep the log readable.
    const repeat = key === this.unfixed;
    if (repeat) this.log.debug({ drift: c.problems }, 'real-server role: drift persists');
    else this.log.warn({ drift: c.problems }, `real-server role drifted, re-applying: ${c.problems.join('; ')}`);
    const r = await realServerUp(this.deps, this.wanted);
    if (!repeat || r.done.length > 0) this.logReport(r);
    this.unfixed = r.done.length === 0 ? key : '';
  }

  private logReport(r: RunReport): void {
    for (const line of r.done) this.log.info(line);
    for (const n of r.notes) this.log.info(`note: ${n}`);
    // up's warnings are a host the role cannot make safe (the VIP on the Ethernet interface).
    for (const w of r.warnings) this.log.error(w);
    for (const e of r.errors) this.log.error(e);
  }
}

/**
 * LevIP in the agent: the rotation with its real adapters (one ARP reply per announce
 * instant through the agent's IPv4 announcer - an in-process frame, arping when the addon is
 * missing - the interface sysctls through /proc, the wall clock), so that the agent needs only
 * a few lines: prepare before the election starts, feed after every step, status, close after
 * the shared IP left lo.
 */
import { ArpingAnnouncer } from '../adapters/arping.js';
import type { Announcer } from '../ports/index.js';
import type { ChildStarter } from '../adapters/child-tracker.js';
import { Ipv4ConfSysctl } from '../adapters/sysctl.js';
import type { GroupConfig } from '../config/types.js';
import type { CoreView } from '../core/read-view.js';
import type { Millis, NodeId } from '../core/types.js';
import type { Logger } from '../log.js';
import { levipHostFor, type HostReport, type LevipHost } from './host.js';
import { isLevipGroup } from '../config/vip-device.js';
import { LevipRotation, type LevipGroupStatus, type LevipTimers } from './rotation.js';
import { levipViews } from './view.js';

export interface LevipServiceOptions {
  node: NodeId;
  stateDir: string;
  log: Logger;
  tracker: ChildStarter;
  /** the agent's IPv4 announcer (in-process frames); default: one arping per reply. */
  announcer?: Announcer;
  /** defaults: Date.now and the global timers. */
  wallClock?: () => Millis;
  timers?: LevipTimers;
}

const globalTimers: LevipTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export class LevipService {
  private readonly host: LevipHost;
  private readonly rotation: LevipRotation;

  constructor(private readonly opts: LevipServiceOptions) {
    const log = opts.log;
    this.host = levipHostFor(opts.stateDir, new Ipv4ConfSysctl());
    const announcer =
      opts.announcer ??
      new ArpingAnnouncer(opts.tracker, {
        onFailure: (exit) => log.error({ argv: exit.argv, code: exit.code, signal: exit.signal, stderr: exit.stderr }, 'levip: arping failed'),
      });
    this.rotation = new LevipRotation({
      node: opts.node,
      wallClock: opts.wallClock ?? Date.now,
      timers: opts.timers ?? globalTimers,
      announcer,
      host: this.host,
      log,
    });
  }

  /** Suppresses ARP on every LevIP group's interface; rejects if one cannot be set up. */
  prepare(groups: readonly GroupConfig[]): Promise<void> {
    return this.rotation.prepare(groups.filter(isLevipGroup));
  }

  /** whether the last update had LevIP groups (a node without any skips the work). */
  private active = false;

  /** After every election step, with the driver's monotonic now (peer liveness). */
  onStep(core: CoreView, now: Millis): void {
    // The failover-only agent (the common case) steps a few hundred times a second: no
    // views to build unless LevIP groups exist now or did at the last step (reload removed them).
    const any = core.groups.some((g) => isLevipGroup(g.cfg));
    if (!any && !this.active) return;
    this.active = any;
    this.rotation.update(levipViews(core, now));
  }

  status(): LevipGroupStatus[] {
    return this.rotation.status();
  }

  /** Stops the rotation and gives back the interface sysctls (call once the IP left lo). */
  async close(): Promise<HostReport> {
    this.rotation.close();
    let r: HostReport;
    try {
      r = await this.host.restore();
    } catch (e) {
      // An unreadable record: say so; `haagent release` can retry once it is fixed.
      r = { done: [], warnings: [], errors: [String(e)] };
    }
    for (const d of r.done) this.opts.log.info({}, `levip: ${d}`);
    for (const w of r.warnings) this.opts.log.warn({}, `levip: ${w}`);
    for (const e of r.errors) this.opts.log.error({}, `levip: cannot restore ${e}`);
    return r;
  }
}

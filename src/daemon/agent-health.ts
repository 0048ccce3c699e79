/**
 * The agent's health side: checks, tracked links and ping nodes, run beside the election and
 * never on its path. Each group's summary change becomes one `health` input to the core; the
 * group's interface and every interface a VIP of the group is on are always tracked, driven by
 * `ip monitor link` events. A reload keeps every
 * unchanged check and link (HealthMonitor.update, LinkMonitor.watch).
 */
import type { Config } from '../config/types.js';
import { groupVips } from '../config/vip-device.js';
import type { Input } from '../core/types.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/metrics.js';
import { monotonicClock } from '../adapters/clock.js';
import { OperatorRunner } from '../adapters/operator-runner.js';
import { SpawnRunner } from '../adapters/runner.js';
import { HealthMonitor, LinkMonitor, createChecker, type GroupHealthSpec } from '../health/index.js';
import { realTimers } from '../ports/index.js';
import type { CheckStatus } from './status-view.js';

export interface AgentHealthDeps {
  log: Logger;
  /** one health input for the core. */
  feed: (input: Extract<Input, { kind: 'health' }>) => void;
  metrics: () => Metrics | null;
  /** to `haagent events`: a check's or a tracked link's change. */
  event?: (ev: { event: string } & Record<string, unknown>) => void;
}

/** What the monitors watch for each group: its checks, links and ping nodes. */
export function healthSpecs(config: Config): GroupHealthSpec[] {
  return config.groups.map((g) => ({
    group: g.name,
    basePriority: g.priority,
    interfaces: [...new Set([g.interface, ...groupVips(g).map((p) => p.iface), ...(g.trackInterfaces ?? [])])],
    checks: g.checks ?? [],
    pingNodes: g.pingNodes ?? [],
  }));
}

/** The pseudo check of a group's tracked links in the metrics (haagent_check_up). */
const LINKS_CHECK = '(links)';

/**
 * The check series a reload leaves without a check: every check name of a group that is no
 * longer in the group (all of a removed group's, its links included). A check kept under its
 * name keeps its series, even when its settings changed: the next result sets it again.
 */
export function droppedCheckSeries(before: readonly GroupHealthSpec[], after: readonly GroupHealthSpec[]): { group: string; check: string }[] {
  const now = new Map(after.map((g) => [g.group, new Set([LINKS_CHECK, ...g.checks.map((c) => c.name)])]));
  return before.flatMap((g) =>
    [LINKS_CHECK, ...g.checks.map((c) => c.name)].filter((check) => !now.get(g.group)?.has(check)).map((check) => ({ group: g.group, check })),
  );
}

function trackedInterfaces(specs: readonly GroupHealthSpec[]): string[] {
  return [...new Set(specs.flatMap((g) => g.interfaces))];
}

export class AgentHealth {
  private specs: GroupHealthSpec[];
  private readonly health: HealthMonitor;
  private readonly links: LinkMonitor;
  private readonly metrics: () => Metrics | null;
  /** exec checks: killed with their process groups at stop. */
  private readonly operator = new OperatorRunner();

  constructor(
    config: Config,
    deps: AgentHealthDeps,
  ) {
    const { log } = deps;
    this.metrics = deps.metrics;
    const runner = new SpawnRunner();
    this.specs = healthSpecs(config);
    this.health = new HealthMonitor(this.specs, {
      clock: monotonicClock,
      timers: realTimers,
      checker: createChecker(runner, this.operator),
      onChange: (group, sum) => {
        // The core applies the penalty to the group's current priority.
        const base = this.specs.find((x) => x.group === group)?.basePriority ?? sum.priority;
        deps.feed({ kind: 'health', now: monotonicClock.now(), group, penalty: base - sum.priority, fault: sum.fault, pending: sum.pending, reach: sum.pingReachable });
        deps.metrics()?.setCheck(group, LINKS_CHECK, sum.linksDown.length === 0);
      },
      onCheckChange: (c) => {
        log.info({ group: c.group, check: c.check, from: c.from, to: c.to, detail: c.detail }, `check ${c.check}: ${c.from} -> ${c.to}`);
        if (c.group) deps.metrics()?.setCheck(c.group, c.check, c.to === 'passing');
        deps.event?.({ event: 'check', group: c.group, check: c.check, from: c.from, to: c.to, detail: c.detail });
      },
    });
    this.links = new LinkMonitor(trackedInterfaces(this.specs), {
      runner,
      timers: realTimers,
      clock: monotonicClock,
      onLink: (iface, up) => {
        log[up ? 'info' : 'warn']({ iface, up }, `link ${iface} ${up ? 'up' : 'down'}`);
        this.health.setLink(iface, up);
        deps.event?.({ event: 'link', iface, up });
      },
      onMonitorExit: (e) => log.warn({ code: e.code, signal: e.signal, stderr: e.stderr, restartInMs: e.restartIn }, 'ip monitor exited; restarting'),
    });
  }

  start(): void {
    this.links.start();
    this.health.start();
  }

  /** Called after the core has the new groups. Forgets the metrics of the checks it drops. */
  reload(config: Config): void {
    const before = this.specs;
    this.specs = healthSpecs(config);
    this.links.watch(trackedInterfaces(this.specs));
    this.health.update(this.specs);
    const metrics = this.metrics();
    for (const { group, check } of droppedCheckSeries(before, this.specs)) metrics?.removeCheck(group, check);
  }

  stop(): void {
    this.health.stop();
    this.links.stop();
    this.operator.killAll();
  }

  /** The group's checks for `haagent status`. */
  checkStatus(group: string): CheckStatus[] {
    return this.health.checks(group).map((c) => ({
      name: c.spec.name,
      type: c.spec.type,
      state: c.state,
      effect: c.spec.weight === 'fault' ? 'fault' : `-${c.spec.weight}`,
      lastResult: c.last ? `${c.last.ok ? 'ok' : 'FAIL'}: ${c.last.detail}` : null,
      lastMs: c.last?.ms ?? null,
    }));
  }
}

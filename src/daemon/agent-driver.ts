/**
 * The agent's driver with its real adapters (makeDriver), and what the agent does with each
 * step of the election besides what the driver itself does (stepObserver): metrics, `haagent
 * events`, notify hooks and systemd's status line. All of that is reporting; nothing there
 * feeds back into the election, and nothing waits (hooks run detached).
 */
import type { Config } from '../config/types.js';
import type { Input, StepResult } from '../core/types.js';
import type { Logger } from '../log.js';
import type { HeartbeatKeys } from '../wire/keyring.js';
import type { ArpAnswering, HeartbeatTransport, VipHost } from '../ports/index.js';
import type { RoutingAnnouncer } from '../adapters/ndisc.js';
import { ArpingConfirmer } from '../adapters/arp-confirm.js';
import { monotonicClock } from '../adapters/clock.js';
import { SpawnRunner } from '../adapters/runner.js';
import { DEFAULTS } from '../config/defaults.js';
import { driverMacFor, driverTimers, openMarkStore } from './agent-adapters.js';
import { makeDetector } from './announcers.js';
import { Driver } from './driver.js';
import type { Metrics } from '../metrics/metrics.js';
import type { FeedEvent } from './event-feed.js';
import type { Notifier } from './notify.js';

export interface StepSinks {
  config(): Config;
  metrics(): Metrics | null;
  notifier(): Notifier | null;
  /** the group's VIPs as hooks, events and the service line show them. */
  vipOf(group: string): string;
  emit(ev: FeedEvent): void;
  /** a transition happened: systemd's STATUS= line is due. */
  statusChanged(): void;
  /** after every step: the event feed compares peers, paths, maintenance, health, conflicts. */
  observed(): void;
}

export function stepObserver(s: StepSinks): (r: StepResult, input: Input) => void {
  return (r, input) => {
    s.metrics()?.observeStep(r, input);
    for (const t of r.transitions) {
      const vip = s.vipOf(t.group);
      s.emit({ event: 'transition', ...t, vip });
      // Hooks run detached, bounded in time and number: they never hold up the election.
      s.notifier()?.notify({ node: s.config().node, group: t.group, from: t.from, to: t.to, reason: t.reason, vip });
    }
    if (r.transitions.length > 0) s.statusChanged();
    // What the log says at warn and error (a peer dead, a VIP conflict, a path silent): to `haagent events` too.
    for (const n of r.notes) if (n.level === 'warn' || n.level === 'error') s.emit({ event: 'note', level: n.level, group: n.group, peer: n.peer, msg: n.msg });
    s.observed();
  };
}

export interface AgentDriverParts {
  config: Config;
  keys: HeartbeatKeys;
  log: Logger;
  maintenance: boolean;
  bootId: bigint;
  transport: HeartbeatTransport;
  vipHost: VipHost;
  announcer: RoutingAnnouncer;
  arpAnswering: ArpAnswering;
  onExit: () => void;
  onStep: (r: StepResult, input: Input) => void;
}

/** The driver as the agent runs it: the native MAC and timers where the addon loads, real probes. */
export function makeDriver(p: AgentDriverParts): Driver {
  return new Driver({
    maintenance: p.maintenance,
    config: p.config,
    key: p.keys.send,
    acceptKey: p.keys.accept,
    macFor: driverMacFor(),
    bootId: p.bootId,
    markStore: openMarkStore(p.config, p.log),
    clock: monotonicClock,
    log: p.log,
    transport: p.transport,
    vipHost: p.vipHost,
    announcer: p.announcer,
    detector: makeDetector(),
    confirmer: new ArpingConfirmer(new SpawnRunner(), DEFAULTS.confirmProbe),
    arpAnswering: p.arpAnswering,
    timers: driverTimers(),
    onExit: p.onExit,
    onStep: p.onStep,
  });
}

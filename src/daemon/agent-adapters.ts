/**
 * What the agent checks and picks, without any agent state: the external tools a
 * configuration needs, the addon-backed timer and MAC for the election loop (each with its
 * pure-Node fallback when the addon is not built), the boot id and the file of peers' replay
 * marks, the notify hooks, the metrics listener, and a thread's realtime scheduling.
 */
import { DEFAULTS } from '../config/defaults.js';
import fs from 'node:fs';
import path from 'node:path';
import { groupVips } from '../config/vip-device.js';
import type { Config } from '../config/types.js';
import { loadNative } from '../adapters/native.js';
import { loopTimers } from '../adapters/loop-timer.js';
import { nativeMac } from '../adapters/native-mac.js';
import type { DatagramMac } from '../wire/mac.js';
import { PeerIdentity } from '../wire/identity.js';
import { ReplayFile } from '../adapters/replay-file.js';
import type { LoopTimers as Timers } from '../ports/index.js';
import { setRealtime } from '../adapters/sched.js';
import type { Logger } from '../log.js';
import type { ServiceManager } from '../adapters/service-manager.js';
import { monotonicClock } from '../adapters/clock.js';
import type { OperatorRunner } from '../adapters/operator-runner.js';
import { Notifier } from './notify.js';
import { loadAndBumpBootId } from '../wire/boot-id.js';
import type { Metrics } from '../metrics/metrics.js';
import type { MetricsServer } from '../metrics/server.js';
import type { StatusRecord } from './status-view.js';

/** A start refused for a reason the operator must fix (exit 69, EX_UNAVAILABLE). */
export class StartError extends Error {
  override name = 'StartError';
}

/** The external tools this configuration needs, missing from PATH. */
export function missingTools(config: Config, pathEnv = process.env.PATH ?? ''): string[] {
  const needed = ['ip'];
  // bgp groups send no ARP: the routing daemon announces their VIPs.
  if (config.groups.some((g) => g.mode !== 'bgp' && groupVips(g).some((p) => p.vip.family === 4))) needed.push('arping');
  const dirs = pathEnv.split(':').filter(Boolean);
  return needed.filter((tool) => !dirs.some((d) => isExecutable(path.join(d, tool))));
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The election loop's timer: the addon's libuv timer (no stale wake-ups), else setTimeout. */
export function driverTimers(): Timers | undefined {
  const load = loadNative();
  return load.ok ? loopTimers(load.native) : undefined;
}

/** The heartbeat MAC of a key: the addon's, else node:crypto (the driver's default). */
export function driverMacFor(): ((key: Buffer) => DatagramMac) | undefined {
  const load = loadNative();
  if (!load.ok) return undefined;
  const native = load.native;
  return (key) => nativeMac(native, key);
}

/**
 * Peers' replay marks in the state directory (src/adapters/replay-file.ts). Records of nodes
 * the configuration no longer names are dropped. Its descriptor lives as long as the process.
 */
export function openMarkStore(config: Config, log: Logger): ReplayFile {
  return new ReplayFile({
    path: path.join(config.stateDir, 'peer-marks'),
    capacity: DEFAULTS.replay.capacity,
    nodes: new PeerIdentity(config.heartbeat).names(),
    warn: (msg) => log.warn(msg),
  });
}

/** Gives thread `tid` (0: the event loop) SCHED_RR at `prio` (0: normal); logs what it got. */
export function scheduleThread(prio: number, tid: number, what: string, log: Logger): void {
  const load = loadNative();
  const r = setRealtime(load.ok ? load.native : null, tid, prio);
  if (r.ok) log.info({ what, realtime: prio }, `${what}: ${r.detail}`);
  else if (prio > 0) log.warn({ what, realtime: prio, reason: load.ok ? r.reason : load.reason }, `${what}: realtime scheduling refused, running at normal priority: on a saturated host heartbeats may go out late`);
}

/**
 * READY=1 once the heartbeat socket, the control socket and the election run; then the
 * watchdog keep-alive, sent only while `turning` says the core's timer keeps firing.
 */
export function reportReady(service: ServiceManager | undefined, status: string, intervalMs: number, turning: (withinMs: number) => boolean, log: Logger): void {
  if (!service?.enabled) return;
  service.ready(status);
  const pingMs = service.watchdogPingMs;
  if (pingMs === null) return;
  // The core's timer fires at least once per heartbeat interval while it runs.
  const withinMs = Math.max(pingMs, 3 * intervalMs);
  service.startWatchdog(() => turning(withinMs));
  log.info({ pingMs, stallAfterMs: withinMs }, 'systemd watchdog keep-alive on');
}

/** The notify hooks of `config` (global and per group) on `runner`, or null when there are none. */
export function hookNotifier(config: Config, runner: OperatorRunner, log: Logger): Notifier | null {
  const groups = new Map(config.groups.filter((g) => (g.notify ?? []).length > 0).map((g) => [g.name, g.notify ?? []] as const));
  if (config.notify.length === 0 && groups.size === 0) return null;
  return new Notifier({ runner, log, global: config.notify, groups, timeoutMs: config.notifyTimeout, clock: monotonicClock });
}

/** Creates the state directory if needed, then this start's boot id (logged when it is weak). */
export function nextBoot(config: Config, log: Logger): { bootId: bigint } {
  try {
    fs.mkdirSync(config.stateDir, { recursive: true, mode: 0o700 });
  } catch (e) {
    log.warn({ stateDir: config.stateDir, err: (e as Error).message }, 'cannot create the state directory');
  }
  const boot = loadAndBumpBootId(path.join(config.stateDir, 'boot-id'), Date.now());
  if (boot.warning) log.warn(boot.warning);
  return boot;
}

/** The Prometheus listener when configured (prom-client costs ~10 MB of RSS: loaded only then). */
export async function startMetrics(config: Config, status: () => StatusRecord, log: Logger): Promise<{ metrics: Metrics; server: MetricsServer } | null> {
  if (!config.metrics.listen) return null;
  const { Metrics } = await import('../metrics/metrics.js');
  const metrics = new Metrics(status);
  const { host, port } = config.metrics.listen;
  const server = await metrics.serve(host, port, (e) => log.error({ err: e.message }, 'metrics listener error'));
  log.info({ host, port: server.port }, 'metrics listening');
  return { metrics, server };
}

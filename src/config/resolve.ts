/**
 * Turns the validated YAML shape into the effective Config: every default filled in from
 * DEFAULTS, derived timings computed, peers given their port. Pure. Only called once
 * validation (schema + cross.ts) found no issue.
 */
import type { CheckCommon, CheckSpec } from '../health/types.js';
import { DEFAULTS } from './defaults.js';
import type { RawCheck, RawConfig, RawGroup } from './schema.js';
import type { ListenSpec } from './fields.js';
import { resolveRealServer } from './realserver.js';
import { resolveGroupVips } from './group-vips.js';
import { resolveBgp } from './bgp.js';
import type { Config, GroupConfig, HeartbeatConfig, ListenAddress, Millis } from './types.js';

export interface Timing {
  interval: Millis;
  deadTime: Millis;
  initDead: Millis;
}

/**
 * deadTime is written either as a time or as a count of missed heartbeats; initDead defaults
 * to a multiple of deadTime. One function, so validation and resolution agree on the numbers.
 */
export function effectiveTiming(t: { interval?: Millis; deadTime?: Millis; deadCount?: number; initDead?: Millis }): Timing {
  const interval = t.interval ?? DEFAULTS.interval;
  const deadTime = t.deadTime ?? (t.deadCount ?? DEFAULTS.deadCount) * interval;
  const initDead = t.initDead ?? DEFAULTS.initDeadFactor * deadTime;
  return { interval, deadTime, initDead };
}

function resolveHeartbeat(hb: NonNullable<RawConfig['heartbeat']>): HeartbeatConfig {
  const port = hb.port ?? DEFAULTS.port;
  return {
    bind: hb.bind?.address ?? null,
    port,
    peers: (hb.peers ?? []).map((p) => ({ address: p.ip.address, port: p.port ?? port, node: p.node ?? null, ...(p.bind ? { bind: p.bind.address } : {}) })),
    multicast: hb.multicast?.address ?? null,
    ...effectiveTiming(hb),
    keyFile: hb.keyFile ?? DEFAULTS.keyFile,
    acceptKeyFile: hb.acceptKeyFile ?? null,
  };
}

function resolveGroup(g: RawGroup): GroupConfig {
  const mode = g.mode ?? DEFAULTS.mode;
  const vips = resolveGroupVips(g);
  return {
    name: g.name,
    mode,
    // Only a levip group carries rotation settings; cross.ts refused them anywhere else.
    ...(mode === 'levip' ? { levip: { ...DEFAULTS.levip, ...definedOnly(g.levip ?? {}) } } : {}),
    ...(mode === 'bgp' ? { bgp: resolveBgp(g.bgp) } : {}),
    vip: vips[0]!.vip,
    interface: g.interface,
    vips,
    ...(g.sync !== undefined ? { sync: g.sync } : {}),
    priority: g.priority ?? DEFAULTS.priority,
    preempt: g.preempt ?? DEFAULTS.preempt,
    preemptDelay: g.preemptDelay ?? DEFAULTS.preemptDelay,
    garp: {
      count: g.garp?.count ?? DEFAULTS.garp.count,
      spacing: g.garp?.spacing ?? DEFAULTS.garp.spacing,
      form: g.garp?.form ?? DEFAULTS.garp.form,
      refresh: g.garp?.refresh ?? DEFAULTS.garp.refresh,
    },
    ...(g.confirm ? { confirm: { gateway: g.confirm.gateway.address, attempts: g.confirm.attempts ?? DEFAULTS.confirm.attempts } } : {}),
    notify: g.notify ?? [],
    checks: (g.checks ?? []).map(resolveCheck),
    trackInterfaces: g.trackInterfaces ?? [],
    pingNodes: (g.pingNodes ?? []).map((ip) => ip.address),
  };
}

function resolveCheck(c: RawCheck): CheckSpec {
  const common: CheckCommon = {
    name: c.name,
    interval: c.interval ?? DEFAULTS.health.interval,
    timeout: c.timeout ?? DEFAULTS.health.timeout,
    rise: c.rise ?? DEFAULTS.health.rise,
    fall: c.fall ?? DEFAULTS.health.fall,
    weight: c.weight ?? DEFAULTS.health.weight,
    holdDown: c.holdDown ?? DEFAULTS.health.holdDown,
  };
  switch (c.type) {
    case 'http':
      // null: any 2xx, and the body is not read at all (docs/health.md "Check types").
      return { ...common, type: 'http', url: c.url, expectStatus: c.expectStatus ?? null, expectBody: c.expectBody ?? null, insecure: c.insecure ?? false };
    case 'tcp':
      return { ...common, type: 'tcp', host: c.host.address, port: c.port };
    case 'exec':
      return { ...common, type: 'exec', command: c.command };
    case 'ping':
      return { ...common, type: 'ping', host: c.host.address };
  }
}

/** Drops keys the operator did not write, so they do not override the defaults with undefined. */
function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function resolveListen(l: ListenSpec | undefined): ListenAddress | null {
  return l === undefined ? null : { host: l.ip.address, port: l.port ?? DEFAULTS.metricsPort };
}

/** `hostname` is the node name used when the file sets none (os.hostname() in production). */
export function resolveConfig(raw: RawConfig, hostname: string): Config {
  const stateDir = raw.stateDir ?? DEFAULTS.stateDir;
  return {
    node: raw.node ?? hostname,
    // Without groups (a real server only) the director parts are unused; cross.ts required them otherwise.
    director: raw.groups !== undefined,
    cluster: raw.cluster ?? '',
    heartbeat: resolveHeartbeat(raw.heartbeat ?? {}),
    quorum: raw.quorum ?? DEFAULTS.quorum,
    control: {
      socket: raw.control?.socket ?? DEFAULTS.controlSocket,
      mode: raw.control?.mode ?? DEFAULTS.controlMode,
      statusSocket: raw.control?.statusSocket ?? null,
      statusMode: raw.control?.statusMode ?? DEFAULTS.controlStatusMode,
    },
    stateDir,
    realtime: raw.realtime ?? DEFAULTS.realtime,
    logLevel: raw.logLevel ?? DEFAULTS.logLevel,
    logFormat: raw.logFormat ?? DEFAULTS.logFormat,
    groups: (raw.groups ?? []).map(resolveGroup),
    notify: raw.notify ?? [],
    notifyTimeout: raw.notifyTimeout ?? DEFAULTS.notifyTimeout,
    metrics: { listen: resolveListen(raw.metrics?.listen) },
    realserver: resolveRealServer(raw.realserver, stateDir),
  };
}

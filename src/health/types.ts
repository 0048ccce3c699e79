/**
 * Health checks and tracked links: the effective shapes (durations already in Millis), their
 * defaults with the reason for each value, and the allowed ranges. docs/health.md proposes the
 * YAML these come from and repeats the defaults; change both together.
 */
import type { Millis } from '../config/millis.js';

export type { Millis };

/** What a failing check does to its group: lower the priority by N, or make the node ineligible. */
export type CheckWeight = number | 'fault';

/** Fields every check type has. */
export interface CheckCommon {
  /** unique within its group; appears in logs, status and fault reasons. */
  name: string;
  /** time from the start of one run to the start of the next (runs never overlap). */
  interval: Millis;
  /** one run that has not answered after this long is a failure, and is stopped. */
  timeout: Millis;
  /** consecutive successes needed to become passing. */
  rise: number;
  /** consecutive failures needed to become failing. */
  fall: number;
  weight: CheckWeight;
  /** after a reported change, failing -> passing is not reported before this long (flap damping). */
  holdDown: Millis;
}

/** ldirectord-style: request a page, expect a status and optionally a string in the body. */
export interface HttpCheckSpec extends CheckCommon {
  type: 'http';
  /** http:// or https:// URL. */
  url: string;
  /** exact status wanted; null = any 2xx. Redirects are not followed. */
  expectStatus: number | null;
  /** substring the first HTTP_BODY_MAX_BYTES of the body must contain; null = body not read. */
  expectBody: string | null;
  /** https only: accept any certificate (a self-signed one on 127.0.0.1). */
  insecure: boolean;
}

/** BalanceNG-style: the port accepts a TCP connection. */
export interface TcpCheckSpec extends CheckCommon {
  type: 'tcp';
  host: string;
  port: number;
}

/** keepalived track_script-style: argv (never a shell) exits 0. */
export interface ExecCheckSpec extends CheckCommon {
  type: 'exec';
  command: string[];
}

/** Heartbeat ping-node-style: one ICMP echo is answered. */
export interface PingCheckSpec extends CheckCommon {
  type: 'ping';
  host: string;
}

export type CheckSpec = HttpCheckSpec | TcpCheckSpec | ExecCheckSpec | PingCheckSpec;
export type CheckType = CheckSpec['type'];

/**
 * 'unknown' until the first rise or fall count is reached. How unknown counts for the election
 * is decided in one place, scheduler.ts countsAsFailing().
 */
export type CheckState = 'unknown' | 'passing' | 'failing';

/** One run of one probe. Probes never reject; a failure is ok: false with a reason. */
export interface CheckResult {
  ok: boolean;
  /** short human text: "200 in 3 ms", "connect ECONNREFUSED", "exit 1", "timed out after 500 ms". */
  detail: string;
  /** how long the run took. */
  ms: Millis;
}

/** Ping nodes are probed like ping checks but only counted (uplink comparison), never weighted. */
export interface PingNodeOptions {
  interval: Millis;
  timeout: Millis;
  rise: number;
  fall: number;
  holdDown: Millis;
}

/** Everything one VIP group tracks. */
export interface GroupHealthSpec {
  group: string;
  /** the configured priority, before weights. */
  basePriority: number;
  /** the VIP interface plus trackInterfaces; a group with its link down is in fault. */
  interfaces: string[];
  checks: CheckSpec[];
  /** addresses whose reachability is counted and advertised (Heartbeat's ipfail). */
  pingNodes: string[];
}

/** What a group's health means for the election, as HealthMonitor reports it. */
export interface HealthSummary {
  /** basePriority minus the weights of failing checks, never below 1. */
  priority: number;
  /** why this node must not hold the VIP now (a known failure), or null when it may. */
  fault: string | null;
  /**
   * what is not known yet (a tracked link not read yet, a fault check that has not run yet):
   * the node must not claim, but nothing has failed either, so it is not a fault.
   */
  pending: string | null;
  /** names of checks in state 'failing'. */
  failing: string[];
  /** tracked interfaces that are down. */
  linksDown: string[];
  /** ping nodes currently passing. */
  pingReachable: number;
  pingTotal: number;
}


/** Read at most this much of an HTTP body: a health page is small; a huge one must not fill the heap. */
export const HTTP_BODY_MAX_BYTES = 64 * 1024;

export const HEALTH_DEFAULTS = {
  /** keepalived's track_script default: once a second is cheap and notices a dead service fast. */
  interval: 1000 as Millis,
  /** Half the interval: a health page slower than that is already a sick service. */
  timeout: 500 as Millis,
  /** Two in a row: one lucky answer from a restarting service does not bring the node back. */
  rise: 2,
  /** Two in a row: one lost packet or one GC pause in the service does not cause a failover. */
  fall: 2,
  /** Safe by default: a failing check takes the node out, as keepalived's weight 0. */
  weight: 'fault' as CheckWeight,
  /**
   * Ten seconds between a reported change and a recovery: a service that dies every few seconds
   * would otherwise move the VIP back and forth; about 10 transitions a minute at worst with the
   * other defaults (docs/health.md). Failing is never delayed.
   */
  holdDown: 10_000 as Millis,
  pingNode: {
    interval: 1000 as Millis,
    /** whole seconds: older iputils ping takes -W in whole seconds only. */
    timeout: 1000 as Millis,
    rise: 2,
    /** Three: ICMP is the first thing a busy router drops. */
    fall: 3,
    /** As for checks: a flapping uplink must not swing the ping-node comparison back and forth. */
    holdDown: 10_000 as Millis,
  } satisfies PingNodeOptions,
} as const;

/** Allowed ranges; a value outside is a configuration error, never clamped. */
export const HEALTH_LIMITS = {
  /** Below 100 ms a check is load, not health; above an hour it is not tracking anything. */
  interval: { min: 100, max: 3_600_000 },
  timeout: { min: 10, max: 600_000 },
  rise: { min: 1, max: 100 },
  fall: { min: 1, max: 100 },
  /** 253 so that priority 254 minus every weight still leaves 1: weights alone never make a node ineligible. */
  weight: { min: 1, max: 253 },
  holdDown: { min: 0, max: 3_600_000 },
  /** ping nodes per group: each one is a process a second. */
  pingNodes: { max: 16 },
} as const;

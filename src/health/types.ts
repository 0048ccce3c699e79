/**
 * Health checks and tracked links: the effective shapes (durations already in Millis).
 * Their defaults are DEFAULTS.health (src/config/defaults.ts), their ranges LIMITS.health
 * (src/config/limits.ts); docs/health.md describes the YAML they come from.
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

/**
 * 'unknown' until the first rise or fall count is reached. How unknown counts for the election
 * is decided in one place, scheduler.ts countsAsFailing().
 */
export type CheckState = 'unknown' | 'passing' | 'failing';

/** One run of one check. A run never rejects; a failure is ok: false with a reason. */
export interface CheckResult {
  ok: boolean;
  /** short human text: "200 in 3 ms", "connect ECONNREFUSED", "exit 1", "timed out after 500 ms". */
  detail: string;
  /** how long the run took. */
  ms: Millis;
}

/** One check as the monitor holds it: what it is, where it stands, and its last run. */
export interface CheckView {
  spec: CheckSpec;
  state: CheckState;
  /** null until the first run ends. */
  last: CheckResult | null;
}

/** Ping nodes are run like ping checks but only counted (uplink comparison), never weighted. */
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

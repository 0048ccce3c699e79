/**
 * The effective configuration: what `load()` returns after parsing, validation and
 * defaults. Everything downstream (core, daemon, adapters) reads only this shape, never
 * the raw YAML. Durations are milliseconds (Millis) by the time they get here.
 */
import type { CheckSpec } from '../health/types.js';
import type { Millis } from './millis.js';

export type { Millis };

export type GarpForm = 'request' | 'reply' | 'both';

export interface GarpConfig {
  /** gratuitous ARPs sent in the takeover burst (per form). */
  count: number;
  /** time between two frames of the burst. */
  spacing: Millis;
  /** `request` = arping -U, `reply` = arping -A, `both` = one of each per step. */
  form: GarpForm;
  /** periodic re-announcement while active; 0 = off. */
  refresh: Millis;
}

export interface Vip {
  /** canonical address text, e.g. "198.51.100.100" or "2001:db8::100". */
  address: string;
  /** prefix length; /32 (v4) or /128 (v6) when the operator wrote none. */
  prefix: number;
  family: 4 | 6;
}

/** One VIP of a group and the interface it is on (or, in an action, the device it goes on). */
export interface VipPlacement {
  vip: Vip;
  iface: string;
}

/** LevIP (mode: levip): every member holds the IP, the slot owner answers ARP for it. */
export interface LevipConfig {
  /** rotation slot length. */
  period: Millis;
  /** the owner stops announcing this long before its slot ends (clock-offset margin). */
  guard: Millis;
  /** unsolicited ARP replies every `repeat` ms during an owned slot. */
  repeat: Millis;
  /** this node's share of slots, 1..100. */
  weight: number;
}

/**
 * The announcement check (src/core/confirm.ts): after a takeover, ask the gateway for its own
 * address from each IPv4 VIP and count its answer, addressed to this node, as confirmation.
 */
export interface ConfirmConfig {
  /** the IPv4 address of the router whose ARP entry for the VIPs must point here. */
  gateway: string;
  /** probes per VIP before the group is reported unconfirmed (each unanswered one re-announces). */
  attempts: number;
}

/**
 * failover: one active node per group; levip: every eligible member is active (docs/levip.md);
 * bgp: the VIPs go on a device the local routing daemon announces from (docs/configuration.md).
 */
export type GroupMode = 'failover' | 'levip' | 'bgp';

/** active-standby: only the elected node installs the VIPs; ecmp: every eligible member does. */
export type BgpStyle = 'active-standby' | 'ecmp';

/**
 * Where `haagent status` reads back whether the routing daemon really announces a VIP. Only
 * read, never written: the operator configures the daemon.
 */
export type BgpDaemonConfig =
  /** BIRD 2: `birdc -s socket`, the BGP protocol named `protocol`. */
  | { kind: 'bird'; birdc: string; socket: string; protocol: string }
  /** FRR: `vtysh` (with `--vty_socket socketDir` when set). */
  | { kind: 'frr'; vtysh: string; socketDir: string | null };

export interface BgpConfig {
  style: BgpStyle;
  /** the interface the daemon exports host routes from; a dummy link haagent creates if missing. */
  device: string;
  /** readback of the announcement; null: none (status shows `unknown`). */
  daemon: BgpDaemonConfig | null;
  /** how often the readback asks the daemon. */
  poll: Millis;
}

export interface GroupConfig {
  name: string;
  /** the sync unit: groups naming the same one fail over together (src/config/sync.ts). */
  sync?: string;
  /** health checks (src/health/types.ts); empty = none. */
  checks?: CheckSpec[];
  /** interfaces tracked besides the VIP interface (always tracked). */
  trackInterfaces?: string[];
  /** ping nodes counted for the uplink comparison (Heartbeat's ipfail). */
  pingNodes?: string[];
  /** failover (default): one active node; levip: every eligible member is active; bgp: see BgpConfig. */
  mode?: GroupMode;
  /** set when mode is levip. */
  levip?: LevipConfig;
  /** set when mode is bgp. */
  bgp?: BgpConfig;
  /** the group's first VIP (vips[0].vip): what status shows as `vip`, the one LevIP shares. */
  vip: Vip;
  /**
   * The group's interface: the VIPs written without one of their own are on it; it is always
   * tracked; LevIP announces on it.
   */
  interface: string;
  /**
   * Every VIP of the group in the order written, each with its interface; the first is `vip`
   * on `interface`. Always set by resolveConfig; optional only so hand-built groups (the
   * simulator's) need not name it: read it through groupVips() (vip-device.ts).
   */
  vips?: VipPlacement[];
  /** 1-254, higher wins. */
  priority: number;
  preempt: boolean;
  preemptDelay: Millis;
  garp: GarpConfig;
  /** the announcement check; absent or null: none (announce and assume, as without it). */
  confirm?: ConfirmConfig | null;
  /**
   * hooks run on every transition of this group, after the global ones (argv arrays).
   * Always set by resolveConfig; optional only so hand-built groups (the simulator's) need
   * not name it.
   */
  notify?: string[][];
}

/** Where a peer's heartbeats go, and from which local address (all the transport needs). */
export interface PeerEndpoint {
  address: string;
  port: number;
  /**
   * the local address this path's socket binds to (its heartbeats leave from it); absent:
   * heartbeat.bind. Set for a second link, e.g. a crossover between the directors.
   */
  bind?: string;
}

/** One path to a peer: where heartbeats go, and the node name that must answer from there. */
export interface PeerAddress extends PeerEndpoint {
  /** the node that speaks from this address; null when the configuration names no peers. */
  node: string | null;
}

export interface HeartbeatConfig {
  /** local address to bind the UDP sockets to (a path's own bind overrides it); null = all addresses. */
  bind: string | null;
  port: number;
  /** unicast peers (may be empty when multicast is set). */
  peers: PeerAddress[];
  /** multicast group address, or null. */
  multicast: string | null;
  interval: Millis;
  /** a peer silent this long is dead. (deadCount x interval when written as a count.) */
  deadTime: Millis;
  /** listen this long after start before claiming any VIP. */
  initDead: Millis;
  /** the key heartbeats are sealed with (and accepted under). */
  keyFile: string;
  /** a second key heartbeats are accepted under, never sealed with (key rotation); null = none. */
  acceptKeyFile: string | null;
}

export interface ControlConfig {
  /** Unix stream socket path for status and operator commands. */
  socket: string;
  /** file mode of the socket, e.g. 0o660. */
  mode: number;
  /** the read-only socket (status and events only); null = none. */
  statusSocket: string | null;
  /** its file mode, e.g. 0o666. */
  statusMode: number;
}

export interface ListenAddress {
  /** an IP address, unbracketed ("127.0.0.1", "::1", "::" for every address). */
  host: string;
  port: number;
}

export interface MetricsConfig {
  /** where the Prometheus /metrics endpoint listens; null = no HTTP listener at all. */
  listen: ListenAddress | null;
}

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
/** How log lines are written (src/log.ts): `auto` is `journal` when stderr is the journal, else `json`. */
export type LogFormat = 'auto' | 'json' | 'journal' | 'pretty';

/** The LVS direct-routing real-server role run by the agent (docs/direct-routing.md). */
export interface RealServerConfig {
  /** held on lo as /32 or /128 only. */
  vips: Vip[];
  /** the interface the VIP traffic arrives on; null = conf/all sysctls only. */
  interface: string | null;
  /** what the role changed, for the undo (default <stateDir>/realserver.json). */
  stateFile: string;
  /** re-check (and re-apply on drift) every this long; 0 = never. */
  recheck: Millis;
  /** on stop, undo exactly what the role changed. */
  undoOnStop: boolean;
}

export interface Config {
  /**
   * Claim a VIP only while hearing a majority of the configured nodes (peers + self);
   * for clusters of three or more with unicast peers.
   */
  quorum?: boolean;
  /** node name; defaults to the host name. */
  node: string;
  /**
   * false when the file has no groups (only a realserver section): no election, no heartbeat
   * socket, no key; cluster is then '' and heartbeat holds the defaults, unused.
   */
  director: boolean;
  cluster: string;
  heartbeat: HeartbeatConfig;
  control: ControlConfig;
  /** directory for persistent state (boot counter, maintenance flag). */
  stateDir: string;
  /** SCHED_RR priority of the event loop and the ip helper; 0 = normal scheduling. */
  realtime: number;
  logLevel: LogLevel;
  logFormat: LogFormat;
  groups: GroupConfig[];
  /** hooks run on every transition of every group: argv arrays, argv[0] an absolute path. */
  notify: string[][];
  /** a hook still running after this long is SIGKILLed. */
  notifyTimeout: Millis;
  metrics: MetricsConfig;
  /** the real-server role, or null when the file has no realserver section. */
  realserver: RealServerConfig | null;
}

/** One validation problem, located in the source file. */
export interface ConfigIssue {
  /** e.g. "groups[0].vip" */
  path: string;
  /** 1-based line (and column) in the file, when known. */
  line?: number;
  column?: number;
  /** what was found, rendered short. */
  value?: string;
  /** what was expected, in words. */
  expected: string;
}

export type LoadResult =
  | { ok: true; config: Config }
  | { ok: false; file: string; issues: ConfigIssue[] };

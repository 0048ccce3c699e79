/**
 * Ports: the small interfaces between the daemon and the world. Real adapters live in
 * src/adapters; unit tests pass fakes. No port makes a decision.
 */
import type { GarpConfig, Millis, Vip, VipPlacement } from '../config/types.js';

export type { VipPlacement };

/** Monotonic time in milliseconds. Never wall-clock: steps of the system clock must not matter. */
/**
 * Timers: the one port every timed component uses (the driver, health checks and links, the
 * real-server role, LevIP), so tests drive time by hand. `afterPoll` is the driver's: run fn
 * once the event loop has read its sockets (setImmediate).
 */
export type TimerHandle = unknown;
export interface Timers {
  setTimeout(fn: () => void, ms: Millis): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}
export interface LoopTimers extends Timers {
  afterPoll(fn: () => void): void;
}

/** Node's own timers. */
export const realTimers: LoopTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  afterPoll: (fn) => void setImmediate(fn),
};

export interface Clock {
  now(): Millis;
}

/** Outcome of one external command. Never throws: a spawn failure is code -1 with the error in stderr. */
export interface CommandResult {
  code: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface RunOptions {
  /** the child's whole environment (it replaces the agent's, as in spawn); default: the agent's. */
  env?: NodeJS.ProcessEnv;
}

export interface CommandRunner {
  /** Runs argv (no shell), waits for exit or kills it after timeoutMs. */
  run(argv: readonly string[], timeoutMs: Millis, opts?: RunOptions): Promise<CommandResult>;
}

/** What an ensure verb found and did. */
export type EnsureOutcome =
  | { ok: true; changed: boolean }
  | { ok: false; error: string };

export interface VipHost {
  /** Adds the VIP unless it is already there. Idempotent. */
  ensurePresent(vip: Vip, iface: string): Promise<EnsureOutcome>;
  /** Removes the VIP if it is there. Idempotent. */
  ensureAbsent(vip: Vip, iface: string): Promise<EnsureOutcome>;
  /**
   * Several VIPs the same way (a group's): one outcome per placement, in order, each tried
   * whatever came of the others. For hosts that do them in one exchange (a running `ip
   * -batch`); without it, ensureVips (vip-set.ts) calls the host once per VIP.
   */
  ensureAll?(placements: readonly VipPlacement[], present: boolean): Promise<EnsureOutcome[]>;
}

export interface AnnounceOutcome {
  /** frames handed to the sender (spawned arping processes, or raw frames). */
  sent: number;
  /** failures to start a sender, with their error text. */
  errors: string[];
}

/** What a conflict probe found: the MACs of other hosts answering for the VIP, or why it could not tell. */
export interface DetectOutcome {
  macs: string[];
  error?: string;
}

export interface ConflictDetector {
  /** Asks the segment who has vip (duplicate address detection); never rejects. */
  detect(vip: Vip, iface: string): Promise<DetectOutcome>;
}

/** What an announcement check probe found (src/core/confirm.ts). */
export interface ConfirmOutcome {
  /** the gateway answered the VIP's request with a reply to our MAC. */
  answered: boolean;
  /** how long its answer took (ms), when it answered. */
  latency?: number;
  /** why the probe could not run or tell (then answered is false). */
  error?: string;
}

export interface GatewayConfirmer {
  /** Asks gateway for its own address from vip on iface; never rejects. */
  confirm(vip: Vip, iface: string, gateway: string): Promise<ConfirmOutcome>;
}

export interface Announcer {
  /**
   * Sends the gratuitous ARP burst for vip on iface; resolves once every frame was started.
   * An aborted signal ends the burst before its next step.
   */
  announce(vip: Vip, iface: string, garp: GarpConfig, signal?: AbortSignal): Promise<AnnounceOutcome>;
  /** Stops every sender still running (shutdown). */
  close(): void;
}

/**
 * LevIP's ARP answering switch of an interface (arp_ignore 0 or 1; src/levip/host.ts): on
 * while this node owns the slot. Resolves once applied; rejects with what went wrong.
 */
export interface ArpAnswering {
  answer(iface: string, on: boolean): Promise<void>;
}

export interface Datagram {
  data: Buffer;
  address: string;
  port: number;
}

export interface HeartbeatTransport {
  /**
   * Sends the same datagram to every peer (unicast list and/or multicast group), except the
   * unicast peers whose address is in `skip`.
   */
  broadcast(data: Buffer, skip?: readonly string[]): void;
  /** Registers the receive handler. */
  onMessage(handler: (d: Datagram) => void): void;
  /**
   * Registers the handler for "peer address answered ICMP port unreachable", with the
   * datagrams the ICMP errors quoted when the kernel kept them (empty when it did not).
   */
  onUnreachable(handler: (address: string, quoted: Buffer[]) => void): void;
  close(): Promise<void>;
}

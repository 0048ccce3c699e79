/**
 * What the driver (driver.ts) is built from: its configuration, keys, clocks and the ports it
 * performs the core's actions on; and the heartbeat counters it keeps.
 */
import type { Config } from '../config/types.js';
import type { Input, StepResult } from '../core/types.js';
import type { Logger } from '../log.js';
import type { Announcer, ArpAnswering, Clock, ConflictDetector, GatewayConfirmer, HeartbeatTransport, LoopTimers, VipHost } from '../ports/index.js';
import type { DatagramMac } from '../wire/mac.js';
import type { MarkStore } from '../wire/replay.js';

/** The driver's timers: the timer port with afterPoll (src/ports/index.ts). */
export type Timers = LoopTimers;

export interface DriverDeps {
  /** replaced by reconfigure(). */
  config: Config;
  /** the key heartbeats are sealed with; replaced by rekey(). */
  key: Buffer;
  /** a second key accepted, never sealed with (a key rotation); replaced by rekey(). */
  acceptKey?: Buffer | null;
  /** the MAC object of a key (default: node:crypto; the agent uses the addon's when built). */
  macFor?: (key: Buffer) => DatagramMac;
  bootId: bigint;
  clock: Clock;
  /** wall-clock ms (default Date.now): stamped on every input (LevIP's slots); judges how plausible a peer's bootId is. */
  wall?: () => number;
  /** keeps peers' replay marks across restarts (default: memory only). */
  markStore?: MarkStore;
  log: Logger;
  transport: HeartbeatTransport;
  vipHost: VipHost;
  announcer: Announcer;
  /** VIP conflict probes (the core schedules them: src/core/detect.ts); none without one. */
  detector?: ConflictDetector;
  /** the announcement check's probes (src/core/confirm.ts); none without one. */
  confirmer?: GatewayConfirmer;
  /** LevIP's ARP answering switch (needed only with LevIP groups). */
  arpAnswering?: ArpAnswering;
  timers?: Timers;
  maintenance?: boolean;
  /** heartbeat probes (default on; off only to measure without them, as the simulator does). */
  probes?: boolean;
  /** called once the core says every VIP is released after a shutdown. */
  onExit?: () => void;
  /** called after every step (metrics, events stream, tests). */
  onStep?: (r: StepResult, input: Input) => void;
}

/** The heartbeat counters: the one count `haagent status` and the metrics read. */
export interface DriverStats {
  /** datagrams sealed and handed to the transport (one per send, whatever the number of peers). */
  sent: number;
  /** of those, probes (core/beat.ts: sent while a peer is overdue or to confirm an ICMP hint). */
  probesSent: number;
  /** sends the kernel refused (the transport's onSendError, counted by the agent). */
  sendErrors: number;
  /** datagrams that passed authentication, the peer check and the replay guard. */
  received: number;
  receivedByPeer: Map<string, number>;
  vipFailures: number;
  transitions: number;
}

/**
 * Core types: the inputs the election consumes, the actions it emits, the transitions it
 * reports. Everything here is data; nothing reads a clock or touches the host.
 */
import type { GarpConfig, GroupConfig, Millis, Vip, VipPlacement } from '../config/types.js';
import type { GroupState, Message, WireGroup } from '../wire/types.js';

export type { GroupState, Millis };
export type NodeId = string;

/** Node-wide timing, from config.heartbeat. */
export interface CoreOptions {
  node: NodeId;
  interval: Millis;
  deadTime: Millis;
  initDead: Millis;
  /** number of configured unicast peers (0 = unknown, e.g. multicast only). */
  expectedPeers: number;
  groups: GroupConfig[];
  /** start in maintenance (stay out of every election). */
  maintenance?: boolean;
  /** claim only while this many nodes (self included) are alive; 0 = off. */
  quorum?: number;
  /** probe a peer silent for two of its intervals (default on; off only to measure it). */
  probes?: boolean;
  /** VIP conflict probing while active (detect.ts); absent or null: none (no detector). */
  detect?: DetectTiming | null;
  /** the announcement check's timing (confirm.ts); absent or null: no check (no confirmer). */
  confirm?: ConfirmTiming | null;
}

/** When the core asks a group's gateway to confirm its announcements (confirm.ts). */
export interface ConfirmTiming {
  /** after the takeover burst's last frame, before the first probe. */
  settle: Millis;
  /** the wait after the first unanswered probe; it doubles after each, up to retryMax. */
  retryBase: Millis;
  retryMax: Millis;
}

/** Where a group's announcement check stands (status, metrics). */
export interface ConfirmState {
  /** pending: probes running; confirmed: the gateway answered from every VIP; unconfirmed: it gave up. */
  state: 'pending' | 'confirmed' | 'unconfirmed';
  /** probe rounds of this term. */
  attempts: number;
  /** the term's start (the takeover). */
  since: Millis;
  /** when the gateway's last answer completed the check (null: not yet). */
  confirmedAt: Millis | null;
  /** how long the gateway took to answer, last answer. */
  lastLatency: Millis | null;
  /** why the last probe gave no evidence either way (null: none failed). */
  lastError: string | null;
}

/** When the core asks for VIP conflict probes (detect.ts). */
export interface DetectTiming {
  /** spacing of the steady detections while active. */
  interval: Millis;
  /** detections back to back after a takeover. */
  fastDetections: number;
  /** the gap before and between those. */
  fastGap: Millis;
}

/**
 * What the core consumes. Every input carries `now` (monotonic ms, the time of every
 * decision) and may carry `wall` (InputClock).
 */
export type Input = InputEvent & InputClock;

export interface InputClock {
  /**
   * Wall-clock ms (Date.now) when the input was taken. The driver stamps every input with it;
   * only the LevIP mode reads it (its slots lie on the wall-clock epoch all nodes share, see
   * core/levip/clock.ts). An input without it (hand-fed) is placed on the wall clock by the
   * offset of the last one that had it.
   */
  wall?: Millis;
}

type InputEvent =
  | { kind: 'start'; now: Millis }
  /** a deadline came; `late`: how long after it the timer fired (our own loop was stalled). */
  | { kind: 'tick'; now: Millis; late?: Millis }
  /**
   * An authenticated, replay-checked message from a peer (never our own). `same`: the driver
   * saw the same bytes as the peer's last accepted message but for its seq (the steady state).
   */
  | { kind: 'message'; now: Millis; msg: Message; address: string; port: number; same?: boolean }
  /**
   * The network told us nothing listens at this peer address (ICMP port unreachable).
   * `verified`: the error quoted a datagram we sent lately (MAC, node, boot, recent seq), so
   * it is the peer host's own answer; otherwise it may be forged and is only a hint.
   */
  | { kind: 'unreachable'; now: Millis; address: string; verified?: boolean }
  /** `gid` names the group instance that asked (a reload may replace a group of the same name). */
  | { kind: 'vipResult'; now: Millis; group: string; gid?: number; present: boolean; ok: boolean; error?: string }
  | { kind: 'announceResult'; now: Millis; group: string; gid?: number; sent: number; errors: string[] }
  /** a validated new configuration (reload): groups diffed by name, timing replaced. */
  | { kind: 'reconfigure'; now: Millis; options: Omit<CoreOptions, 'node' | 'maintenance' | 'detect' | 'confirm'> }
  /**
   * A group's health changed (checks, tracked links, ping nodes). `penalty` is the sum of
   * the failing checks' weights (the priority never drops below 1 from weights alone);
   * `fault` makes the node ineligible; `pending` (what is not known yet: a link not read, a
   * fault check not run) keeps it from claiming without being a fault; `reach` is the number
   * of ping nodes reached, advertised for the uplink comparison.
   */
  | { kind: 'health'; now: Millis; group: string; penalty: number; fault: string | null; pending?: string | null; reach: number }
  /**
   * A `detect` action finished: the MACs of the other hosts that answered for the VIP (none:
   * no conflict), or the error that kept the probe from giving evidence either way.
   * `address`: the VIP probed (absent in hand-fed inputs: the group's first IPv4 VIP).
   */
  | { kind: 'detectResult'; now: Millis; group: string; gid?: number; macs: string[]; error?: string; address?: string }
  /**
   * A `confirm` action finished: whether the gateway answered the VIP's request with a reply
   * to our MAC, how long it took, or the error that kept the probe from running.
   */
  | { kind: 'confirmResult'; now: Millis; group: string; gid?: number; address: string; answered: boolean; latency?: Millis; error?: string }
  | { kind: 'shutdown'; now: Millis }
  | { kind: 'command'; now: Millis; command: OperatorCommand }
  /** how a levipAnswer action went: `ok`, or the error of the interface's sysctl write. */
  | { kind: 'levipAnswerResult'; now: Millis; iface: string; on: boolean; ok: boolean; error?: string };

export type OperatorCommand =
  | { op: 'takeover'; group?: string }
  | { op: 'standby'; group?: string }
  | { op: 'maintenance'; on: boolean };

export type Action =
  /**
   * Make the host match: every VIP of the group present (true) or absent (false), each on its
   * device. One result for all comes back as vipResult (ok only if every one is as asked).
   */
  | { kind: 'ensureVip'; group: string; gid: number; present: boolean; vips: VipPlacement[] }
  /**
   * Gratuitous ARP (IPv4) or unsolicited neighbour advertisement (IPv6) bursts, one per VIP on
   * the interface it is on, side by side. One result for all comes back as announceResult.
   */
  | { kind: 'announce'; group: string; gid: number; reason: string; vips: VipPlacement[]; garp: GarpConfig }
  /** probe the segment for other hosts answering for one VIP (detect.ts). Result: detectResult. */
  | { kind: 'detect'; group: string; gid: number; vip: Vip; iface: string }
  /**
   * ask the gateway for its own address from one IPv4 VIP (confirm.ts): the request updates
   * the gateway's entry for the VIP, its reply to our MAC proves it arrived. Result: confirmResult.
   */
  | { kind: 'confirm'; group: string; gid: number; vip: Vip; iface: string; gateway: string }
  /**
   * LevIP: turn the interface's ARP answering for the shared IPs on lo on (this node owns the
   * slot of every LevIP group on it) or off (arp_ignore, src/levip/host.ts). Result comes back
   * as levipAnswerResult.
   */
  | { kind: 'levipAnswer'; iface: string; on: boolean }
  /** send a datagram to every peer now, but those at `skip` (paths that refused us: core/quiet.ts). */
  | { kind: 'send'; type: 'heartbeat' | 'resign' | 'probe'; groups: WireGroup[]; skip?: string[] }
  /** shutdown finished: every VIP released. */
  | { kind: 'exit' };

export interface Transition {
  group: string;
  from: GroupState;
  to: GroupState;
  reason: string;
}

export interface StepResult {
  actions: Action[];
  transitions: Transition[];
  /** earliest deadline the core wants a tick at (null: none). */
  wakeAt: Millis | null;
  /** notable events for the log (not transitions), e.g. a conflict re-announce. */
  notes: Note[];
  /** the answer to an operator command; set only when the input was one. */
  reply?: CommandReply;
}

export interface Note {
  level: 'debug' | 'info' | 'warn' | 'error';
  group?: string;
  peer?: string;
  msg: string;
  /** more fields for the log record (a LevIP join's weight and slot). */
  data?: Record<string, string | number>;
}

export interface CommandReply {
  ok: boolean;
  message: string;
}

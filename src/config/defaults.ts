/**
 * Every default of the configuration in one place, each with the reason for its value
 * (STYLE habit 11, after memberlist's DefaultLANConfig), and next to it every allowed range.
 * docs/configuration.md repeats these; change both together.
 */
import type { GarpForm, GroupMode, LogLevel, Millis } from './types.js';

export const DEFAULTS = {
  /** Heartbeat's registered port ("ha-cluster", 694/udp), so firewall rules written for it fit. */
  port: 694,
  /**
   * 100 ms: ten small datagrams a second per node is nothing on a LAN, and with the default
   * deadCount a dead director is noticed in a third of a second. Faster only buys little and
   * makes a busy event loop (GC pause, slow disk log) look like a dead peer.
   */
  interval: 100 as Millis,
  /**
   * deadTime defaults to deadCount x interval. Three, as keepalived (3 x advert_int): two
   * consecutive lost datagrams are survived, a third means the peer is gone.
   */
  deadCount: 3,
  /**
   * initDead defaults to initDeadFactor x deadTime: Heartbeat recommends initdead at least
   * twice deadtime, because right after boot links and switch ports (spanning tree) are still
   * settling and a node that claims too early steals the VIP from a live peer.
   */
  initDeadFactor: 2,
  /** Outside any web root or home; root-owned directory created by the package. */
  keyFile: '/etc/haagent/key',
  /** systemd RuntimeDirectory=haagent creates /run/haagent for us and removes it on stop. */
  controlSocket: '/run/haagent/haagent.sock',
  /** Owner and group may talk to the agent (operators join the group); others never. */
  controlMode: 0o660,
  /** The read-only socket (when configured) only tells the state: every local user may ask. */
  controlStatusMode: 0o666,
  /** systemd StateDirectory=haagent; holds the boot counter that makes replays detectable. */
  stateDir: '/var/lib/haagent',
  /**
   * SCHED_RR priority of the agent's event loop and of its `ip` helper (0 = normal scheduling).
   * On a host whose CPUs are saturated a normal-priority agent waits its turn behind the load,
   * its heartbeats go out late and its peer takes the VIP: Heartbeat (`realtime on`) and
   * corosync run realtime by default for that reason. 10 is above every normal task and below
   * the kernel's own realtime threads; children (hooks, checks, arping) do not inherit it
   * (SCHED_RESET_ON_FORK), and the kernel keeps 5 % of every second for normal tasks
   * (sched_rt_runtime_us) whatever a realtime task does.
   */
  realtime: 10,
  /** Transitions and faults are logged at info; per-heartbeat noise stays at debug. */
  logLevel: 'info' as LogLevel,
  /** keepalived's default, in the middle of 1..254 so a node can be set above or below it. */
  priority: 100,
  /** RFC 5798 section 5.2.4 (Preempt_Mode, default True): the preferred node takes its VIP back. */
  preempt: true,
  /** No extra wait: initDead already makes a restarted node listen before it claims. */
  preemptDelay: 0 as Millis,
  /**
   * 5 s: enough for a hook that posts to a chat or paging webhook with its own short timeout;
   * short enough that a hung hook delays the next hook of its group (hooks of one group run in
   * transition order) by seconds, not minutes.
   */
  notifyTimeout: 5_000 as Millis,
  /**
   * Port of metrics.listen when the operator writes only an address: 9694 echoes Heartbeat's
   * 694 and lies in the 9xxx range Prometheus exporters use. The endpoint itself is off unless
   * metrics.listen is set: an HTTP listener is an exposure the operator opts into.
   */
  metricsPort: 9694,
  /**
   * Off: a pair (the common case) has no majority to lose, so quorum would only stop the
   * survivor of a real failure from taking over. Worth turning on with 3+ nodes and unicast peers.
   */
  quorum: false,
  /** One active node per group: what Heartbeat and keepalived do; LevIP is an opt-in (docs/levip.md). */
  mode: 'failover' as GroupMode,
  /** LevIP rotation (docs/levip.md "choosing period, repeat and guard"). */
  levip: {
    /**
     * 2 s: a 60 s window holds 30 slots, so shares are within a few points of the weights, and
     * with equal weights one MAC stays in a router's entry for 2 s, well below the 5 s a Linux
     * router waits before it probes the entry (delay_first_probe_time).
     */
    period: 2_000 as Millis,
    /** The owner silent in the last 250 ms of its slot: clocks may differ by up to that (NTP/chrony on a LAN do far better). */
    guard: 250 as Millis,
    /** Four replies per slot: a lost reply leaves the router on the previous (alive) owner for at most 500 ms. */
    repeat: 500 as Millis,
    /** Equal shares unless the operator says otherwise. */
    weight: 1,
  },
  /** The real-server role (docs/direct-routing.md). */
  realserver: {
    /** File name under stateDir: /var/lib/haagent/realserver.json, where `haagent realserver` keeps it too. */
    stateFileName: 'realserver.json',
    /**
     * 10 s: a sysctl reset by configuration management or an `ip addr flush dev lo` is rare,
     * and 10 s is far below the minutes a router keeps an ARP entry, so the role puts things
     * back before a stray ARP answer is likely to matter; one check costs two `ip` spawns and
     * four small file reads.
     */
    recheck: 10_000 as Millis,
    /** A stopped role leaves the host as it found it (like `haagent realserver down`). */
    undoOnStop: true,
  },
  garp: {
    /** One frame can be lost; three per form is what Heartbeat's IPaddr2 and MetalLB send. */
    count: 3,
    /** Far enough apart to survive a switch's brief buffer overflow, short enough to finish in 60 ms. */
    spacing: 20 as Millis,
    /** Some routers honour only the request form (arping -U), others only replies (-A). */
    form: 'both' as GarpForm,
    /** Off: periodic ARP is noise unless a router is known to forget entries (keepalived default). */
    refresh: 0 as Millis,
  },
} as const;

/** Allowed ranges. A value outside is a configuration error, never clamped. */
export const LIMITS = {
  port: { min: 1, max: 65_535 },
  /** 0 = off; 1-99 are SCHED_RR's priorities. */
  realtime: { min: 0, max: 99 },
  /** below 10 ms timers are jitter; above 10 s failover is too slow to call high availability. */
  interval: { min: 10, max: 10_000 },
  /** Heartbeat refuses a deadtime not above twice the keepalive: one lost datagram is not death. */
  deadTimeMinFactor: 2,
  deadTime: { max: 600_000 },
  deadCount: { min: 2, max: 100 },
  initDead: { max: 3_600_000 },
  priority: { min: 1, max: 254 },
  preemptDelay: { max: 3_600_000 },
  garpCount: { min: 1, max: 20 },
  garpSpacing: { max: 10_000 },
  /** refresh is 0 (off) or at least a second: a faster refresh floods the segment. */
  garpRefresh: { min: 1_000, max: 86_400_000 },
  /** below 100 ms a hook has barely been forked; above 10 min it is a service, not a hook. */
  notifyTimeout: { min: 100, max: 600_000 },
  /** per list (global, or one group's): a handful is normal, more is a misuse of hooks. */
  notifyHooks: { max: 16 },
  /** arguments of one hook, program included. */
  notifyArgs: { max: 64 },
  /** below 100 ms the arping spawns per slot add up; above a minute the load barely rotates. */
  levipPeriod: { min: 100, max: 60_000 },
  /** at most half the period (checked in cross.ts): the owner must announce for half its slot. */
  levipGuard: { max: 30_000 },
  /** each reply spawns an arping that lingers ~1 s (measured on Debian 12 bookworm): 100 ms keeps that to ~10 at once. */
  levipRepeat: { min: 100, max: 60_000 },
  /** the rotation's weights (src/levip/sequence.ts MIN_WEIGHT..MAX_WEIGHT); advertised as the priority. */
  levipWeight: { min: 1, max: 100 },
  /** recheck is 0 (off) or at least 100 ms: each check spawns `ip` twice (~4 ms each, measured on Debian 12). */
  realserverRecheck: { min: 100, max: 3_600_000 },
  /** VIPs of the real-server role: each is one address on lo, a few is normal. */
  realserverVips: { max: 64 },
  /** sun_path holds 108 bytes including the terminating NUL. */
  socketPathMaxBytes: 107,
} as const;

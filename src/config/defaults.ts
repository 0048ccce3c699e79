/**
 * Every default of the agent in one frozen object, each with the reason for its value (after
 * memberlist's DefaultLANConfig). The allowed ranges of the configuration are in limits.ts.
 *
 * Two kinds of entries:
 * - configuration defaults: what the effective configuration holds for a key the file leaves
 *   out (the top-level keys, `levip`, `realserver`, `garp`, `health`). docs/configuration.md
 *   and docs/health.md repeat these; change both together.
 * - the agent's own settings, which no configuration key reaches (`election`, `link`,
 *   `conflict`, `hooks`, `control`, `metricsServer`, `commands`, `transport`, `replay`): the
 *   timings and bounds the code was measured and tested with. Tests may pass other values
 *   where a module takes options; production uses these.
 *
 * Facts of the protocol (the datagram layout, src/wire/layout.ts) are not defaults and live
 * where they are defined.
 */
import type { CheckWeight, PingNodeOptions } from '../health/types.js';
import type { GarpForm, GroupMode, LogLevel, Millis } from './types.js';

/** Object.freeze at every level: no caller can change a default for everyone else. */
function deepFreeze<T extends object>(o: T): T {
  for (const v of Object.values(o)) if (typeof v === 'object' && v !== null) deepFreeze(v);
  return Object.freeze(o);
}

export const DEFAULTS = deepFreeze({
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
  /** Health checks and ping nodes (docs/health.md): the keys of one check. */
  health: {
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
  },
  /** The election's own timings and bounds (src/core); no configuration key reaches them. */
  election: {
    /** Priority advertised after an operator `takeover`: above any configured priority (1-254). */
    takeoverPriority: 255,
    /** Priority advertised after an operator `standby`: the lowest eligible one (last resort only). */
    demotedPriority: 1,
    /** First retry delay after a VIP operation failed; each further failure doubles it... */
    faultRetryMin: 1000 as Millis,
    /** ...up to this. */
    faultRetryMax: 16_000 as Millis,
    /**
     * Least time between two re-announcements for a returning peer or a dual active. Short
     * enough that the first re-announce of a new episode (a partition healing shortly after
     * the last one) is never suppressed; long enough, with re-announcements of one frame pair
     * (src/core/transitions.ts reannounce), that a peer flapping on a loaded host (missing a
     * dead time now and then) cannot turn into a stream of arping spawns that loads the host
     * further.
     */
    reannounceMin: 250 as Millis,
    /**
     * A path whose host refused our datagram gets one datagram this often instead of every
     * heartbeat (src/core/quiet.ts): half the refill of Linux's ICMP rate limit.
     */
    refusedResend: 2000 as Millis,
    /** A peer's lateness is remembered over one to two windows of this length (src/core/lateness.ts). */
    latenessWindow: 5_000 as Millis,
    /**
     * A tick this late means our own loop was stalled (the timer is whole milliseconds and
     * rounds up, so up to 1 ms is the timer's own slack).
     */
    stallMin: 2 as Millis,
    /**
     * Least time a probe answer is given after an ICMP hint, on an idle host. An answer takes a
     * wake-up, one HMAC and one datagram each way: well under a millisecond, a few with a
     * young-generation GC in between. Added to it: twice the worst lateness the peer's own
     * heartbeats showed recently, so a loaded or slow peer gets the time it has been needing.
     */
    confirmFloor: 4 as Millis,
    /** How long hints on a path are ignored after one was refuted (a forger's retry rate). */
    hintHold: 10_000 as Millis,
    /** A heartbeat this much past the peer's interval (at least) makes the peer overdue. */
    overdueMin: 1 as Millis,
    /** While a peer is overdue it is probed this many times per interval. */
    overdueProbesPerInterval: 5,
    /** Least spacing of confirmation probes (a forger flooding ICMP cannot make us flood). */
    confirmProbeGap: 1 as Millis,
    /** Least spacing of probe answers: a key holder probing in a loop gets at most 1000/s. */
    answerGap: 1 as Millis,
    /** A follower sends on a peer's heartbeat when its own is due within this share of an interval... */
    followWindow: 0.5,
    /** ...and then sets its own timer this share of an interval later than one interval. */
    followSlack: 0.25,
  },
  /** Link tracking (src/health/link-monitor.ts). */
  link: {
    /** A crashing monitor is restarted fast at first: link tracking is blind while it is down. */
    backoffMin: 100 as Millis,
    /** ...but never more often than this once it keeps dying (ip missing, no CAP_NET_ADMIN). */
    backoffMax: 5000 as Millis,
    /** A monitor that ran this long was healthy: its next crash starts again at backoffMin. */
    stableAfter: 10_000 as Millis,
    /** Second read after a (re)start: covers a change between spawn and the netlink subscription. */
    confirmDelay: 500 as Millis,
    /** bound of one `ip -json link show` (it takes a few ms). */
    readTimeout: 2000 as Millis,
  },
  /** VIP conflict probes: their timing (src/core/detect.ts) and the arping that runs them (src/adapters/arp-detect.ts). */
  conflict: {
    /** Every 5 s: cheap (one arping a group), and a rogue claim is found within seconds. */
    interval: 5000 as Millis,
    /** Five detections (~1 s each, the arping deadline) right after a takeover. */
    fastDetections: 5,
    /**
     * The gap before the first (a planned handover's old owner keeps the VIP for at most 20 ms
     * after it hears us active) and between those (next to nothing: the arping deadline already
     * spaces them).
     */
    fastGap: 50 as Millis,
    /** Bound of one `arping -D -w 1`: its one-second deadline plus room for a loaded host. */
    runTimeout: 2500 as Millis,
    /** Found on PATH, as every other tool the agent runs. */
    arpingPath: 'arping',
  },
  /** The lanes of the notify hooks (src/daemon/notify.ts). */
  hooks: {
    /** Eight at once: more parallel forks than that on a 2-core director only slow each other. */
    maxRunning: 8,
    /** Sixteen waiting transitions: more than any real failover sequence, far less than a flood. */
    maxQueued: 16,
  },
  /** One control connection (src/daemon/control-conn.ts): a request is one short JSON line. */
  control: {
    /** longest request line in characters, the newline excluded. */
    maxLine: 64 * 1024,
    /** lines answered per event-loop turn, all connections of a server together. */
    perTurn: 32,
    /** unread answer bytes a connection may hold before it is dropped. */
    maxPendingBytes: 256 * 1024,
    /** no complete request (and no reading of the answers) for this long closes a connection. */
    idleMs: 10_000,
    /** concurrent connections per socket; the next one is refused with one line. */
    maxConnections: 32,
  },
  /**
   * The metrics listener's bounds on a client (src/metrics/server.ts). A scrape is one small
   * request and a few kilobytes of answer, on a LAN or loopback: a client that needs seconds
   * for it is stuck or hostile. A Prometheus server or two plus an operator's curl need a
   * handful of connections.
   */
  metricsServer: {
    idleMs: 5_000,
    headersMs: 5_000,
    requestMs: 5_000,
    checkMs: 1_000,
    responseMs: 10_000,
    keepAliveMs: 5_000,
    maxConnections: 16,
    maxHeaderBytes: 8 * 1024,
    maxHeadersCount: 64,
  },
  /** The external commands the agent runs itself (ip, arping, ping). */
  commands: {
    /** Output kept per stream of one command (src/adapters/runner.ts); the rest is counted, not kept. */
    maxOutputBytes: 64 * 1024,
    /** One `ip` call takes ~4 ms (measured on Debian 12 bookworm); 2 s means the host is in real trouble. */
    ipTimeout: 2000 as Millis,
    /** Longer than the ~1 s linger of a healthy arping; short enough that a hung one goes soon. */
    arpingLife: 1500 as Millis,
  },
  /** The heartbeat transport (src/adapters/udp-transport.ts). */
  transport: {
    /** Retry spacing for a peer whose connect() failed (no route): cheap, and far below deadTime. */
    reconnect: 1000 as Millis,
  },
  /** The replay guard (src/wire/replay.ts). */
  replay: {
    /**
     * Sender nodes whose replay marks are kept (in memory and in the marks file): the receiver
     * admits only configured nodes (src/wire/identity.ts), so a real cluster stays far below it.
     */
    capacity: 256,
  },
} as const);

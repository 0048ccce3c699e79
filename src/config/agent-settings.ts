/**
 * The agent's own settings: the timings and bounds the code was measured and tested with,
 * which no configuration key reaches (the election's, link tracking's, the conflict probes',
 * the hooks', the control and metrics listeners', the external commands', the transport's and
 * the replay guard's). Tests may pass other values where a module takes options; production
 * uses these. Read them as DEFAULTS.election, DEFAULTS.link, ... (src/config/defaults.ts,
 * which freezes them with the configuration defaults).
 */
import type { Millis } from './types.js';

export const AGENT_SETTINGS = {
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
  /** VIP conflict probes: their timing (src/core/detect.ts), the arping that runs the IPv4 ones (src/adapters/arp-detect.ts) and the IPv6 probe's wait (src/adapters/ndisc-detect.ts). */
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
    /**
     * How long an IPv6 probe (src/adapters/ndisc-detect.ts) collects Neighbor Advertisements
     * after its solicitation: one second, as arping's deadline (RFC 4861's RetransTimer).
     */
    dadWait: 1000 as Millis,
  },
  /** The announcement check (src/core/confirm.ts) and the arping that asks (src/adapters/arp-confirm.ts). */
  confirmProbe: {
    /** After the takeover burst's last frame: the burst went first, the check asks whether it landed. */
    settle: 100 as Millis,
    /** Then 250 ms, 0.5, 1, 2, 4 s between unanswered rounds (each waits up to 1 s itself). */
    retryBase: 250 as Millis,
    retryMax: 4000 as Millis,
    /** Bound of one `arping -c 1 -w 1 -s VIP GW`: its one-second deadline plus room for a loaded host. */
    runTimeout: 2500 as Millis,
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
} as const;

/**
 * Allowed ranges of the configuration, each with its reason. A value outside is a
 * configuration error, never clamped. docs/configuration.md and docs/health.md repeat these.
 */

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
  /** announcement check probes per VIP: each unanswered one takes up to a second plus a backoff. */
  confirmAttempts: { min: 1, max: 10 },
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
  /** the rotation's weights (src/core/levip/sequence.ts MIN_WEIGHT..MAX_WEIGHT); advertised as the priority. */
  levipWeight: { min: 1, max: 100 },
  /** how often a bgp group's readback asks the routing daemon (each ask is one short command). */
  bgpPoll: { min: 500, max: 60_000 },
  /** recheck is 0 (off) or at least 100 ms: each check spawns `ip` twice (~4 ms each, measured on Debian 12). */
  realserverRecheck: { min: 100, max: 3_600_000 },
  /** VIPs of one group (`vips:`): a NAT director holds two or three; each is one more address to add before the claim is done. */
  groupVips: { max: 16 },
  /** VIPs of the real-server role: each is one address on lo, a few is normal. */
  realserverVips: { max: 64 },
  /** sun_path holds 108 bytes including the terminating NUL. */
  socketPathMaxBytes: 107,
  /** Health checks and ping nodes (docs/health.md). */
  health: {
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
  },
} as const;

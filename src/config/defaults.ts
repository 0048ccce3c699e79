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
 *   timings and bounds the code was measured and tested with, kept in agent-settings.ts.
 *
 * Facts of the protocol (the datagram layout, src/wire/layout.ts) are not defaults and live
 * where they are defined.
 */
import type { CheckWeight, PingNodeOptions } from '../health/types.js';
import type { BgpStyle, GarpForm, GroupMode, LogFormat, LogLevel, Millis } from './types.js';
import { AGENT_SETTINGS } from './agent-settings.js';

/** Object.freeze at every level: no caller can change a default for everyone else. */
function deepFreeze<T extends object>(o: T): T {
  for (const v of Object.values(o)) if (typeof v === 'object' && v !== null) deepFreeze(v);
  return Object.freeze(o);
}

/** The configuration defaults (the first kind above). */
const CONFIG_DEFAULTS = {
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
  /** Priority-prefixed JSON under systemd (journalctl -p works), plain JSON lines elsewhere. */
  logFormat: 'auto' as LogFormat,
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
  /** mode: bgp (docs/configuration.md "BGP groups"). */
  bgp: {
    /** Only the winner announces: the route and haagent's election cannot disagree. */
    style: 'active-standby' as BgpStyle,
    device: 'haagent0',
    /** 2 s: the readback is for status, never on the takeover path; one birdc or vtysh run each. */
    poll: 2_000 as Millis,
    birdc: '/usr/sbin/birdc',
    birdSocket: '/run/bird/bird.ctl',
    vtysh: '/usr/bin/vtysh',
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
  /** The announcement check (`confirm`, src/core/confirm.ts); off unless a gateway is named. */
  confirm: {
    /** Six probes: with the backoff, about 14 s before a silent gateway is reported unconfirmed. */
    attempts: 6,
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
} as const;

export const DEFAULTS = deepFreeze({ ...CONFIG_DEFAULTS, ...AGENT_SETTINGS });

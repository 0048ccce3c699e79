/**
 * How the agent announces a VIP: IPv4 gratuitous ARP frames written in-process through an
 * AF_PACKET socket (the native addon: the first frame is on the wire microseconds after the
 * VIP is confirmed, where an arping spawn took ~3 ms idle and 10-30 ms on a loaded host),
 * arping when the addon or the socket is not available; IPv6 unsolicited neighbour
 * advertisements through a raw ICMPv6 socket. And how it probes a VIP for conflicts:
 * `arping -D` for IPv4, a duplicate address solicitation for IPv6.
 */
import { ArpingDetector } from '../adapters/arp-detect.js';
import { ArpingAnnouncer } from '../adapters/arping.js';
import type { ChildStarter } from '../adapters/child-tracker.js';
import { loadNative } from '../adapters/native.js';
import { NdiscAnnouncer, RoutingAnnouncer } from '../adapters/ndisc.js';
import { NdiscDetector, RoutingDetector } from '../adapters/ndisc-detect.js';
import { PacketAnnouncer } from '../adapters/packet-announcer.js';
import { SpawnRunner } from '../adapters/runner.js';
import { DEFAULTS } from '../config/defaults.js';
import type { GroupConfig } from '../config/types.js';
import { groupVips } from '../config/vip-device.js';
import type { Logger } from '../log.js';

/** The driver's announcer for every family (LevIP's replies included: they are IPv4 ARP). */
export function makeAnnouncers(groups: readonly GroupConfig[], tracker: ChildStarter, log: Logger): RoutingAnnouncer {
  const arping = new ArpingAnnouncer(tracker, {
    onFailure: (exit) => log.error({ argv: exit.argv, code: exit.code, signal: exit.signal, stderr: exit.stderr }, 'arping failed'),
  });
  const load = loadNative();
  if (!load.ok) log.warn({ reason: load.reason }, 'native addon not loaded: gratuitous ARP through arping (~3 ms after the VIP, more on a loaded host)');
  const warned = new Set<string>();
  const v4 = new PacketAnnouncer({
    native: load.ok ? load.native : null,
    fallback: arping,
    // Once per reason at warn (a lasting condition would repeat at every announcement).
    onFallback: (reason) => {
      log[warned.has(reason) ? 'debug' : 'warn']({ reason }, 'gratuitous ARP falls back to arping');
      warned.add(reason);
    },
  });
  // Open the sockets and build the frames now: the first takeover must not pay for it.
  const byIface = new Map<string, string[]>();
  for (const { vip, iface } of groups.flatMap(groupVips)) if (vip.family === 4) byIface.set(iface, [...(byIface.get(iface) ?? []), vip.address]);
  for (const [iface, addresses] of byIface) {
    const why = v4.prepare(iface, addresses);
    if (why !== null && load.ok) log.warn({ iface, reason: why }, 'packet socket not ready: gratuitous ARP through arping until it is');
  }
  return new RoutingAnnouncer(v4, new NdiscAnnouncer());
}

/** The driver's conflict detector: IPv4 through arping, IPv6 through the addon's packet socket. */
export function makeDetector(): RoutingDetector {
  const load = loadNative();
  const v6 = new NdiscDetector({ native: load.ok ? load.native : null, wait: DEFAULTS.conflict.dadWait });
  return new RoutingDetector(new ArpingDetector(new SpawnRunner(), DEFAULTS.conflict), v6);
}

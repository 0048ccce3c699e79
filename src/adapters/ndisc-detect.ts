/**
 * Duplicate address detection for IPv6 VIPs (the ConflictDetector port), the counterpart of
 * `arping -D` (src/adapters/arp-detect.ts): one Neighbor Solicitation from :: to the VIP's
 * solicited-node group (src/adapters/ndisc-frame.ts), then the Neighbor Advertisements for
 * the VIP are read for up to `wait` (one second). Every advertisement for the VIP whose
 * Target Link-Layer Address is not this interface's MAC is another host claiming it, and the
 * first one ends the wait (as the first reply ends `arping -D`): a holder answers a probe
 * from :: to all-nodes with Override set (RFC 4861 §7.2.4), which moves every neighbour's
 * entry to it, so the conflict must reach the core, which re-announces, without delay.
 *
 * Why our own host never counts: the solicitation leaves through an AF_PACKET socket (the
 * native addon), so our IPv6 stack never receives it and does not answer; and the
 * advertisements our own announcer sends (looped back to local sockets) carry our MAC,
 * which is left out. An advertisement without the option (RFC 4861 lets a unicast one omit
 * it) is reported by its source address instead of a MAC.
 *
 * Answers are read from a raw ICMPv6 socket (raw-socket, as src/adapters/ndisc.ts) bound to
 * the VIP's interface, with an ICMP6_FILTER that lets only Neighbor Advertisements through;
 * it is opened before the solicitation leaves and closed when the wait ends, whatever happens.
 * Both sockets need CAP_NET_RAW, as arping does.
 */
import { createRequire } from 'node:module';
import { setTimeout as delay } from 'node:timers/promises';
import type { Millis, Vip } from '../config/types.js';
import type { ConflictDetector, DetectOutcome } from '../ports/index.js';
import type { Native, PacketSocket } from './native.js';
import { ICMP6_FILTER, IPPROTO_ICMPV6, ipv6Bytes, type RawSocketModule } from './ndisc.js';
import { dadProbeFrame, formatMac, ICMPV6_NEIGHBOR_ADVERT, icmp6FilterPassOnly, parseNeighborAdvert } from './ndisc-frame.js';

/** The part of the addon the probe uses (a Native fits). */
export type ProbeNative = Pick<Native, 'packetOpen' | 'packetSend' | 'packetClose'>;

/** A receiving raw ICMPv6 socket on one interface; close() ends the listening. */
export interface NaListener {
  close(): void;
}

/** Opens a listener on iface calling onMessage(ICMPv6 message, source address) for each packet. */
export type OpenNaListener = (iface: string, onMessage: (msg: Buffer, source: string) => void) => NaListener;

const SOL_SOCKET = 1;
const SO_BINDTODEVICE = 25;

/** What openNaListener uses of raw-socket beyond what the announcer does. */
export interface RawListenModule extends Omit<RawSocketModule, 'createSocket'> {
  createSocket(o: { addressFamily: number; protocol: number }): {
    setOption(level: number, option: number, value: Buffer, length: number): void;
    on(event: 'message', fn: (msg: Buffer, source: string) => void): void;
    on(event: 'error', fn: (e: Error) => void): void;
    close(): void;
  };
}

/** The real listener: raw ICMPv6, bound to iface, Neighbor Advertisements only. */
export function openNaListener(
  iface: string,
  onMessage: (msg: Buffer, source: string) => void,
  raw: RawListenModule = createRequire(import.meta.url)('raw-socket') as RawListenModule,
): NaListener {
  const sock = raw.createSocket({ addressFamily: raw.AddressFamily.IPv6, protocol: raw.Protocol.ICMPv6 });
  let open = true;
  const close = () => {
    if (open) sock.close();
    open = false;
  };
  // raw-socket closes the socket itself on an error; the wait then ends with what came before.
  sock.on('error', () => (open = false));
  try {
    const filter = icmp6FilterPassOnly(ICMPV6_NEIGHBOR_ADVERT);
    sock.setOption(IPPROTO_ICMPV6, ICMP6_FILTER, filter, filter.length);
    const name = Buffer.from(`${iface}\0`);
    sock.setOption(SOL_SOCKET, SO_BINDTODEVICE, name, name.length);
  } catch (e) {
    close();
    throw e;
  }
  sock.on('message', (msg, source) => {
    if (open) onMessage(msg, source);
  });
  return { close };
}

export const NO_PROBE_ADDON = 'native addon not loaded: IPv6 conflict probes need its AF_PACKET socket';

export interface NdiscDetectorOptions {
  /** the loaded addon, or null (every probe then reports NO_PROBE_ADDON as its error). */
  native: ProbeNative | null;
  /** how long answers are collected after the solicitation. */
  wait: Millis;
  openListener?: OpenNaListener;
  /** waits ms, or less once signal aborts; never rejects. */
  sleep?: (ms: Millis, signal: AbortSignal) => Promise<void>;
}

export class NdiscDetector implements ConflictDetector {
  private readonly openListener: OpenNaListener;
  private readonly sleep: (ms: Millis, signal: AbortSignal) => Promise<void>;

  constructor(private readonly opts: NdiscDetectorOptions) {
    this.openListener = opts.openListener ?? ((iface, fn) => openNaListener(iface, fn));
    this.sleep = opts.sleep ?? ((ms, signal) => delay(ms, undefined, { signal }).catch(() => undefined));
  }

  async detect(vip: Vip, iface: string): Promise<DetectOutcome> {
    if (vip.family !== 6) return { macs: [], error: `neighbour solicitation probes IPv6 only (${vip.address})` };
    const native = this.opts.native;
    if (native === null) return { macs: [], error: NO_PROBE_ADDON };
    const what = `IPv6 duplicate address probe of ${vip.address} on ${iface}`;
    let sock: PacketSocket;
    try {
      sock = native.packetOpen(iface);
    } catch (e) {
      return { macs: [], error: `${what}: ${(e as Error).message}` };
    }
    const target = ipv6Bytes(vip.address);
    const own = formatMac(sock.mac);
    const found = new Set<string>();
    const answered = new AbortController();
    let listener: NaListener | null = null;
    try {
      listener = this.openListener(iface, (msg, source) => {
        const na = parseNeighborAdvert(msg);
        if (na === null || !na.target.equals(target) || na.mac === own) return;
        found.add(na.mac ?? `unknown MAC (advertised from ${source})`);
        answered.abort();
      });
      native.packetSend(sock.fd, sock.ifindex, dadProbeFrame(vip.address, sock.mac));
      await this.sleep(this.opts.wait, answered.signal);
    } catch (e) {
      return { macs: [], error: `${what}: ${(e as Error).message}` };
    } finally {
      listener?.close();
      try {
        native.packetClose(sock.fd);
      } catch {
        // the fd is released by the kernel whatever close() says; nothing to retry
      }
    }
    return { macs: [...found] };
  }
}

/** One detector per address family: IPv4 to arping, IPv6 to the solicitation above. */
export class RoutingDetector implements ConflictDetector {
  constructor(
    private readonly v4: ConflictDetector,
    private readonly v6: ConflictDetector,
  ) {}

  detect(vip: Vip, iface: string): Promise<DetectOutcome> {
    return (vip.family === 6 ? this.v6 : this.v4).detect(vip, iface);
  }
}

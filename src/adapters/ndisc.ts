/**
 * IPv6 takeover announcement: unsolicited Neighbour Advertisements (RFC 4861 §7.2.6), the
 * IPv6 counterpart of a gratuitous ARP. Sent to all-nodes (ff02::1) on the VIP's interface
 * with the Override flag and our link-layer address, hop limit 255 (receivers drop anything
 * else), so every neighbour that has an entry for the VIP moves it to this host at once.
 *
 * No Debian tool sends one (iputils' arping is IPv4 only), so this opens a raw ICMPv6 socket
 * through raw-socket (a maintained native addon): the kernel fills in the checksum and the
 * link-local source address. Needs CAP_NET_RAW, like arping.
 *
 * The socket only sends. A raw ICMPv6 socket is otherwise handed a copy of every ICMPv6
 * packet of the host (pings, neighbour discovery, our own looped-back NAs), and the addon
 * polls it for reading from the start: so an ICMP6_FILTER that blocks every type keeps the
 * kernel from queueing anything on it, and pauseRecv() stops the addon's read watcher.
 *
 * RoutingAnnouncer sends each family to its announcer: IPv4 to arping, IPv6 here.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { isIPv4, isIPv6 } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import type { GarpConfig, Millis, Vip } from '../config/types.js';
import type { AnnounceOutcome, Announcer } from '../ports/index.js';

const ICMPV6_NEIGHBOR_ADVERT = 136;
const FLAG_OVERRIDE = 0x20;
const OPT_TARGET_LLADDR = 2;
/** IPPROTO_IPV6 / IPV6_MULTICAST_HOPS on Linux. */
const IPPROTO_IPV6 = 41;
const IPV6_MULTICAST_HOPS = 18;
/** IPPROTO_ICMPV6 / ICMP6_FILTER on Linux (linux/in6.h, linux/icmpv6.h). */
export const IPPROTO_ICMPV6 = 58;
export const ICMP6_FILTER = 1;
/**
 * The filter that passes nothing. The kernel's struct icmp6_filter is 8 u32 words, one bit
 * per ICMPv6 type, and a SET bit BLOCKS the type (net/ipv6/raw.c icmpv6_filter(); RFC 3542's
 * ICMP6_FILTER_SETBLOCK sets it): all ones, so the words' byte order does not matter.
 */
export const ICMP6_BLOCK_ALL: Readonly<Buffer> = Buffer.alloc(32, 0xff);

/** The 16 bytes of an IPv6 address in any textual form (RFC 4291 §2.2, IPv4 tail included). */
export function ipv6Bytes(text: string): Buffer {
  if (!isIPv6(text)) throw new Error(`not an IPv6 address: ${text}`);
  let s = text.toLowerCase();
  const lastColon = s.lastIndexOf(':');
  const v4 = s.slice(lastColon + 1);
  if (isIPv4(v4)) {
    // An IPv4 tail (::ffff:198.51.100.7) is two 16-bit words.
    const [a, b, c, d] = v4.split('.').map(Number) as [number, number, number, number];
    s = `${s.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = s.includes('::') ? s.split('::') : [s, undefined];
  const words = (p: string | undefined) => (p ? p.split(':').map((w) => parseInt(w, 16)) : []);
  const h = words(head);
  const r = words(rest);
  const all = rest === undefined ? h : [...h, ...new Array<number>(8 - h.length - r.length).fill(0), ...r];
  if (all.length !== 8) throw new Error(`cannot expand IPv6 address: ${text}`);
  const out = Buffer.alloc(16);
  all.forEach((w, i) => out.writeUInt16BE(w, i * 2));
  return out;
}

/** "aa:bb:cc:dd:ee:ff" as 6 bytes. */
export function macBytes(text: string): Buffer {
  const parts = text.trim().split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) throw new Error(`not a MAC address: ${JSON.stringify(text)}`);
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}

/**
 * The ICMPv6 message of an unsolicited NA for `target` from `mac`: type 136, Override set,
 * Router and Solicited clear, one Target Link-Layer Address option. The checksum is left 0:
 * the kernel computes it on ICMPv6 raw sockets (RFC 3542 §3.1).
 */
export function unsolicitedNa(target: string, mac: Buffer): Buffer {
  if (mac.length !== 6) throw new Error('a MAC address is 6 bytes');
  const msg = Buffer.alloc(32);
  msg[0] = ICMPV6_NEIGHBOR_ADVERT;
  msg[4] = FLAG_OVERRIDE;
  ipv6Bytes(target).copy(msg, 8);
  msg[24] = OPT_TARGET_LLADDR;
  msg[25] = 1; // option length in units of 8 bytes
  mac.copy(msg, 26);
  return msg;
}

/** A raw ICMPv6 socket: send one message to a (scoped) destination. */
export interface Icmp6Socket {
  send(msg: Buffer, destination: string): Promise<void>;
  close(): void;
}

/** What openIcmp6Socket uses of raw-socket (injectable for tests). */
export interface RawSocketModule {
  createSocket(o: { addressFamily: number; protocol: number }): {
    setOption(level: number, option: number, value: number): void;
    setOption(level: number, option: number, value: Buffer, length: number): void;
    pauseRecv(): unknown;
    send(buf: Buffer, offset: number, length: number, address: string, before: null, after: (err: Error | null) => void): void;
    on(event: 'error', fn: (e: Error) => void): void;
    close(): void;
  };
  AddressFamily: { IPv6: number };
  Protocol: { ICMPv6: number };
}

/**
 * The real socket (raw-socket), hop limit 255 for the multicast it sends, receiving nothing:
 * every ICMPv6 type filtered out in the kernel and the addon's read watcher paused, both
 * before the first send (raw-socket starts reading when it creates the socket, and never
 * resumes by itself: a send resumes only its write watcher, paused again once sent).
 */
export function openIcmp6Socket(raw: RawSocketModule = createRequire(import.meta.url)('raw-socket') as RawSocketModule): Icmp6Socket {
  const sock = raw.createSocket({ addressFamily: raw.AddressFamily.IPv6, protocol: raw.Protocol.ICMPv6 });
  sock.on('error', () => undefined); // each send reports its own error
  try {
    sock.setOption(IPPROTO_ICMPV6, ICMP6_FILTER, Buffer.from(ICMP6_BLOCK_ALL), ICMP6_BLOCK_ALL.length);
    sock.pauseRecv();
    sock.setOption(IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 255);
  } catch (e) {
    sock.close();
    throw e;
  }
  return {
    send: (msg, destination) =>
      new Promise<void>((resolve, reject) => {
        sock.send(msg, 0, msg.length, destination, null, (err) => (err ? reject(err) : resolve()));
      }),
    close: () => sock.close(),
  };
}

export interface NdiscAnnouncerOptions {
  openSocket?: () => Icmp6Socket;
  /** the interface's MAC (default: /sys/class/net/IFACE/address, read without blocking). */
  macOf?: (iface: string) => Buffer | Promise<Buffer>;
  sleep?: (ms: Millis) => Promise<void>;
}

/**
 * Announces IPv6 VIPs: `garp.count` unsolicited NAs spaced `garp.spacing` apart (the form is
 * an ARP notion: every NA carries Override). The socket is opened on first use and kept.
 */
export class NdiscAnnouncer implements Announcer {
  private sock: Icmp6Socket | null = null;
  private closed = false;
  private readonly sleep: (ms: Millis) => Promise<void>;

  constructor(private readonly opts: NdiscAnnouncerOptions = {}) {
    this.sleep = opts.sleep ?? ((ms) => delay(ms));
  }

  async announce(vip: Vip, iface: string, garp: GarpConfig, signal?: AbortSignal): Promise<AnnounceOutcome> {
    const outcome: AnnounceOutcome = { sent: 0, errors: [] };
    if (vip.family !== 6) {
      outcome.errors.push(`NdiscAnnouncer: ${vip.address} is not IPv6`);
      return outcome;
    }
    let msg: Buffer;
    let sock: Icmp6Socket;
    try {
      msg = unsolicitedNa(vip.address, await (this.opts.macOf ?? sysfsMac)(iface));
      sock = this.socket();
    } catch (e) {
      outcome.errors.push(`neighbour advertisement for ${vip.address} on ${iface}: ${(e as Error).message}`);
      return outcome;
    }
    for (let step = 0; step < garp.count && !this.closed && !signal?.aborted; step++) {
      if (step > 0) await this.sleep(garp.spacing);
      // As for ARP: a released VIP (abort) or a shutdown ends the burst.
      if (this.closed || signal?.aborted) break;
      try {
        await sock.send(msg, `ff02::1%${iface}`);
        outcome.sent++;
      } catch (e) {
        outcome.errors.push(`neighbour advertisement for ${vip.address} on ${iface}: ${(e as Error).message}`);
      }
    }
    return outcome;
  }

  close(): void {
    this.closed = true;
    this.sock?.close();
    this.sock = null;
  }

  private socket(): Icmp6Socket {
    this.sock ??= (this.opts.openSocket ?? openIcmp6Socket)();
    return this.sock;
  }
}

async function sysfsMac(iface: string): Promise<Buffer> {
  if (!/^[A-Za-z0-9_.:@-]{1,15}$/.test(iface)) throw new Error(`bad interface name ${JSON.stringify(iface)}`);
  return macBytes(await readFile(`/sys/class/net/${iface}/address`, 'utf8'));
}

/** One announcer per address family. */
export class RoutingAnnouncer implements Announcer {
  constructor(
    private readonly v4: Announcer,
    private readonly v6: Announcer,
  ) {}

  announce(vip: Vip, iface: string, garp: GarpConfig, signal?: AbortSignal): Promise<AnnounceOutcome> {
    return (vip.family === 6 ? this.v6 : this.v4).announce(vip, iface, garp, signal);
  }

  close(): void {
    this.v4.close();
    this.v6.close();
  }
}

/**
 * IPv6 duplicate address detection on the wire, built and read in memory (pure: no I/O).
 *
 * The probe (RFC 4862 §5.4.2): a Neighbor Solicitation (RFC 4861 §4.3) whose IPv6 source is
 * the unspecified address ::, sent to the solicited-node multicast address of the tentative
 * address (RFC 4291 §2.7.1: ff02::1:ff00:0/104 plus the address's low 24 bits), hop limit
 * 255, target = the address, no Source Link-Layer Address option (§7.1.1 of RFC 4861 forbids
 * it with source ::). A host holding the address answers with a Neighbor Advertisement to
 * all-nodes (ff02::1, RFC 4861 §7.2.4) that carries its Target Link-Layer Address option.
 * With source :: nobody creates or updates a neighbour entry (RFC 4861 §7.2.3), so probing
 * changes nothing on the segment.
 *
 * The probe is a whole Ethernet frame for an AF_PACKET socket: the kernel's IPv6 stack never
 * sees it, so our own host does not answer its own probe, and the source :: is ours to
 * choose (a raw ICMPv6 socket would get a link-local source from the kernel). The ICMPv6
 * checksum is therefore ours to compute (RFC 4443 §2.3, over the pseudo-header of RFC 8200 §8.1).
 */
import { ipv6Bytes } from './ndisc.js';

const ETHERTYPE_IPV6 = 0x86dd;
const NEXT_HEADER_ICMPV6 = 58;
export const ICMPV6_NEIGHBOR_SOLICIT = 135;
export const ICMPV6_NEIGHBOR_ADVERT = 136;
const OPT_TARGET_LLADDR = 2;
const NS_LENGTH = 24; // type, code, checksum, reserved (4), target (16)
const IPV6_HEADER = 40;
const ETH_HEADER = 14;
/** Ethernet (14) + IPv6 header (40) + the solicitation (24). */
export const DAD_FRAME_LENGTH = ETH_HEADER + IPV6_HEADER + NS_LENGTH;

/** The solicited-node multicast address of `address`: ff02::1:ffXX:XXXX (RFC 4291 §2.7.1). */
export function solicitedNode(address: string): Buffer {
  const out = ipv6Bytes('ff02::1:ff00:0');
  ipv6Bytes(address).copy(out, 13, 13, 16);
  return out;
}

/** The one's complement sum of RFC 1071 over the pseudo-header and an ICMPv6 message. */
export function icmp6Checksum(src: Buffer, dst: Buffer, msg: Buffer): number {
  const pseudo = Buffer.alloc(40);
  src.copy(pseudo, 0);
  dst.copy(pseudo, 16);
  pseudo.writeUInt32BE(msg.length, 32);
  pseudo[39] = NEXT_HEADER_ICMPV6;
  let sum = 0;
  for (const b of [pseudo, msg]) {
    for (let i = 0; i < b.length; i += 2) sum += (b[i]! << 8) | (i + 1 < b.length ? b[i + 1]! : 0);
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** The DAD probe for `target` as one Ethernet frame from `mac` (6 bytes). */
export function dadProbeFrame(target: string, mac: Buffer): Buffer {
  if (mac.length !== 6) throw new Error(`a MAC address is 6 bytes, got ${mac.length}`);
  const dst = solicitedNode(target);
  const src = Buffer.alloc(16); // ::
  const ns = Buffer.alloc(NS_LENGTH);
  ns[0] = ICMPV6_NEIGHBOR_SOLICIT; // code 0, reserved 0
  ipv6Bytes(target).copy(ns, 8);
  ns.writeUInt16BE(icmp6Checksum(src, dst, ns), 2);

  const f = Buffer.alloc(DAD_FRAME_LENGTH);
  // Ethernet: the multicast MAC of the group (RFC 2464 §7: 33:33 + the low 32 bits).
  f[0] = 0x33;
  f[1] = 0x33;
  dst.copy(f, 2, 12, 16);
  mac.copy(f, 6);
  f.writeUInt16BE(ETHERTYPE_IPV6, 12);
  // IPv6 header: version 6, traffic class and flow label 0.
  f.writeUInt32BE(0x60000000, 14);
  f.writeUInt16BE(NS_LENGTH, 18); // payload length
  f[20] = NEXT_HEADER_ICMPV6;
  f[21] = 255; // hop limit: receivers drop neighbour discovery with any other
  src.copy(f, 22);
  dst.copy(f, 38);
  ns.copy(f, 54);
  return f;
}

export interface NeighborAdvert {
  /** the target address, 16 bytes. */
  target: Buffer;
  /** the Target Link-Layer Address option, "aa:bb:..." lower case; null when absent. */
  mac: string | null;
}

/**
 * Reads an ICMPv6 message as received on a raw ICMPv6 socket (no IPv6 header) as a Neighbor
 * Advertisement; null when it is not a well-formed one (wrong type or code, short, an option
 * of length 0 or running past the end: RFC 4861 §7.1.2 says to drop those).
 */
export function parseNeighborAdvert(msg: Buffer): NeighborAdvert | null {
  if (msg.length < 24 || msg[0] !== ICMPV6_NEIGHBOR_ADVERT || msg[1] !== 0) return null;
  let mac: string | null = null;
  for (let at = 24; at < msg.length; ) {
    if (at + 2 > msg.length) return null;
    const len = msg[at + 1]! * 8;
    if (len === 0 || at + len > msg.length) return null;
    if (msg[at] === OPT_TARGET_LLADDR && len >= 8 && mac === null) mac = formatMac(msg.subarray(at + 2, at + 8));
    at += len;
  }
  return { target: Buffer.from(msg.subarray(8, 24)), mac };
}

export function formatMac(b: Buffer): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/**
 * An ICMP6_FILTER (struct icmp6_filter: 8 words of 32 bits, a SET bit BLOCKS the type) that
 * passes Neighbor Advertisements only. The words are in host byte order, as the kernel reads them.
 */
export function icmp6FilterPassOnly(type: number): Buffer {
  const words = new Uint32Array(8).fill(0xffffffff);
  words[type >>> 5] = (words[type >>> 5]! & ~(1 << (type & 31))) >>> 0;
  return Buffer.from(words.buffer);
}

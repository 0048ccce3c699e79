/**
 * The gratuitous ARP frames iputils arping sends, built in memory (pure: no I/O).
 *
 * A gratuitous ARP, or "ARP announcement" (RFC 5227 §3 and §2.3), is an ARP packet whose
 * sender and target protocol addresses are both the announced address: it asks nobody
 * anything, it makes every host that already has an entry for that address update it to
 * the sender's hardware address. Routers differ in which form they honour, hence two:
 *
 *   request (`arping -U`): opcode 1, target hardware address ff:ff:ff:ff:ff:ff
 *   reply   (`arping -A`): opcode 2, target hardware address = our own MAC
 *
 * Both go to the Ethernet broadcast address. These are byte for byte what iputils arping
 * 20221126 puts on the wire for `-U`/`-A -c 1 -I IF ADDR` (captured with `tcpdump -xx -e`
 * on the receiving end of a veth pair; the golden bytes in test/unit/adapters-arp-frame.test.ts).
 * 42 bytes, unpadded: the NIC pads to the 60-byte Ethernet minimum, as it does for arping.
 */
import { isIPv4 } from 'node:net';

export type GarpFrameForm = 'request' | 'reply';

/** Ethernet header (14) + ARP payload for Ethernet/IPv4 (28). */
export const GARP_FRAME_LENGTH = 42;

const ETHERTYPE_ARP = 0x0806;
const ARPHRD_ETHER = 1; // RFC 826 ar$hrd: Ethernet (10 Mb), the value for every Ethernet
const ETHERTYPE_IPV4 = 0x0800; // RFC 826 ar$pro: the protocol is IPv4, named by its ethertype
const ARPOP_REQUEST = 1;
const ARPOP_REPLY = 2;
const BROADCAST = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

/** The 4 bytes of a dotted-quad IPv4 address. */
export function ipv4Bytes(text: string): Buffer {
  if (!isIPv4(text)) throw new Error(`not an IPv4 address: ${text}`);
  return Buffer.from(text.split('.').map(Number));
}

/** The 42-byte gratuitous ARP `form` for `ipv4` from `mac` (6 bytes), as arping -U / -A sends it. */
export function garpFrame(form: GarpFrameForm, mac: Buffer, ipv4: string): Buffer {
  if (mac.length !== 6) throw new Error(`a MAC address is 6 bytes, got ${mac.length}`);
  const ip = ipv4Bytes(ipv4);
  const f = Buffer.alloc(GARP_FRAME_LENGTH);
  // Ethernet II header.
  BROADCAST.copy(f, 0); // 0-5 destination: broadcast, so every host on the segment sees it
  mac.copy(f, 6); // 6-11 source: our interface; switches learn the VIP's new port from it
  f.writeUInt16BE(ETHERTYPE_ARP, 12); // 12-13 ethertype 0x0806 (ARP)
  // ARP packet (RFC 826), from offset 14.
  f.writeUInt16BE(ARPHRD_ETHER, 14); // ar$hrd hardware address space: Ethernet
  f.writeUInt16BE(ETHERTYPE_IPV4, 16); // ar$pro protocol address space: IPv4
  f[18] = 6; // ar$hln hardware address length (MAC)
  f[19] = 4; // ar$pln protocol address length (IPv4)
  f.writeUInt16BE(form === 'request' ? ARPOP_REQUEST : ARPOP_REPLY, 20); // ar$op
  mac.copy(f, 22); // ar$sha sender hardware address: the MAC the VIP now lives at
  ip.copy(f, 28); // ar$spa sender protocol address: the VIP (RFC 5227 §3: sender = target)
  // ar$tha target hardware address: arping -U leaves it broadcast (nobody is asked),
  // arping -A repeats our own MAC (a reply "to" ourselves).
  (form === 'request' ? BROADCAST : mac).copy(f, 32);
  ip.copy(f, 38); // ar$tpa target protocol address: the VIP again, which makes it gratuitous
  return f;
}

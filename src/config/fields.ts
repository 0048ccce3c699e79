/**
 * Leaf parsers for the configuration values zod has no word for: addresses, VIPs, peers,
 * interface names, durations with ranges, socket modes. Pure; each returns the parsed value
 * or the "expected ..." text an operator reads in the error.
 *
 * Addresses are checked with node:net isIPv4/isIPv6, not a regex: an address pattern is easy
 * to get subtly wrong (one that lets 198.51.100.300/32 through is a common mistake), and
 * test/unit/config-cli.test.ts keeps that value refused.
 */
import { SocketAddress, isIPv4, isIPv6 } from 'node:net';
import { MAX_NAME_BYTES } from '../wire/codec.js';
import { formatDuration, parseDuration } from './duration.js';
import type { Millis, Vip } from './types.js';

/**
 * Node, cluster and group names: they travel in heartbeats as 1..MAX_NAME_BYTES bytes (the
 * codec's limit; ASCII only, so a character is a byte).
 */
export const NAME_RE = new RegExp(`^[A-Za-z0-9_.-]{1,${MAX_NAME_BYTES}}$`);

export type Parsed<T> = { ok: true; value: T } | { ok: false; expected: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const no = <T>(expected: string): Parsed<T> => ({ ok: false, expected });

export interface IpAddress {
  /** canonical text: dotted quad, or RFC 5952 lower-case compressed IPv6 as `ip -json` prints it. */
  address: string;
  family: 4 | 6;
}

export const EXPECT = {
  name: `a name of 1..${MAX_NAME_BYTES} letters, digits, "_", "." or "-"`,
  ip: 'an IPv4 or IPv6 address (e.g. 198.51.100.10 or 2001:db8::10)',
  multicast: 'a multicast address (224.0.0.0/4 or ff00::/8, e.g. 239.255.6.94)',
  vip: 'an IPv4 or IPv6 address with optional /prefix (e.g. 198.51.100.100/32)',
  peer: 'a peer address with optional port (e.g. 198.51.100.11, "198.51.100.12:695" or "[2001:db8::11]:695")',
  peerEntry: 'a peer: a mapping with its node name and address, and optionally bind (e.g. { node: d1, address: 198.51.100.11 } or { node: d1, address: 203.0.113.11, bind: 203.0.113.10 }), or an address alone (e.g. 198.51.100.11, "[2001:db8::11]:695")',
  localAddress: 'a local address of this node (e.g. 203.0.113.10 or 2001:db8::10; not multicast, not 0.0.0.0 or ::)',
  ifname: 'a Linux interface name: 1..15 characters, no "/", ":" or whitespace, not "." or ".."',
  listen: 'an address with optional port to listen on (e.g. 127.0.0.1:9694, "[::1]:9694", 0.0.0.0)',
  hook: 'a hook: a list of strings, the program first (e.g. ["/usr/local/bin/ha-notify", "--site", "a"]); notify is a list of such lists',
  hookArg: 'a string argument without NUL bytes (quote numbers and booleans)',
  hookProgram: 'the program as an absolute path (starting with "/"): hooks run without a shell and without a PATH search',
  mode: 'a quoted octal mode such as "0660" (owner read+write, nothing for others)',
  statusMode: 'a quoted octal mode such as "0666" or "0660" (owner read+write)',
} as const;

/** One address, no zone id ("%eth0"): a VIP or peer is never link-scoped to an index. */
export function parseIp(v: unknown): Parsed<IpAddress> {
  if (typeof v !== 'string' || v.includes('%')) return no(EXPECT.ip);
  if (isIPv4(v)) return ok({ address: v, family: 4 });
  if (isIPv6(v)) return ok({ address: new SocketAddress({ address: v, family: 'ipv6' }).address, family: 6 });
  return no(EXPECT.ip);
}

export function isMulticast(ip: IpAddress): boolean {
  if (ip.family === 6) return ip.address.startsWith('ff');
  const first = Number(ip.address.split('.')[0]);
  return first >= 224 && first <= 239;
}

export function parseMulticast(v: unknown): Parsed<IpAddress> {
  const ip = parseIp(v);
  return ip.ok && isMulticast(ip.value) ? ip : no(EXPECT.multicast);
}

/** Addresses that can never be a service address another host reaches through ARP/ND. */
export function unusableVip(ip: IpAddress): string | null {
  if (isMulticast(ip)) return 'not a multicast address';
  if (ip.address === '0.0.0.0' || ip.address === '::') return 'not the unspecified address';
  if (ip.address === '255.255.255.255') return 'not the broadcast address';
  if (ip.address === '::1' || ip.address.startsWith('127.')) return 'not a loopback address';
  return null;
}

/**
 * "addr" or "addr/prefix"; no prefix means a host route (/32, /128): a VIP written without a
 * prefix then never makes a whole subnet local to the director that holds it.
 */
export function parseVip(v: unknown): Parsed<Vip> {
  if (typeof v !== 'string') return no(EXPECT.vip);
  const m = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(v);
  const ip = m ? parseIp(m[1]) : no<IpAddress>(EXPECT.vip);
  if (!m || !ip.ok) return no(EXPECT.vip);
  const max = ip.value.family === 4 ? 32 : 128;
  const prefix = m[2] === undefined ? max : Number(m[2]);
  if (prefix < 1 || prefix > max) return no(`${EXPECT.vip}; the prefix must be 1..${max} for IPv${ip.value.family}`);
  const bad = unusableVip(ip.value);
  if (bad) return no(`${EXPECT.vip}; ${bad}`);
  return ok({ address: ip.value.address, prefix, family: ip.value.family });
}

export interface PeerSpec {
  ip: IpAddress;
  /** undefined: use heartbeat.port. */
  port: number | undefined;
}

/** A heartbeat.peers entry: a path to a peer, and the node name it must speak as (or none). */
export interface PeerEntrySpec extends PeerSpec {
  node: string | undefined;
  /** this path's own local address (its socket's bind); undefined: heartbeat.bind. */
  bind: IpAddress | undefined;
}

function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 && n <= 65_535 ? n : undefined;
}

/** Splits "host:port" / "[host]:port" / "host"; `v6` tells which family the form allows. */
function splitPeer(v: string): { host: string; portText: string | undefined; v6: boolean | null } | null {
  if (v.startsWith('[')) {
    const m = /^\[([^\]]+)\](?::(.*))?$/.exec(v);
    return m ? { host: m[1] ?? '', portText: m[2], v6: true } : null;
  }
  // A bare IPv6 address cannot carry a port (its colons are taken), so one colon means IPv4:port.
  const colons = v.split(':').length - 1;
  if (colons === 1) {
    const [host = '', portText] = v.split(':');
    return { host, portText, v6: false };
  }
  return { host: v, portText: undefined, v6: null };
}

/** "198.51.100.11", "198.51.100.12:695", "2001:db8::11" or "[2001:db8::11]:695". */
export function parsePeer(v: unknown): Parsed<PeerSpec> {
  const parts = typeof v === 'string' ? splitPeer(v) : null;
  const ip = parts ? parseIp(parts.host) : no<IpAddress>(EXPECT.peer);
  if (!parts || !ip.ok || (parts.v6 !== null && parts.v6 !== (ip.value.family === 6))) return no(EXPECT.peer);
  if (parts.portText === undefined) return ok({ ip: ip.value, port: undefined });
  const port = parsePort(parts.portText);
  return port === undefined ? no(`${EXPECT.peer}; the port must be 1..65535`) : ok({ ip: ip.value, port });
}

/**
 * A local address to bind a socket to: one of this node's unicast addresses. The unspecified
 * address is what leaving bind out already means, and a multicast group is no source address.
 */
export function parseLocalAddress(v: unknown): Parsed<IpAddress> {
  const ip = parseIp(v);
  if (!ip.ok || isMulticast(ip.value) || ip.value.address === '0.0.0.0' || ip.value.address === '::') return no(EXPECT.localAddress);
  return ip;
}

const ENTRY_KEYS = new Set(['node', 'address', 'bind']);

/**
 * A heartbeat.peers entry: `{ node: d1, address: 198.51.100.11 }` (the node d1 speaks from that
 * address; list a node once per path), with `bind: ADDR` when this path leaves from a local
 * address of its own (a second link), or, without a name, the address alone.
 */
export function parsePeerEntry(v: unknown): Parsed<PeerEntrySpec> {
  if (typeof v === 'string') {
    const r = parsePeer(v);
    return r.ok ? ok({ ...r.value, node: undefined, bind: undefined }) : r;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return no(EXPECT.peerEntry);
  const keys = Object.keys(v);
  const o = v as Record<string, unknown>;
  if (!keys.includes('node') || !keys.includes('address') || keys.some((k) => !ENTRY_KEYS.has(k))) {
    return no(`${EXPECT.peerEntry}; the mapping has the keys node and address, and bind only when the path has its own local address`);
  }
  if (typeof o.node !== 'string' || !NAME_RE.test(o.node)) return no(`${EXPECT.peerEntry}; node is ${EXPECT.name}`);
  const r = parsePeer(o.address);
  if (!r.ok) return no(`${EXPECT.peerEntry}; address is ${r.expected}`);
  if (o.bind === undefined) return ok({ ...r.value, node: o.node, bind: undefined });
  const bind = parseLocalAddress(o.bind);
  return bind.ok ? ok({ ...r.value, node: o.node, bind: bind.value }) : no(`${EXPECT.peerEntry}; bind is ${bind.expected}`);
}

export interface ListenSpec {
  ip: IpAddress;
  /** undefined: use the default port. */
  port: number | undefined;
}

/**
 * Where an HTTP endpoint listens: "127.0.0.1:9694", "[::1]:9694", "0.0.0.0" or "::". An
 * address, never a host name: a name would need DNS at start and could resolve elsewhere.
 */
export function parseListen(v: unknown): Parsed<ListenSpec> {
  const r = parsePeer(v);
  if (r.ok) return isMulticast(r.value.ip) ? no(`${EXPECT.listen}; not a multicast address`) : r;
  // parsePeer's "expected" talks about peers; keep its port hint but in our words.
  return no(r.expected.includes('port must') ? `${EXPECT.listen}; the port must be 1..65535` : EXPECT.listen);
}

/** Linux dev_valid_name(): shorter than IFNAMSIZ (16), no '/', ':' or whitespace. */
export function parseIfname(v: unknown): Parsed<string> {
  if (typeof v !== 'string' || !/^[^\s/:]{1,15}$/.test(v) || v === '.' || v === '..') return no(EXPECT.ifname);
  return ok(v);
}

/** A duration within [min, max]; `zeroAllowed` adds 0 as a separate "off" value below min. */
export function durationIn(min: Millis, max: Millis, zeroAllowed = false): (v: unknown) => Parsed<Millis> {
  const range = `from ${formatDuration(min)} to ${formatDuration(max)}`;
  const expected = zeroAllowed ? `a duration of 0s (off) or ${range} (e.g. "2s")` : `a duration ${range} (e.g. "${formatDuration(Math.max(min, 100))}")`;
  return (v) => {
    const d = parseDuration(v);
    if (!d.ok) return no(d.error.startsWith('add a unit') ? `${expected}; ${d.error}` : expected);
    if (zeroAllowed && d.ms === 0) return ok(0);
    return d.ms >= min && d.ms <= max ? ok(d.ms) : no(expected);
  };
}

/**
 * A quoted octal string. A bare YAML number is refused because YAML 1.2 reads `0660` as the
 * decimal 660, which would silently become mode 01224.
 */
export function parseMode(v: unknown): Parsed<number> {
  // Anyone who can connect can take over or release VIPs (keepalived's D-Bus lesson).
  return parseOctalMode(v, EXPECT.mode, (mode) => (mode & 0o007) === 0);
}

/** The read-only socket's mode: it only tells the state, so others may connect. */
export function parseStatusMode(v: unknown): Parsed<number> {
  return parseOctalMode(v, EXPECT.statusMode, () => true);
}

function parseOctalMode(v: unknown, expect: string, allowed: (mode: number) => boolean): Parsed<number> {
  if (typeof v === 'number') return no(`${expect}; quote it, YAML 1.2 reads an unquoted 0660 as decimal 660`);
  if (typeof v !== 'string') return no(expect);
  const m = /^(?:0o|0)?([0-7]{3})$/.exec(v);
  if (!m) return no(expect);
  const mode = parseInt(m[1] ?? '', 8);
  if ((mode & 0o600) !== 0o600 || !allowed(mode)) return no(expect);
  return ok(mode);
}

/** Renders a mode the way it is written: 0o660 -> "0660". */
export function formatMode(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`;
}

/** "addr:port" with brackets around IPv6, the form parsePeer reads back. */
export function formatPeer(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * VIP arguments of the real-server role. A real server holds the VIP on `lo` as a host route
 * only (/32, IPv6 /128): a shorter prefix on lo would make the whole subnet local, and the
 * real server could no longer reach its neighbours (the director, the gateway) on it.
 */
import { SocketAddress, isIPv4, isIPv6 } from 'node:net';
import type { Vip } from '../config/types.js';

export type VipParse = { ok: true; vip: Vip } | { ok: false; error: string };

/** "198.51.100.100", "198.51.100.100/32", "2001:db8::100" or "2001:db8::100/128". */
export function parseRealServerVip(text: string): VipParse {
  const [addr, prefixText, extra] = text.trim().split('/');
  if (extra !== undefined) return { ok: false, error: `${JSON.stringify(text)} is not an address` };
  let family: 4 | 6;
  let address: string;
  if (isIPv4(addr)) {
    family = 4;
    address = addr;
  } else if (isIPv6(addr)) {
    family = 6;
    // Canonical RFC 5952 text, as `ip -json` prints it, so comparisons with lo's addresses hold.
    address = new SocketAddress({ address: addr, family: 'ipv6' }).address;
  } else {
    return { ok: false, error: `${JSON.stringify(text)} is not an IPv4 or IPv6 address` };
  }
  const host = family === 4 ? 32 : 128;
  if (prefixText !== undefined && prefixText !== String(host)) {
    return { ok: false, error: `${text}: a real server holds the VIP on lo as /${host} only (a shorter prefix makes the whole subnet local)` };
  }
  return { ok: true, vip: { address, prefix: host, family } };
}

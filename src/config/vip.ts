/** A VIP's one text form and its one equality, for every layer that names or compares VIPs. */
import type { Vip } from './types.js';

/** "address/prefix": what `ip addr add|del` takes, and what logs, status and messages print. */
export function vipCidr(vip: Vip): string {
  return `${vip.address}/${vip.prefix}`;
}

/** Several VIPs as one word: "198.51.100.100/32,203.0.113.1/24" (a hook argument, a status line). */
export function vipsCidr(vips: readonly Vip[]): string {
  return vips.map(vipCidr).join(',');
}

/**
 * The same address with the same prefix. Parsed addresses are canonical (IPv6 in RFC 5952
 * lower case), and the comparison ignores case anyway, so text from elsewhere compares too.
 */
export function sameVip(a: Vip, b: Vip): boolean {
  return a.family === b.family && a.prefix === b.prefix && a.address.toLowerCase() === b.address.toLowerCase();
}

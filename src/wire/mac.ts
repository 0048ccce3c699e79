/**
 * Datagram authentication: HMAC-SHA256 over every byte before the MAC, truncated to 128 bits.
 * Truncation to half the hash length is what RFC 4868 (HMAC-SHA-256-128 for IPsec) and
 * keepalived's auth_hmac do; 128 bits is far beyond what an online forger can guess.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { MAC_LEN } from './layout.js';

/** The 16-byte MAC of `body` under `key`. */
export function computeMac(body: Uint8Array, key: Buffer): Buffer {
  return createHmac('sha256', key).update(body).digest().subarray(0, MAC_LEN);
}

/**
 * Whether the last MAC_LEN bytes of `datagram` authenticate the bytes before them. The compare
 * is constant-time (crypto.timingSafeEqual) so response timing leaks nothing about how many
 * leading MAC bytes a forger got right. An empty key authenticates nothing.
 */
export function macMatches(datagram: Buffer, key: Buffer): boolean {
  if (key.length === 0 || datagram.length < MAC_LEN) return false;
  const split = datagram.length - MAC_LEN;
  const expected = computeMac(datagram.subarray(0, split), key);
  return timingSafeEqual(expected, datagram.subarray(split));
}

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
 * Seals and checks whole datagrams (MAC in the last MAC_LEN bytes) under one key: what the
 * driver's steady state needs a hundred times a second. jsMac is node:crypto; the agent uses
 * the addon's (src/adapters/native-mac.ts) when it is built, with the same results.
 */
export interface DatagramMac {
  /** Writes the MAC of every byte before the last MAC_LEN into them. */
  seal(datagram: Buffer): void;
  /** Whether the last MAC_LEN bytes are the MAC of the rest (constant time). */
  check(datagram: Buffer): boolean;
}

export function jsMac(key: Buffer): DatagramMac {
  return {
    seal: (d) => void computeMac(d.subarray(0, d.length - MAC_LEN), key).copy(d, d.length - MAC_LEN),
    check: (d) => macMatches(d, key),
  };
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

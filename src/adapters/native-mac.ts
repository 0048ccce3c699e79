/** The heartbeat MAC through the addon (src/native/mac.c): the same bytes as node:crypto, cheaper per call. */
import type { DatagramMac } from '../wire/mac.js';
import type { Native } from './native.js';

export function nativeMac(native: Pick<Native, 'macKey' | 'macSeal' | 'macCheck'>, key: Buffer): DatagramMac {
  const k = native.macKey(key);
  return {
    seal: (d) => native.macSeal(k, d),
    check: (d) => native.macCheck(k, d),
  };
}

/**
 * Byte layout constants of the v1 heartbeat datagram, shared by the encoder, the decoder and
 * docs/protocol.md (keep the three in step). All integers are big-endian.
 *
 *   off  size  field
 *   0    2     magic 'H' 'A'
 *   2    1     version (1)
 *   3    1     type (1 heartbeat, 2 resign, 3 probe)
 *   4    1     flags (must be 0 in v1)
 *   5    1+n   cluster   (u8 length, 1..63 bytes UTF-8)
 *   .    1+n   node      (u8 length, 1..63 bytes UTF-8)
 *   .    8     bootId    u64
 *   .    8     seq       u64
 *   .    4     intervalMs u32
 *   .    1     group count (0..64)
 *   .    ...   per group: name (u8 length, 1..63 bytes UTF-8), state u8, priority u8, reach u8
 *   end-16 16  MAC = first 16 bytes of HMAC-SHA256(key, every preceding byte)
 */
import type { GroupState, MessageType } from './types.js';

export const MAGIC_0 = 0x48; // 'H'
export const MAGIC_1 = 0x41; // 'A'
export const VERSION = 1;

/** Largest datagram sent or accepted: stays under a 1500-byte MTU with IPv6 + UDP headers. */
export const MAX_DATAGRAM = 1400;
/** HMAC-SHA256 truncated to 128 bits, as keepalived's auth_hmac and RFC 4868's *_128 variants. */
export const MAC_LEN = 16;

/** magic + version + type + flags: the only bytes read before the MAC is verified. */
export const PREFIX_LEN = 5;
export const OFF_VERSION = 2;
export const OFF_TYPE = 3;
export const OFF_FLAGS = 4;

export const MAX_NAME_BYTES = 63;
export const MAX_GROUPS = 64;
export const U32_MAX = 0xffff_ffff;
export const U64_MAX = (1n << 64n) - 1n;

/** Bytes of a group entry besides its name: length byte, state, priority, reach. */
export const GROUP_FIXED_LEN = 4;

/**
 * Smallest well-formed datagram: prefix, two 1-byte names with their length bytes, bootId,
 * seq, intervalMs, a zero group count and the MAC. Anything shorter is 'truncated'.
 */
export const MIN_DATAGRAM = PREFIX_LEN + 2 + 2 + 8 + 8 + 4 + 1 + MAC_LEN;

export const TYPE_CODES: Readonly<Record<MessageType, number>> = { heartbeat: 1, resign: 2, probe: 3 };
export const STATE_CODES: Readonly<Record<GroupState, number>> = {
  init: 0,
  standby: 1,
  active: 2,
  fault: 3,
};

/** Inverse tables, indexed by the wire code; an absent entry is an unknown code. */
export const TYPE_BY_CODE: ReadonlyMap<number, MessageType> = invert(TYPE_CODES);
export const STATE_BY_CODE: ReadonlyMap<number, GroupState> = invert(STATE_CODES);

function invert<K extends string>(table: Readonly<Record<K, number>>): ReadonlyMap<number, K> {
  return new Map(Object.entries(table).map(([k, v]) => [v as number, k as K]));
}

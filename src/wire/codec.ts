/**
 * Heartbeat codec: Message <-> authenticated v1 datagram (layout in layout.ts and
 * docs/protocol.md). Pure: no socket, no clock. `decode` never throws; every rejected datagram
 * comes back as one DropReason so the caller can count it (MetalLB's dropReason habit).
 * `encode` throws only on a programmer error: callers encode messages they built themselves.
 */
import type { DecodeResult, DropReason, Message, WireGroup } from './types.js';
import {
  GROUP_FIXED_LEN,
  MAC_LEN,
  MAGIC_0,
  MAGIC_1,
  MAX_DATAGRAM,
  MAX_GROUPS,
  MAX_NAME_BYTES,
  MIN_DATAGRAM,
  OFF_FLAGS,
  OFF_TYPE,
  OFF_VERSION,
  PREFIX_LEN,
  STATE_BY_CODE,
  STATE_CODES,
  TYPE_BY_CODE,
  TYPE_CODES,
  U32_MAX,
  U64_MAX,
  VERSION,
} from './layout.js';
import { computeMac, macMatches, type DatagramMac } from './mac.js';
import { BoundedReader } from './reader.js';

export { MAC_LEN, MAX_DATAGRAM, MAX_GROUPS, MAX_NAME_BYTES, MIN_DATAGRAM } from './layout.js';

/** Bytes `msg` takes on the wire, MAC included (valid for any message that passes validation). */
export function encodedLength(msg: Message): number {
  const nameLen = (s: string): number => 1 + Buffer.byteLength(s, 'utf8');
  let len = PREFIX_LEN + nameLen(msg.cluster) + nameLen(msg.node) + 8 + 8 + 4 + 1 + MAC_LEN;
  for (const g of msg.groups) len += GROUP_FIXED_LEN - 1 + nameLen(g.name);
  return len;
}

/**
 * The first problem that makes `msg` unencodable, or null when it can be sent. Lets config
 * validation refuse, say, too many groups for one datagram before the daemon ever starts.
 */
export function validateMessage(msg: Message): string | null {
  if (!Object.hasOwn(TYPE_CODES, msg.type)) return `unknown type ${String(msg.type)}`;
  const head = nameProblem('cluster', msg.cluster) ?? nameProblem('node', msg.node);
  if (head) return head;
  if (!isU64(msg.bootId)) return 'bootId must be a bigint in 0..2^64-1';
  if (!isU64(msg.seq)) return 'seq must be a bigint in 0..2^64-1';
  if (!isUint(msg.intervalMs, U32_MAX)) return 'intervalMs must be an integer in 0..2^32-1';
  if (msg.groups.length > MAX_GROUPS) return `more than ${MAX_GROUPS} groups`;
  const seen = new Set<string>();
  for (const g of msg.groups) {
    const problem = groupProblem(g);
    if (problem) return problem;
    if (seen.has(g.name)) return `duplicate group ${g.name}`;
    seen.add(g.name);
  }
  const len = encodedLength(msg);
  return len > MAX_DATAGRAM ? `encodes to ${len} bytes, above ${MAX_DATAGRAM}` : null;
}

/** Builds the authenticated datagram. Throws (programmer error) when validateMessage objects. */
export function encode(msg: Message, key: Buffer): Buffer {
  const problem = validateMessage(msg);
  if (problem) throw new RangeError(`wire.encode: ${problem}`);
  if (key.length === 0) throw new RangeError('wire.encode: empty key');
  const buf = Buffer.alloc(encodedLength(msg));
  buf[0] = MAGIC_0;
  buf[1] = MAGIC_1;
  buf[OFF_VERSION] = VERSION;
  buf[OFF_TYPE] = TYPE_CODES[msg.type];
  buf[OFF_FLAGS] = 0;
  let pos = writeName(buf, PREFIX_LEN, msg.cluster);
  pos = writeName(buf, pos, msg.node);
  pos = buf.writeBigUInt64BE(msg.bootId, pos);
  pos = buf.writeBigUInt64BE(msg.seq, pos);
  pos = buf.writeUInt32BE(msg.intervalMs, pos);
  pos = buf.writeUInt8(msg.groups.length, pos);
  for (const g of msg.groups) {
    pos = writeName(buf, pos, g.name);
    pos = buf.writeUInt8(STATE_CODES[g.state], pos);
    pos = buf.writeUInt8(g.priority, pos);
    pos = buf.writeUInt8(g.reach, pos);
  }
  computeMac(buf.subarray(0, pos), key).copy(buf, pos);
  return buf;
}

/**
 * A copy of an encoded datagram with another sequence number and its MAC recomputed: the
 * sender's steady state, where one heartbeat differs from the last only in `seq`. `datagram`
 * must come from encode() (its name lengths are trusted).
 */
export function withSeq(datagram: Buffer, seq: bigint, mac: DatagramMac): Buffer {
  const out = Buffer.from(datagram);
  out.writeBigUInt64BE(seq, seqOffset(out));
  mac.seal(out);
  return out;
}

/** Where `seq` sits in a datagram encode() made or decode() accepted (its name lengths are trusted). */
export function seqOffset(datagram: Buffer): number {
  const nodeAt = PREFIX_LEN + 1 + (datagram[PREFIX_LEN] as number);
  return nodeAt + 1 + (datagram[nodeAt] as number) + 8;
}

/**
 * Checks in a fixed order and answers the first failure. Only the 5-byte prefix (magic,
 * version, type, flags) is read before the MAC is verified; no length field is looked at until
 * the datagram is known to come from a key holder, and even then every length is bounded.
 * The type is judged after the body parses so an unknown type with a sound body reads as
 * 'bad-type' (a newer peer), not 'malformed'.
 */
export function decode(buf: Buffer, key: Buffer, cluster: string): DecodeResult {
  return decodeChecked(buf, (b) => macMatches(b, key), cluster);
}

/**
 * decode() with the MAC check given: `authentic` answers whether the last MAC_LEN bytes
 * authenticate the rest (a receiver holding two keys during a rotation, src/wire/keyring.ts).
 * It is called at the same point, after the prefix checks and before any parsing.
 */
export function decodeChecked(buf: Buffer, authentic: (datagram: Buffer) => boolean, cluster: string): DecodeResult {
  if (buf.length > MAX_DATAGRAM) return drop('oversized');
  if (buf.length < MIN_DATAGRAM) return drop('truncated');
  if (buf[0] !== MAGIC_0 || buf[1] !== MAGIC_1) return drop('bad-magic');
  if (buf[OFF_VERSION] !== VERSION) return drop('bad-version');
  if (!authentic(buf)) return drop('bad-mac');
  const body = parseBody(buf);
  if (body === null) return drop('malformed');
  const type = TYPE_BY_CODE.get(buf[OFF_TYPE] as number);
  if (type === undefined) return drop('bad-type');
  if (body.cluster !== cluster) return drop('wrong-cluster');
  return { ok: true, msg: { type, ...body } };
}

type Body = Omit<Message, 'type'>;

/** Parses everything after the prefix; null on any inconsistency. */
function parseBody(buf: Buffer): Body | null {
  // Flags are reserved: a v1 sender always writes 0, and accepting other values would break
  // the "accepted datagram re-encodes to the same bytes" property.
  if (buf[OFF_FLAGS] !== 0) return null;
  const r = new BoundedReader(buf, PREFIX_LEN, buf.length - MAC_LEN);
  const cluster = r.name();
  const node = r.name();
  const bootId = r.u64();
  const seq = r.u64();
  const intervalMs = r.u32();
  const count = r.u8();
  if (cluster === null || node === null || bootId === null || seq === null) return null;
  if (intervalMs === null || count === null || count > MAX_GROUPS) return null;
  const groups = parseGroups(r, count);
  if (groups === null || !r.atEnd()) return null;
  return { cluster, node, bootId, seq, intervalMs, groups };
}

function parseGroups(r: BoundedReader, count: number): WireGroup[] | null {
  const groups: WireGroup[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < count; i++) {
    const name = r.name();
    const stateCode = r.u8();
    const priority = r.u8();
    const reach = r.u8();
    if (name === null || stateCode === null || priority === null || reach === null) return null;
    const state = STATE_BY_CODE.get(stateCode);
    if (state === undefined || seen.has(name)) return null;
    seen.add(name);
    groups.push({ name, state, priority, reach });
  }
  return groups;
}

function drop(reason: DropReason): DecodeResult {
  return { ok: false, reason };
}

function writeName(buf: Buffer, pos: number, s: string): number {
  const n = buf.write(s, pos + 1, 'utf8');
  buf[pos] = n;
  return pos + 1 + n;
}

function nameProblem(what: string, s: string): string | null {
  if (typeof s !== 'string') return `${what} must be a string`;
  const bytes = Buffer.from(s, 'utf8');
  // A lone surrogate would be sent as U+FFFD and come back as a different string.
  if (bytes.toString('utf8') !== s) return `${what} is not well-formed Unicode`;
  if (bytes.length < 1 || bytes.length > MAX_NAME_BYTES) {
    return `${what} must be 1..${MAX_NAME_BYTES} bytes of UTF-8, got ${bytes.length}`;
  }
  return null;
}

function groupProblem(g: WireGroup): string | null {
  const name = nameProblem('group name', g.name);
  if (name) return name;
  if (!Object.hasOwn(STATE_CODES, g.state)) return `group ${g.name}: unknown state ${String(g.state)}`;
  if (!isUint(g.priority, 255)) return `group ${g.name}: priority must be an integer in 0..255`;
  if (!isUint(g.reach, 255)) return `group ${g.name}: reach must be an integer in 0..255`;
  return null;
}

function isUint(n: number, max: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= max;
}

function isU64(n: bigint): boolean {
  return typeof n === 'bigint' && n >= 0n && n <= U64_MAX;
}

/**
 * Wire-codec fuzzing with fast-check. The properties live here so that the unit test
 * (test/unit/fuzz.test.ts, ~100k cases) and this long run share one definition.
 *
 * Long run:  npm run build && node dist/test/bench/fuzz-long.js [cases=5000000] [seed]
 * Prints cases/s per property; a failure prints the counterexample and the seed to replay it.
 */
import fc from 'fast-check';
import { createHmac } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { decode, encode, encodedLength, MAC_LEN, MAX_DATAGRAM } from '../../src/wire/codec.js';
import { DROP_REASONS, type DecodeResult, type Message, type WireGroup } from '../../src/wire/types.js';

export const FUZZ_KEY = Buffer.from('fuzz-key-not-secret-0123456789', 'utf8');

/** Outcome histogram per property, so callers can check the fuzzer reaches the deep paths. */
export type Tally = Map<string, number>;

export interface WireProperty {
  name: string;
  /** Share of the total case count this property gets. */
  weight: number;
  build(tally: Tally): fc.IProperty<never[]> | fc.IProperty<unknown[]>;
}

const sign = (body: Buffer): Buffer =>
  Buffer.concat([body, createHmac('sha256', FUZZ_KEY).update(body).digest().subarray(0, MAC_LEN)]);

const KNOWN = new Set<string>(DROP_REASONS);

/**
 * The invariant every decode must satisfy: a result (never a throw), a known reason, and an
 * accepted datagram re-encodes to exactly the bytes received (nothing the decoder tolerated
 * was lost or normalised).
 */
function judge(buf: Buffer, cluster: string, tally: Tally): DecodeResult {
  const r = decode(buf, FUZZ_KEY, cluster);
  const label = r.ok ? 'ok' : r.reason;
  tally.set(label, (tally.get(label) ?? 0) + 1);
  if (!r.ok && !KNOWN.has(r.reason)) throw new Error(`unknown drop reason ${String(r.reason)}`);
  if (r.ok && !encode(r.msg, FUZZ_KEY).equals(buf)) throw new Error('accepted datagram re-encodes differently');
  return r;
}

// ---- arbitraries ----
const name = fc.oneof(
  fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 63 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 15 }), // up to 60 bytes of UTF-8
);
const groupNamed = (names: fc.Arbitrary<string>): fc.Arbitrary<WireGroup> => fc
  .tuple(names, fc.constantFrom('init', 'standby', 'active', 'fault'), fc.nat(255), fc.nat(255))
  // A plain object (fc.record builds null-prototype ones, which deep equality tells apart).
  .map(([name, state, priority, reach]): WireGroup => ({ name, state, priority, reach }));
const shortName = fc.string({ unit: 'binary', minLength: 1, maxLength: 2 });
const groups = fc.oneof(
  { weight: 3, arbitrary: fc.uniqueArray(groupNamed(name), { selector: (g) => g.name, maxLength: 16 }) },
  // Many short names: reaches the 64-group limit within the size budget.
  {
    weight: 1,
    arbitrary: fc.uniqueArray(groupNamed(shortName), { selector: (g) => g.name, minLength: 40, maxLength: 64 }),
  },
);
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const u32 = fc.tuple(fc.nat(0xffff), fc.nat(0xffff)).map(([hi, lo]) => hi * 0x10000 + lo);

export const arbMessage: fc.Arbitrary<Message> = fc
  .tuple(fc.constantFrom('heartbeat', 'resign'), name, name, u64, u64, u32, groups)
  // Keep to the 1400-byte budget by dropping trailing groups (shrink-friendly, no filter).
  .map(([type, cluster, node, bootId, seq, intervalMs, gs]): Message => {
    const msg: Message = { type, cluster, node, bootId, seq, intervalMs, groups: [...gs] };
    while (encodedLength(msg) > MAX_DATAGRAM) msg.groups.pop();
    return msg;
  });

/**
 * Buffers of any length up to just past MAX_DATAGRAM, filled by xorshift32 from a generated
 * seed: fast-check drawing each of ~700 bytes one by one made this property the slowest.
 */
const bigRandomBytes = fc.tuple(fc.nat(MAX_DATAGRAM + 8), fc.integer()).map(([len, seed]) => {
  const buf = Buffer.alloc(len);
  let x = seed | 1;
  for (let i = 0; i < len; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    buf[i] = x & 0xff;
  }
  return buf;
});

type Mutation =
  | { kind: 'flip'; pos: number; bit: number }
  | { kind: 'set'; pos: number; value: number }
  | { kind: 'truncate'; pos: number }
  | { kind: 'insert'; pos: number; bytes: Uint8Array }
  | { kind: 'delete'; pos: number; count: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), pos: fc.nat(), bit: fc.nat(7) }),
  fc.record({ kind: fc.constant('set' as const), pos: fc.nat(), value: fc.nat(255) }),
  fc.record({ kind: fc.constant('truncate' as const), pos: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), pos: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('delete' as const), pos: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }),
);

function mutate(src: Buffer, m: Mutation): Buffer {
  const b = Buffer.from(src);
  const at = b.length === 0 ? 0 : m.pos % b.length;
  switch (m.kind) {
    case 'flip':
      if (b.length > 0) b[at] = (b[at] as number) ^ (1 << m.bit);
      return b;
    case 'set':
      if (b.length > 0) b[at] = m.value;
      return b;
    case 'truncate':
      return b.subarray(0, at);
    case 'insert':
      return Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
    case 'delete':
      return Buffer.concat([b.subarray(0, at), b.subarray(at + m.count)]);
  }
}

// ---- properties ----
export const WIRE_PROPERTIES: WireProperty[] = [
  {
    name: 'random bytes never throw',
    weight: 2,
    build: (tally) =>
      fc.property(
        fc.boolean(),
        bigRandomBytes,
        (prefixed, bytes) => {
          // Half get a valid magic + version so they get past the cheap checks to the MAC.
          const buf = prefixed ? Buffer.concat([Buffer.from([0x48, 0x41, 1]), bytes]) : bytes;
          if (judge(buf, 'c', tally).ok) throw new Error('an unauthenticated random buffer was accepted');
        },
      ),
  },
  {
    name: 'signed random bodies never throw',
    weight: 2,
    build: (tally) =>
      fc.property(fc.nat(3), fc.uint8Array({ minLength: 25, maxLength: 200 }), (type, bytes) => {
        // Authenticated garbage: only a key holder can send it, yet it must not crash us.
        judge(sign(Buffer.concat([Buffer.from([0x48, 0x41, 1, type, 0]), bytes])), 'c', tally);
      }),
  },
  {
    name: 'valid messages round trip',
    weight: 2,
    build: (tally) =>
      fc.property(arbMessage, (msg) => {
        const r = judge(encode(msg, FUZZ_KEY), msg.cluster, tally);
        if (!r.ok) throw new Error(`valid message dropped as ${r.reason}`);
        if (!isDeepStrictEqual(r.msg, msg)) throw new Error('decoded message differs');
      }),
  },
  {
    name: 'mutated datagrams never throw; unsigned changes are rejected',
    weight: 3,
    build: (tally) =>
      fc.property(arbMessage, fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.boolean(), (msg, muts, resign) => {
        const good = encode(msg, FUZZ_KEY);
        if (resign) {
          // Mutate the signed part and sign again: reaches the parser with near-valid bodies.
          const body = muts.reduce(mutate, good.subarray(0, good.length - MAC_LEN));
          judge(sign(body), msg.cluster, tally);
        } else {
          const bad = muts.reduce(mutate, good);
          if (judge(bad, msg.cluster, tally).ok && !bad.equals(good)) throw new Error('forged datagram accepted');
        }
      }),
  },
  {
    name: 'every single-bit flip is rejected',
    weight: 1,
    build: (tally) =>
      fc.property(arbMessage, fc.nat(), (msg, pick) => {
        const buf = encode(msg, FUZZ_KEY);
        const bit = pick % (buf.length * 8);
        buf[bit >> 3] = (buf[bit >> 3] as number) ^ (1 << (bit & 7));
        const r = judge(buf, msg.cluster, tally);
        const want = bit < 16 ? 'bad-magic' : bit < 24 ? 'bad-version' : 'bad-mac';
        if (r.ok || r.reason !== want) throw new Error(`bit ${bit}: ${r.ok ? 'accepted' : r.reason}, want ${want}`);
      }),
  },
];

/** Splits `total` cases across the properties by weight (each gets at least one). */
export function runsFor(total: number): number[] {
  const sum = WIRE_PROPERTIES.reduce((s, p) => s + p.weight, 0);
  return WIRE_PROPERTIES.map((p) => Math.max(1, Math.round((total * p.weight) / sum)));
}

async function main(argv: string[]): Promise<number> {
  const total = Number(argv[0] ?? 5_000_000);
  const seed = argv[1] === undefined ? Date.now() | 0 : Number(argv[1]);
  if (!Number.isSafeInteger(total) || total < 1 || !Number.isSafeInteger(seed)) {
    console.error('usage: fuzz-long.js [cases>=1] [seed]');
    return 2;
  }
  console.log(`fuzzing the wire codec: ${total} cases, seed ${seed}`);
  const runs = runsFor(total);
  let failed = false;
  const started = process.hrtime.bigint();
  for (const [i, p] of WIRE_PROPERTIES.entries()) {
    const tally: Tally = new Map();
    const t0 = process.hrtime.bigint();
    const details = fc.check(p.build(tally), { numRuns: runs[i], seed: seed + i });
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const rate = Math.round(details.numRuns / secs);
    console.log(`${p.name}: ${details.numRuns} cases in ${secs.toFixed(1)} s (${rate} cases/s)`);
    console.log(`  outcomes: ${[...tally].map(([k, v]) => `${k}=${v}`).join(' ')}`);
    if (details.failed) {
      failed = true;
      console.log(fc.defaultReportMessage(details));
    }
  }
  const secs = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(`total: ${total} cases in ${secs.toFixed(1)} s (${Math.round(total / secs)} cases/s)`);
  return failed ? 1 : 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}

import t from 'tap';
import { createHmac } from 'node:crypto';
import {
  decode,
  encode,
  encodedLength,
  MAC_LEN,
  MAX_DATAGRAM,
  MIN_DATAGRAM,
  validateMessage,
} from '../../src/wire/codec.js';
import type { Message } from '../../src/wire/types.js';

const KEY = Buffer.from('haagent-golden-key-0123456789abcdef', 'utf8');
const CLUSTER = 'lab';

const GOLDEN_MSG: Message = {
  type: 'heartbeat',
  cluster: 'lab',
  node: 'dir-a',
  bootId: 1_700_000_000_000n,
  seq: 42n,
  intervalMs: 200,
  groups: [
    { name: 'web', state: 'active', priority: 150, reach: 2 },
    { name: 'db', state: 'standby', priority: 100, reach: 0 },
  ],
};
// Regression pin: computed once from the encoder, then frozen. If it changes, the wire format
// changed and every deployed peer breaks: bump the version instead (docs/protocol.md).
const GOLDEN_HEX =
  '484101010003' + '6c6162' + '05' + '6469722d61' + '0000018bcfe56800' + '000000000000002a' +
  '000000c8' + '02' + '03776562' + '029602' + '026462' + '016400' + 'be056e2d5b1490f53259c51b78c66c44';

// ---- helpers that build datagrams by hand, independently of the encoder ----
const bytes = (...parts: (number[] | Buffer)[]): Buffer =>
  Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p))));
const nm = (s: string): Buffer => {
  const b = Buffer.from(s, 'utf8');
  return bytes([b.length], b);
};
const u64 = (v: bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(v);
  return b;
};
const u32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v);
  return b;
};
/** Appends HMAC-SHA256(key, body)[0..16): the MAC as docs/protocol.md defines it. */
const sign = (body: Buffer, key = KEY): Buffer =>
  bytes(body, createHmac('sha256', key).update(body).digest().subarray(0, 16));
const resign = (dgram: Buffer, key = KEY): Buffer => sign(dgram.subarray(0, dgram.length - MAC_LEN), key);
const HDR = [0x48, 0x41, 1, 1, 0];
/** A well-formed body up to and including the group count; overrides tweak one field. */
const head = (o: { hdr?: number[]; cluster?: Buffer; node?: Buffer; count?: number } = {}): Buffer =>
  bytes(o.hdr ?? HDR, o.cluster ?? nm('lab'), o.node ?? nm('dir-b'), u64(7n), u64(3n), u32(100), [
    o.count ?? 1,
  ]);
const grp = (name: Buffer | string, state = 1, prio = 100, reach = 0): Buffer =>
  bytes(typeof name === 'string' ? nm(name) : name, [state, prio, reach]);

const reasonOf = (buf: Buffer, key = KEY, cluster = CLUSTER): string => {
  const r = decode(buf, key, cluster);
  return r.ok ? 'ok' : r.reason;
};

t.test('round trips', async (t) => {
  const many = Array.from({ length: 64 }, (_, i) => ({
    name: `g${i}`,
    state: (['init', 'standby', 'active', 'fault'] as const)[i % 4],
    priority: (i * 37) % 256,
    reach: i % 3,
  }));
  const cases: [string, Message][] = [
    ['golden', GOLDEN_MSG],
    ['resign without groups', { ...GOLDEN_MSG, type: 'resign', groups: [] }],
    ['probe', { ...GOLDEN_MSG, type: 'probe' }],
    ['64 groups', { ...GOLDEN_MSG, groups: many }],
    [
      'extremes',
      {
        type: 'heartbeat',
        cluster: 'é'.repeat(31) + 'x', // 63 bytes of two-byte UTF-8 plus one
        node: '\u{1F600}'.repeat(15) + 'abc', // 63 bytes with 4-byte code points
        bootId: (1n << 64n) - 1n,
        seq: 0n,
        intervalMs: 0xffff_ffff,
        groups: [{ name: '\uFEFFbom', state: 'fault', priority: 255, reach: 255 }],
      },
    ],
  ];
  for (const [label, msg] of cases) {
    const buf = encode(msg, KEY);
    t.equal(buf.length, encodedLength(msg), `${label}: encodedLength`);
    t.same(decode(buf, KEY, msg.cluster), { ok: true, msg }, `${label}: decodes to itself`);
  }
});

t.test('golden bytes', async (t) => {
  const buf = encode(GOLDEN_MSG, KEY);
  t.equal(buf.toString('hex'), GOLDEN_HEX, 'encoder output is pinned');
  // The layout also checked against a hand-built datagram, MAC recomputed with node:crypto.
  const hand = sign(
    bytes(HDR, nm('lab'), nm('dir-a'), u64(1_700_000_000_000n), u64(42n), u32(200), [2],
      grp('web', 2, 150, 2), grp('db', 1, 100, 0)),
  );
  t.same(buf, hand, 'matches the documented layout byte for byte');
});

t.test('exact size limit', async (t) => {
  // 52 fixed bytes with these names, 20 groups of 63-byte names (67 each) and one of 4 (8).
  const groups = Array.from({ length: 20 }, (_, i) => ({
    name: String(i).padStart(63, 'n'),
    state: 'standby' as const,
    priority: 1,
    reach: 0,
  }));
  const fits: Message = { ...GOLDEN_MSG, groups: [...groups, { name: 'last', state: 'init', priority: 0, reach: 0 }] };
  t.equal(encodedLength(fits), MAX_DATAGRAM);
  t.equal(reasonOf(encode(fits, KEY)), 'ok', 'a datagram of exactly MAX_DATAGRAM is accepted');
  const tooBig: Message = { ...fits, groups: [...groups, { name: 'last1', state: 'init', priority: 0, reach: 0 }] };
  t.match(validateMessage(tooBig), /above 1400/);
  t.throws(() => encode(tooBig, KEY), RangeError);
  t.equal(reasonOf(Buffer.alloc(MAX_DATAGRAM + 1)), 'oversized');
  t.equal(reasonOf(bytes(encode(fits, KEY), [0])), 'oversized', 'one byte over is oversized');
});

t.test('truncation at every length', async (t) => {
  const buf = encode(GOLDEN_MSG, KEY);
  t.equal(MIN_DATAGRAM, 46);
  for (let len = 0; len < buf.length; len++) {
    const want = len < MIN_DATAGRAM ? 'truncated' : 'bad-mac';
    t.equal(reasonOf(buf.subarray(0, len)), want, `length ${len}`);
  }
  t.equal(reasonOf(sign(head({ count: 0 }))), 'ok', 'the minimal datagram is accepted');
  t.equal(sign(head({ count: 0 })).length, MIN_DATAGRAM + 'dir-b'.length - 1 + 'lab'.length - 1);
});

t.test('prefix checks come before the MAC', async (t) => {
  const buf = encode(GOLDEN_MSG, KEY);
  const patched = (off: number, v: number, resigned: boolean): Buffer => {
    const b = Buffer.from(buf);
    b[off] = v;
    return resigned ? resign(b) : b;
  };
  for (const resigned of [false, true]) {
    t.equal(reasonOf(patched(0, 0x58, resigned)), 'bad-magic', `first magic byte, resigned=${resigned}`);
    t.equal(reasonOf(patched(1, 0x42, resigned)), 'bad-magic', `second magic byte, resigned=${resigned}`);
    for (const v of [0, 2, 255]) {
      t.equal(reasonOf(patched(2, v, resigned)), 'bad-version', `version ${v}, resigned=${resigned}`);
    }
  }
});

t.test('MAC failures', async (t) => {
  const buf = encode(GOLDEN_MSG, KEY);
  t.equal(reasonOf(buf, Buffer.from('another key')), 'bad-mac', 'wrong key');
  t.equal(reasonOf(buf, Buffer.alloc(0)), 'bad-mac', 'empty key authenticates nothing');
  t.equal(reasonOf(resign(buf, Buffer.alloc(0))), 'bad-mac', 'signed with an empty key');
  for (let i = buf.length - MAC_LEN; i < buf.length; i++) {
    const b = Buffer.from(buf);
    b[i] = (b[i] as number) ^ 0x01;
    t.equal(reasonOf(b), 'bad-mac', `MAC byte ${i} flipped`);
  }
  t.equal(reasonOf(bytes(buf, [0])), 'bad-mac', 'garbage after the MAC moves the MAC');
  t.throws(() => encode(GOLDEN_MSG, Buffer.alloc(0)), RangeError, 'encode refuses an empty key');
});

t.test('every single-bit flip of the golden datagram is rejected', async (t) => {
  const buf = encode(GOLDEN_MSG, KEY);
  const accepted: number[] = [];
  for (let bit = 0; bit < buf.length * 8; bit++) {
    const b = Buffer.from(buf);
    b[bit >> 3] = (b[bit >> 3] as number) ^ (1 << (bit & 7));
    if (decode(b, KEY, CLUSTER).ok) accepted.push(bit);
  }
  t.same(accepted, [], 'no flipped bit is accepted');
});

t.test('authenticated but malformed bodies', async (t) => {
  const cases: [string, Buffer][] = [
    ['zero-length cluster', bytes(head({ cluster: Buffer.from([0]) }), grp('web'))],
    ['64-byte cluster', bytes(head({ cluster: nm('c'.repeat(64)) }), grp('web'))],
    ['cluster length past the end', bytes(HDR, [200], Buffer.from('lab'), Buffer.alloc(40))],
    ['node length past the end', bytes(HDR, nm('lab'), [63], Buffer.alloc(30))],
    ['zero-length node', bytes(head({ node: Buffer.from([0]) }), grp('web'))],
    ['group count past the end', bytes(head({ count: 2 }), grp('web'))],
    ['group count 65', bytes(head({ count: 65 }), ...Array.from({ length: 65 }, (_, i) => grp(`g${i}`)))],
    ['group name length past the end', bytes(head(), [30], Buffer.from('web'), [1, 1, 1])],
    ['zero-length group name', bytes(head(), grp(Buffer.from([0])))],
    ['group entry cut short', bytes(head(), nm('web'), [1, 100])],
    ['trailing bytes before the MAC', bytes(head(), grp('web'), [0])],
    ['group count smaller than the entries', bytes(head({ count: 1 }), grp('web'), grp('db'))],
    ['state code 4', bytes(head(), grp('web', 4))],
    ['state code 255', bytes(head(), grp('web', 255))],
    ['invalid UTF-8 in node', bytes(head({ node: bytes([2], [0x61, 0xff]) }), grp('web'))],
    ['overlong UTF-8 in group name', bytes(head(), grp(bytes([2], [0xc0, 0x80])))],
    ['UTF-8 encoded surrogate in cluster', bytes(head({ cluster: bytes([3], [0xed, 0xa0, 0x80]) }), grp('web'))],
    ['duplicate group names', bytes(head({ count: 2 }), grp('web'), grp('web', 2))],
    ['non-zero flags', bytes(head({ hdr: [0x48, 0x41, 1, 1, 0x80] }), grp('web'))],
    ['unknown type and malformed body', bytes(head({ hdr: [0x48, 0x41, 1, 9, 0] }), grp('web', 7))],
  ];
  t.equal(reasonOf(sign(bytes(head(), grp('web')))), 'ok', 'the untweaked body is accepted');
  for (const [label, body] of cases) {
    const dgram = sign(body);
    t.ok(dgram.length >= MIN_DATAGRAM, `${label}: long enough to reach the parser`);
    t.equal(reasonOf(dgram), 'malformed', label);
  }
});

t.test('type and cluster come last', async (t) => {
  for (const type of [0, 4, 255]) {
    const dgram = sign(bytes(head({ hdr: [0x48, 0x41, 1, type, 0] }), grp('web')));
    t.equal(reasonOf(dgram), 'bad-type', `type ${type}`);
    t.equal(reasonOf(dgram, KEY, 'other'), 'bad-type', `type ${type} outranks wrong-cluster`);
  }
  const buf = encode(GOLDEN_MSG, KEY);
  t.equal(reasonOf(buf, KEY, 'other'), 'wrong-cluster');
  t.equal(reasonOf(buf, KEY, 'la'), 'wrong-cluster', 'no prefix match');
  t.equal(reasonOf(buf, KEY, 'LAB'), 'wrong-cluster', 'case-sensitive');
});

t.test('drop reasons are judged in the documented order', async (t) => {
  const bad = (b: Buffer, off: number, v: number): Buffer => {
    const c = Buffer.from(b);
    c[off] = v;
    return c;
  };
  const good = encode(GOLDEN_MSG, KEY);
  const big = bytes(Buffer.from([0, 0, 9]), Buffer.alloc(MAX_DATAGRAM));
  t.equal(reasonOf(big), 'oversized', 'oversized before bad-magic');
  t.equal(reasonOf(Buffer.from([0, 0, 9])), 'truncated', 'truncated before bad-magic');
  t.equal(reasonOf(bad(bad(good, 0, 0), 2, 9)), 'bad-magic', 'bad-magic before bad-version');
  t.equal(reasonOf(bad(good, 2, 9), Buffer.from('x')), 'bad-version', 'bad-version before bad-mac');
  const malformed = sign(bytes(head(), grp('web', 4)));
  t.equal(reasonOf(malformed, Buffer.from('x')), 'bad-mac', 'bad-mac before malformed');
});

t.test('encode refuses invalid messages', async (t) => {
  const g = GOLDEN_MSG.groups[0]!;
  const cases: [string, Message, RegExp][] = [
    ['unknown type', { ...GOLDEN_MSG, type: 'hello' as Message['type'] }, /unknown type/],
    ['empty cluster', { ...GOLDEN_MSG, cluster: '' }, /cluster must be 1\.\.63/],
    ['64-byte node', { ...GOLDEN_MSG, node: 'n'.repeat(64) }, /node must be 1\.\.63/],
    ['lone surrogate', { ...GOLDEN_MSG, node: 'a\uD800' }, /well-formed/],
    ['negative bootId', { ...GOLDEN_MSG, bootId: -1n }, /bootId/],
    ['seq above u64', { ...GOLDEN_MSG, seq: 1n << 64n }, /seq/],
    ['fractional interval', { ...GOLDEN_MSG, intervalMs: 1.5 }, /intervalMs/],
    ['interval above u32', { ...GOLDEN_MSG, intervalMs: 2 ** 32 }, /intervalMs/],
    ['65 groups', { ...GOLDEN_MSG, groups: Array.from({ length: 65 }, (_, i) => ({ ...g, name: `${i}` })) }, /more than 64/],
    ['duplicate group', { ...GOLDEN_MSG, groups: [g, g] }, /duplicate group web/],
    ['unknown state', { ...GOLDEN_MSG, groups: [{ ...g, state: 'master' as 'active' }] }, /unknown state/],
    ['priority 256', { ...GOLDEN_MSG, groups: [{ ...g, priority: 256 }] }, /priority/],
    ['negative reach', { ...GOLDEN_MSG, groups: [{ ...g, reach: -1 }] }, /reach/],
    ['empty group name', { ...GOLDEN_MSG, groups: [{ ...g, name: '' }] }, /group name/],
  ];
  for (const [label, msg, re] of cases) {
    t.match(validateMessage(msg), re, `${label}: validateMessage`);
    t.throws(() => encode(msg, KEY), RangeError, `${label}: encode throws`);
  }
  t.equal(validateMessage(GOLDEN_MSG), null);
});

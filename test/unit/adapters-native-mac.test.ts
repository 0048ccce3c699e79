/**
 * The addon's HMAC-SHA256/128 (src/native/mac.c) against node:crypto: random keys of the
 * lengths that take each path (shorter than a block, exactly one, longer: hashed first) and
 * messages of every length across the padding boundaries and past the datagram limit.
 */
import { createHmac, randomBytes } from 'node:crypto';
import t from 'tap';
import { loadNative } from '../../src/adapters/native.js';

const load = loadNative();
const skip = load.ok ? false : `the addon is not built: ${load.reason}`;

const reference = (key: Buffer, body: Buffer): Buffer => createHmac('sha256', key).update(body).digest().subarray(0, 16);

t.test('seal writes what createHmac computes, for every message length and key shape', { skip }, async (t) => {
  if (!load.ok) return;
  const n = load.native;
  let checked = 0;
  for (const klen of [1, 16, 32, 55, 63, 64, 65, 100, 200]) {
    const key = randomBytes(klen);
    const k = n.macKey(key);
    for (let len = 0; len <= 1500; len += len < 200 ? 1 : 37) {
      const d = Buffer.concat([randomBytes(len), Buffer.alloc(16)]);
      n.macSeal(k, d);
      if (!d.subarray(len).equals(reference(key, d.subarray(0, len)))) return t.fail(`key ${klen} bytes, message ${len} bytes: MACs differ`);
      checked++;
    }
  }
  t.pass(`${checked} key/message pairs agree with node:crypto`);
});

t.test('check: true for a sealed datagram, false for any changed bit or another key', { skip }, async (t) => {
  if (!load.ok) return;
  const n = load.native;
  const key = randomBytes(32);
  const k = n.macKey(key);
  const d = Buffer.concat([randomBytes(80), Buffer.alloc(16)]);
  n.macSeal(k, d);
  t.ok(n.macCheck(k, d), 'sealed');
  let caught = 0;
  for (let i = 0; i < d.length * 8; i++) {
    const x = Buffer.from(d);
    x[i >> 3] = x[i >> 3]! ^ (1 << (i & 7));
    if (!n.macCheck(k, x)) caught++;
  }
  t.equal(caught, d.length * 8, 'every single-bit change is refused');
  t.notOk(n.macCheck(n.macKey(randomBytes(32)), d), 'another key refuses it');
  t.throws(() => n.macSeal(k, Buffer.alloc(15)), /16/, 'shorter than a MAC: a clean error');
  t.throws(() => n.macKey(Buffer.alloc(0)), TypeError, 'an empty key: a clean error');
  t.throws(() => n.macCheck({} as never, d), TypeError, 'not a key: a clean error');
});

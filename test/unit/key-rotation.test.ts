/**
 * Key rotation in the running agent: a send key and an accept key (src/wire/keyring.ts), the
 * receiver authenticating under either (send key first), a reload swapping them, the sender
 * sealing with the new one, and ICMP quotes of datagrams sealed before the switch still
 * recognised as ours. With the addon's MAC and with node:crypto's.
 */
import t from 'tap';
import { loadNative } from '../../src/adapters/native.js';
import { nativeMac } from '../../src/adapters/native-mac.js';
import { decode, encode } from '../../src/wire/codec.js';
import { KeyRing, keyId } from '../../src/wire/keyring.js';
import { jsMac, type DatagramMac } from '../../src/wire/mac.js';
import type { Message } from '../../src/wire/types.js';
import { formatStatus, statusView } from '../../src/daemon/status-view.js';
import { KEY, rig, settle } from './driver-rig.js';

const OLD = KEY;
const NEW = Buffer.alloc(32, 0x4e);
const OTHER = Buffer.alloc(32, 0x99);

const native = loadNative();
const macs: [string, (key: Buffer) => DatagramMac][] = [['node:crypto', jsMac]];
if (native.ok) macs.push(['addon', (key) => nativeMac(native.native, key)]);
else t.comment(`addon not built (${native.reason}): node:crypto only`);

const msg = (seq: bigint): Message => ({ type: 'heartbeat', cluster: 'c', node: 'peer', bootId: 1n, seq, intervalMs: 100, groups: [] });

t.test('KeyRing: the send key is tried first, the accept key only when it fails; each counts what it authenticated', async (t) => {
  const calls: string[] = [];
  const spy = (key: Buffer): DatagramMac => {
    const m = jsMac(key);
    return { seal: m.seal, check: (d) => (calls.push(keyId(key)), m.check(d)) };
  };
  let now = 100;
  const ring = new KeyRing({ send: OLD, accept: NEW }, spy, () => now);
  t.ok(ring.check(encode(msg(1n), OLD)));
  t.same(calls, [keyId(OLD)], 'a datagram under the send key: one check');
  calls.length = 0;
  now = 200;
  t.ok(ring.check(encode(msg(2n), NEW)));
  t.same(calls, [keyId(OLD), keyId(NEW)], 'under the accept key: send key first, then the accept key');
  calls.length = 0;
  t.notOk(ring.check(encode(msg(3n), OTHER)), 'a third key: refused');
  t.same(ring.views(), [
    { id: keyId(OLD), use: 'send', authenticated: 1, lastAt: 100 },
    { id: keyId(NEW), use: 'accept', authenticated: 1, lastAt: 200 },
  ]);
  // Step 2 of a rotation: the keys swap roles and keep their counts and MAC objects.
  const before = calls.length;
  ring.set({ send: NEW, accept: OLD });
  t.same(ring.views().map((v) => [v.id, v.use, v.authenticated]), [[keyId(NEW), 'send', 1], [keyId(OLD), 'accept', 1]]);
  t.equal(ring.send.key.equals(NEW), true);
  // Step 3: the old key goes; what it sealed is refused from now on.
  ring.set({ send: NEW, accept: null });
  t.notOk(ring.check(encode(msg(4n), OLD)), 'the dropped key authenticates nothing');
  t.same(ring.views().map((v) => v.use), ['send']);
  ring.set({ send: NEW, accept: NEW });
  t.same(ring.views().map((v) => v.use), ['send'], 'an accept key equal to the send key is not held twice');
  t.ok(calls.length > before);
  t.match(keyId(OLD), /^[0-9a-f]{8}$/);
  t.not(keyId(OLD), keyId(NEW));
  t.notMatch(keyId(OLD), OLD.toString('hex').slice(0, 8), 'the id is not the key');
});

for (const [name, macFor] of macs) {
  t.test(`${name}: the receiver accepts under either key, counts which, and refuses a third`, async (t) => {
    const { loop, driver, peer, deliver } = rig(undefined, { key: OLD, acceptKey: NEW, macFor });
    driver.start();
    await settle();
    deliver(peer(1n, 'active', 200, OLD));
    deliver(peer(2n, 'active', 200, OLD)); // fast path
    deliver(peer(3n, 'active', 200, NEW)); // fast path too: seq and MAC differ
    deliver(peer(4n, 'active', 200, NEW));
    deliver(peer(5n, 'active', 200, OTHER));
    deliver(peer(6n, 'standby', 200, NEW)); // new content: parsed, under the accept key
    deliver(peer(7n, 'active', 200, OTHER)); // parsed: a third key
    const drops = driver.drops.snapshot();
    t.equal(drops['bad-mac'], 2, 'the third key: bad-mac, on either path');
    t.equal(drops.replay, 0);
    t.equal(driver.stats.received, 5, 'both keys: accepted');
    t.same(driver.keyViews().map((k) => [k.use, k.authenticated]), [['send', 2], ['accept', 3]]);
    loop.advance(loop.now);
    driver.stop();
  });

  t.test(`${name}: after a reload drops a key, the fast path lets nothing it sealed through`, async (t) => {
    const { loop, driver, peer, deliver } = rig(undefined, { key: NEW, acceptKey: OLD, macFor });
    const seen: { same: boolean | undefined; seq: bigint }[] = [];
    const feed = driver.feed.bind(driver);
    driver.feed = (input) => {
      if (input.kind === 'message') seen.push({ same: input.same, seq: input.msg.seq });
      return feed(input);
    };
    driver.start();
    await settle();
    deliver(peer(1n, 'active', 200, OLD));
    deliver(peer(2n, 'active', 200, OLD));
    t.same(seen, [{ same: false, seq: 1n }, { same: true, seq: 2n }], 'the old key accepted, the second datagram on the fast path');
    driver.rekey({ send: NEW, accept: null });
    deliver(peer(3n, 'active', 200, OLD));
    t.equal(driver.drops.snapshot()['bad-mac'], 1, 'same bytes but seq, sealed with the dropped key: bad-mac');
    deliver(peer(4n, 'active', 200, NEW));
    t.match(seen.at(-1), { seq: 4n }, 'the peer, now on the new key, is heard');
    t.equal(seen.length, 3);
    loop.advance(loop.now);
    driver.stop();
  });

  t.test(`${name}: a new send key seals the next datagram; ICMP quotes of the ones before still verify`, async (t) => {
    const { loop, sent, driver, config, deliver, peer, refuse } = rig(undefined, { key: OLD, acceptKey: null, macFor });
    const verdicts: (boolean | undefined)[] = [];
    const feed = driver.feed.bind(driver);
    driver.feed = (input) => {
      if (input.kind === 'unreachable') verdicts.push(input.verified);
      return feed(input);
    };
    driver.start();
    await settle();
    deliver(peer(1n));
    loop.advance(loop.now + 5 * config.heartbeat.interval);
    const beforeSwitch = sent.at(-1)!;
    t.ok(decode(beforeSwitch, OLD, config.cluster).ok, 'sealed with the old key');
    driver.rekey({ send: NEW, accept: OLD });
    loop.advance(loop.now + 3 * config.heartbeat.interval);
    const afterSwitch = sent.at(-1)!;
    const r = decode(afterSwitch, NEW, config.cluster);
    if (!r.ok) return t.fail(`not sealed with the new key: ${r.reason}`);
    t.same(afterSwitch, encode(r.msg, NEW), 'the steady state re-sealed with the new key: a fresh encode');
    t.equal(decode(afterSwitch, OLD, config.cluster).ok, false, 'and not with the old one');
    const address = config.heartbeat.peers[0]!.address;
    refuse(address, [afterSwitch]);
    refuse(address, [beforeSwitch]);
    t.same(verdicts, [true, true], 'a quote of ours verifies whichever key sealed it');
    // A datagram claiming to be ours, sealed with the retired key but numbered after the switch:
    // no such datagram was ever sent (a holder of the old key forging the quote).
    const b = decode(beforeSwitch, OLD, config.cluster);
    if (!b.ok) return t.fail('undecodable');
    const forged = encode({ ...b.msg, seq: r.msg.seq }, OLD);
    refuse(address, [forged]);
    t.equal(verdicts.at(-1), false, 'the retired key vouches only for what it sealed');
    refuse(address, [encode({ ...b.msg }, OTHER)]);
    t.equal(verdicts.at(-1), false, 'another key: not ours');
    driver.stop();
  });
}

t.test('status shows the keys by id, with what each authenticated and when last; never the keys', async (t) => {
  const { loop, driver, peer, deliver } = rig(undefined, { key: NEW, acceptKey: OLD });
  driver.start();
  await settle();
  loop.now = 1000;
  deliver(peer(1n, 'active', 200, OLD));
  loop.now = 1500;
  deliver(peer(2n, 'active', 200, NEW));
  loop.now = 3000;
  const ctx = { cluster: 'c', pid: 1, now: loop.now, keys: driver.keyViews() };
  const s = statusView(driver.view(), driver.stats, driver.drops.snapshot(), ctx);
  t.same(s.keys, [
    { id: keyId(NEW), use: 'send', authenticated: 1, lastAuthenticatedMsAgo: 1500 },
    { id: keyId(OLD), use: 'accept', authenticated: 1, lastAuthenticatedMsAgo: 2000 },
  ]);
  const text = formatStatus(s);
  t.match(text, `keys: send ${keyId(NEW)} (authenticated 1, last 1.5s ago), accept ${keyId(OLD)} (authenticated 1, last 2.0s ago)`);
  t.notMatch(JSON.stringify(s) + text, new RegExp(`${NEW.toString('hex').slice(0, 16)}|${OLD.toString('hex').slice(0, 16)}`), 'no key bytes');
  driver.rekey({ send: NEW, accept: null });
  t.match(formatStatus(statusView(driver.view(), driver.stats, driver.drops.snapshot(), { ...ctx, keys: driver.keyViews() })), /keys: send [0-9a-f]{8} \(authenticated 1, last 1\.5s ago\)\n/);
  t.notOk(statusView(driver.view(), driver.stats, driver.drops.snapshot(), { cluster: 'c', pid: 1, now: 0 }).keys, 'no keys in the context: no keys in the record');
  driver.stop();
});

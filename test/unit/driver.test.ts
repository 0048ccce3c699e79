/**
 * The driver on fake ports: what goes on the wire (the steady-state datagram is a fresh
 * encode in all but its seq), and the order it reads and ticks in (a peer's heartbeats that
 * arrived during a stall are read before the deadline tick that would call it silent).
 */
import t from 'tap';
import { decode, encode } from '../../src/wire/codec.js';
import { KEY, rig, settle } from './driver-rig.js';

t.test('steady-state datagrams: the last one with a new seq and MAC, byte for byte a fresh encode', async (t) => {
  const { loop, sent, driver, config } = rig();
  driver.start();
  await settle();
  loop.advance(10 * config.heartbeat.interval);
  t.ok(sent.length >= 5, `${sent.length} datagrams`);
  let seq = 0n;
  for (const d of sent) {
    const r = decode(d, KEY, config.cluster);
    if (!r.ok) return t.fail(`undecodable: ${r.reason}`);
    t.equal(r.msg.seq, ++seq, 'seq counts up by one');
    t.same(d, encode(r.msg, KEY), 'identical to encoding the message afresh');
  }
  driver.stop();
});

t.test('a timer that fires late lets the sockets be read before the tick (starved loop)', async (t) => {
  const { loop, driver, config, peer, deliver } = rig();
  driver.start();
  await settle();
  const dead = config.heartbeat.deadTime;
  deliver(peer(1n));
  loop.advance(dead - 1);
  t.equal(driver.view().peers.alive(loop.now).length, 1, 'heard');
  // The loop stalls past the peer's deadline; the peer kept sending, its datagram waits unread.
  loop.fireTimers(dead + 50);
  t.ok(loop.polled.length > 0, 'the tick is deferred until after the poll phase');
  deliver(peer(2n)); // the poll phase reads it
  loop.runPolled();
  t.equal(driver.view().peers.alive(loop.now).length, 1, 'still alive at the tick: its heartbeat was read first');
  t.notOk(driver.view().groups.some((g) => g.state === 'active' && g.holder === config.node), 'no takeover from our own stall');
  driver.stop();
});

t.test('a step that leaves the next deadline unchanged leaves the timer alone', async (t) => {
  const { loop, driver, peer, deliver } = rig();
  driver.start();
  await settle();
  deliver(peer(1n));
  const armed = loop.armed;
  // Each heartbeat moves the peer's deadline, but our own next heartbeat comes before it.
  for (let i = 2n; i < 12n; i++) deliver(peer(i));
  t.equal(loop.armed - armed, 0, 'no re-arm for 10 datagrams: the wake-up time did not change');
  const before = loop.armed;
  loop.advance(loop.now); // nothing due: nothing re-armed
  t.equal(loop.armed, before);
  driver.stop();
});

t.test('a datagram that repeats the last one but for its seq skips the parse, never the MAC or the replay check', async (t) => {
  const { loop, driver, peer, deliver } = rig();
  const seen: { same: boolean | undefined; seq: bigint }[] = [];
  const feed = driver.feed.bind(driver);
  driver.feed = (input) => {
    if (input.kind === 'message') seen.push({ same: input.same, seq: input.msg.seq });
    return feed(input);
  };
  driver.start();
  await settle();
  deliver(peer(1n));
  deliver(peer(2n));
  deliver(peer(3n));
  t.same(seen, [{ same: false, seq: 1n }, { same: true, seq: 2n }, { same: true, seq: 3n }], 'parsed once, then recognised');
  const forged = Buffer.from(peer(4n).data);
  forged[forged.length - 1] = forged[forged.length - 1]! ^ 1;
  deliver({ ...peer(4n), data: forged });
  t.equal(driver.drops.snapshot()['bad-mac'], 1, 'a bad MAC on the fast path is still a bad MAC');
  deliver(peer(3n));
  t.equal(driver.drops.snapshot().replay, 1, 'and an old seq still a replay');
  deliver(peer(4n, 'standby'));
  t.same(seen.at(-1), { same: false, seq: 4n }, 'new content: parsed');
  t.equal(driver.view().peers.all().find((p) => p.node === 'peer')?.groups.get(driver.view().groups[0]!.name)?.state, 'standby');
  t.equal(seen.length, 4, 'the dropped ones never reached the core');
  loop.advance(loop.now);
  driver.stop();
});

t.test('an ICMP error counts as verified only when it quotes a datagram of ours, recent, MAC intact', async (t) => {
  const { loop, sent, driver, config, peer, deliver, refuse } = rig();
  const verdicts: (boolean | undefined)[] = [];
  const feed = driver.feed.bind(driver);
  driver.feed = (input) => {
    if (input.kind === 'unreachable') verdicts.push(input.verified);
    return feed(input);
  };
  driver.start();
  await settle();
  deliver(peer(1n));
  loop.advance(5 * config.heartbeat.interval);
  const ours = sent.at(-1)!;
  const address = config.heartbeat.peers[0]!.address;
  refuse(address, []);
  refuse(address, [Buffer.from('forged: only the UDP header was quoted')]);
  const tampered = Buffer.from(ours);
  tampered[tampered.length - 1] = tampered[tampered.length - 1]! ^ 1;
  refuse(address, [tampered]);
  const theirs = peer(2n).data; // valid MAC, but the peer's datagram, not ours
  refuse(address, [theirs]);
  t.same(verdicts, [false, false, false, false], 'no quote, junk, a broken MAC, another node\'s datagram: hints only');
  refuse(address, [ours]);
  t.equal(verdicts.at(-1), true, 'our own recent heartbeat, quoted whole: verified');
  driver.stop();
});

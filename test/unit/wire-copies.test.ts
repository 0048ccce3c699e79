/**
 * A node with two paths sends each datagram on both. The replay guard takes only the first
 * copy; the second, from another configured address of the same node within one interval,
 * still reaches the core, so it records that path as heard. Without that a working second
 * path looks silent whenever the first is the faster one (the paths drill found it).
 */
import t from 'tap';
import { encode } from '../../src/wire/codec.js';
import type { Message } from '../../src/wire/types.js';
import { BASE, parse } from './config-harness.js';
import { KEY, rig } from './driver-rig.js';

const SERVICE = '198.51.100.11';
const BACKBONE = '203.0.113.11';
const INTERVAL = 100;
const withPeers = (peers: string) => BASE.map((l) => (l.startsWith('  peers:') ? `  peers: ${peers}` : l)).join('\n') + '\n';
const TWO_PATHS = withPeers(`[{ node: d1, address: ${SERVICE} }, { node: d1, address: ${BACKBONE}, bind: 203.0.113.10 }]`);

function setup(doc = TWO_PATHS, node = 'd1') {
  let wall = 1_700_000_000_000;
  const r = rig(parse(doc), { wall: () => wall });
  r.driver.start();
  const datagram = (seq: bigint, type: Message['type'] = 'heartbeat'): Buffer => {
    const msg: Message = { type, cluster: 'lb1', node, bootId: 9n, seq, intervalMs: INTERVAL, groups: [{ name: 'web', state: 'standby', priority: 50, reach: 0 }] };
    return encode(msg, KEY);
  };
  const deliver = (data: Buffer, address: string) => r.deliver({ data, address, port: 694 });
  /** advances both clocks by ms */
  const later = (ms: number) => {
    wall += ms;
    r.loop.advance(r.loop.now + ms);
  };
  const paths = () => r.driver.view().peers.all().find((p) => p.node === node)?.paths.map((p) => ({ address: p.address, lastHeard: p.lastHeard })) ?? [];
  const replays = () => r.driver.drops.snapshot().replay ?? 0;
  /** A moment after the start, datagram 1 on the service path; returns it, for its copies. */
  const firstOnService = (): Buffer => {
    later(5);
    const one = datagram(1n);
    deliver(one, SERVICE);
    return one;
  };
  return { r, datagram, deliver, later, paths, replays, firstOnService };
}

t.test('the copy on the other path records that path; a copy on the same path is a replay', async (t) => {
  const s = setup();
  const one = s.firstOnService();
  s.deliver(one, BACKBONE);
  const at = s.r.loop.now;
  t.same(s.paths(), [{ address: SERVICE, lastHeard: at }, { address: BACKBONE, lastHeard: at }], 'both paths heard');
  t.equal(s.replays(), 0, 'the copy is not counted a replay');
  s.deliver(one, BACKBONE);
  s.deliver(one, SERVICE);
  t.equal(s.replays(), 2, 'a second copy on a path that had it is a replay');

  s.later(INTERVAL);
  const two = s.datagram(2n);
  s.deliver(two, BACKBONE); // the backbone is the faster this time
  s.later(3);
  s.deliver(two, SERVICE);
  t.same(s.paths(), [{ address: SERVICE, lastHeard: s.r.loop.now }, { address: BACKBONE, lastHeard: s.r.loop.now - 3 }], 'each path at its own copy');
  s.deliver(s.datagram(1n), BACKBONE);
  t.equal(s.replays(), 3, 'an older datagram is a replay on any path');
});

t.test('a copy later than one interval, a resign\'s copy and unnamed peers\' copies are replays', async (t) => {
  const s = setup();
  const one = s.firstOnService();
  s.later(INTERVAL + 1);
  s.deliver(one, BACKBONE);
  t.same(s.paths().map((p) => p.address), [SERVICE], 'the late copy recorded no path');
  t.equal(s.replays(), 1, 'and was counted a replay');

  const bye = s.datagram(2n, 'resign');
  s.deliver(bye, SERVICE);
  s.deliver(bye, BACKBONE);
  t.equal(s.replays(), 2, 'a resign counts once');

  const u = setup(withPeers(`[${SERVICE}, ${BACKBONE}]`), 'd1');
  u.deliver(u.firstOnService(), BACKBONE);
  t.equal(u.replays(), 1, 'unnamed peers: the copy is a replay (an unnamed peer may speak from any address)');
});

t.test('a copy from an address that is not the node\'s is an unknown peer', async (t) => {
  const s = setup();
  s.deliver(s.firstOnService(), '198.51.100.99');
  t.equal(s.r.driver.drops.snapshot()['unknown-peer'], 1);
  t.same(s.paths().map((p) => p.address), [SERVICE]);
});

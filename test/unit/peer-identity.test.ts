/**
 * Peer identity: heartbeat.peers entries with node names bind each name to its addresses;
 * the receiver drops anything else as 'unknown-peer' before the replay guard and the core,
 * so no per-peer table grows past the configured nodes and quorum counts configured nodes.
 */
import t from 'tap';
import { PeerIdentity, MAX_UNNAMED, peerNodeCount } from '../../src/wire/identity.js';
import { renderEffectiveConfig as renderConfig } from '../../src/config/render.js';
import { encode } from '../../src/wire/codec.js';
import type { Message } from '../../src/wire/types.js';
import { BASE, issuesOf, parse } from './config-harness.js';
import { KEY, rig } from './driver-rig.js';

const named = (peers: string) => BASE.map((l) => (l.startsWith('  peers:') ? `  peers: ${peers}` : l)).join('\n') + '\n';
const TWO = '[{ node: d1, address: 198.51.100.11 }, { node: d2, address: 198.51.100.12 }, { node: d2, address: "203.0.113.12:695" }]';

t.test('config: named peers resolve with their node, one entry per path', async (t) => {
  const c = parse(named(TWO));
  t.same(c.heartbeat.peers, [
    { address: '198.51.100.11', port: 694, node: 'd1' },
    { address: '198.51.100.12', port: 694, node: 'd2' },
    { address: '203.0.113.12', port: 695, node: 'd2' },
  ]);
  t.equal(peerNodeCount(c.heartbeat.peers), 2, 'two nodes, three paths');
  t.equal(peerNodeCount(parse(named('[198.51.100.11, 198.51.100.12]')).heartbeat.peers), 2, 'unnamed: one node per address');
  t.same(parse(renderConfig(c)).heartbeat.peers, c.heartbeat.peers, 'the effective configuration reads back the same');
});

t.test('config: bad peer entries are refused where they are', async (t) => {
  const cases: [string, string, RegExp][] = [
    ['[{ node: d1, address: 198.51.100.11 }, 198.51.100.12]', 'heartbeat.peers[1]', /name every peer .* or none/],
    ['[{ node: d0, address: 198.51.100.11 }]', 'heartbeat.peers[0]', /a node other than this one \(d0\)/],
    ['[{ node: "d 1", address: 198.51.100.11 }]', 'heartbeat.peers[0]', /node is a name of 1\.\.63/],
    ['[{ node: d1 }]', 'heartbeat.peers[0]', /the keys node and address/],
    ['[{ node: d1, address: nowhere }]', 'heartbeat.peers[0]', /address is a peer address/],
  ];
  for (const [peers, path, expected] of cases) {
    const issues = issuesOf(named(peers));
    t.equal(issues.length, 1, `${peers}: one issue (${JSON.stringify(issues)})`);
    t.equal(issues[0]?.path, path, `${peers}: at ${path}`);
    t.equal(issues[0]?.line, 4, `${peers}: on line 4`);
    t.match(issues[0]?.expected, expected, `${peers}: says what is expected`);
  }
});

t.test('config: quorum counts nodes, not paths', async (t) => {
  const one = named('[{ node: d1, address: 198.51.100.11 }, { node: d1, address: 203.0.113.11 }]') + 'quorum: true\n';
  t.match(issuesOf(one)[0], { path: 'quorum', expected: /names 1 node$/ }, 'one node on two paths is not enough for quorum');
  t.equal(parse(named(TWO) + 'quorum: true\n').quorum, true, 'two named nodes are');
});

t.test('identity: named peers speak only as themselves, from their own addresses', async (t) => {
  const id = new PeerIdentity(parse(named(TWO)).heartbeat);
  t.ok(id.admit('d1', '198.51.100.11'), 'd1 from its address');
  t.ok(id.admit('d2', '203.0.113.12'), 'd2 from its second path');
  t.notOk(id.admit('d1', '198.51.100.12'), 'd1 from d2\'s address');
  t.notOk(id.admit('d9', '198.51.100.11'), 'an unconfigured name, whatever the address');
  t.equal(id.capacity, 2);
  t.same([...(id.names() ?? [])], ['d1', 'd2']);
});

t.test('identity: unnamed peers admit first-come names up to the number of peers', async (t) => {
  const id = new PeerIdentity(parse(named('[198.51.100.11, 198.51.100.12]')).heartbeat);
  t.equal(id.names(), null);
  t.ok(id.admit('a', '198.51.100.11'));
  t.ok(id.admit('b', '198.51.100.12'));
  t.ok(id.admit('a', '198.51.100.99'), 'a known name from anywhere (cannot be bound)');
  t.notOk(id.admit('c', '198.51.100.11'), 'a third name is refused: the tables stay bounded');
  const mc = new PeerIdentity({ peers: [], multicast: '239.255.6.94' });
  for (let i = 0; i < MAX_UNNAMED; i++) mc.admit(`n${i}`, '198.51.100.1');
  t.notOk(mc.admit('one-too-many', '198.51.100.1'), `multicast without names: at most ${MAX_UNNAMED}`);
});

t.test('driver: 300 invented names are dropped as unknown-peer; the peer table holds the configured nodes', async (t) => {
  const r = rig(parse(named(TWO)));
  r.driver.start();
  const beat = (node: string, address: string, seq: bigint) => {
    const msg: Message = { type: 'heartbeat', cluster: 'lb1', node, bootId: 9n, seq, intervalMs: 100, groups: [{ name: 'web', state: 'standby', priority: 50, reach: 0 }] };
    r.deliver({ data: encode(msg, KEY), address, port: 694 });
  };
  beat('d1', '198.51.100.11', 1n);
  for (let i = 0; i < 300; i++) beat(`x${i}`, '198.51.100.11', 1n);
  beat('d2', '198.51.100.11', 1n); // a configured name from the wrong path
  beat('d1', '198.51.100.11', 2n);
  t.equal(r.driver.drops.snapshot()['unknown-peer'], 301, 'every invented or misplaced sender counted');
  t.same([...r.driver.stats.receivedByPeer.keys()], ['d1'], 'only d1 reached the core');
  t.equal(r.driver.stats.received, 2, 'd1 is still heard after the flood of names');
});

/** The peer table with redundant paths: a peer dies only when every path is silent or refused. */
import t from 'tap';
import { PeerTable } from '../../src/core/peers.js';
import type { Message } from '../../src/wire/types.js';

const msg = (seq: bigint, bootId = 1n): Message => ({ type: 'heartbeat', cluster: 'c', node: 'd1', bootId, seq, intervalMs: 50, groups: [] });

t.test('one path: dead after the dead time, or at once on ICMP unreachable', async (t) => {
  const pt = new PeerTable(150);
  t.equal(pt.record(msg(1n), 'a', 694, 0), 'new');
  t.equal(pt.alive(149).length, 1);
  t.equal(pt.alive(150).length, 0);
  t.equal(pt.nextDeadline(10), 150);
  t.same(pt.markUnreachable('a', 20), ['d1']);
  t.equal(pt.alive(21).length, 0);
  t.equal(pt.record(msg(2n), 'a', 694, 30), 'returned', 'heard again after being declared dead');
  t.equal(pt.alive(31).length, 1);
});

t.test('two paths: one silent or refused path is a warning, not a death', async (t) => {
  const pt = new PeerTable(150);
  pt.record(msg(1n), 'a', 694, 0);
  pt.record(msg(2n), 'b', 694, 0);
  pt.record(msg(3n), 'a', 694, 100); // b goes quiet after 0
  t.same(pt.pathChanges(140), [], 'b not yet silent');
  t.same(pt.pathChanges(160), [{ node: 'd1', address: 'b', silent: true }]);
  t.same(pt.pathChanges(170), [], 'warned once');
  t.equal(pt.alive(200).length, 1, 'alive on path a');
  t.equal(pt.nextDeadline(200), 250, 'dies with its last path');
  t.same(pt.markUnreachable('a', 210), ['d1'], 'a refused and b silent: dead');
  pt.record(msg(4n), 'b', 694, 220);
  t.same(pt.pathChanges(221), [{ node: 'd1', address: 'a', silent: true }, { node: 'd1', address: 'b', silent: false }], 'alive on b, a (refused) now the silent one');
  t.same(pt.markUnreachable('b', 222), ['d1'], 'both paths refused: dead');
});

t.test('a restart forgets the old paths', async (t) => {
  const pt = new PeerTable(150);
  pt.record(msg(1n), 'a', 694, 0);
  pt.record(msg(2n), 'b', 694, 0);
  t.equal(pt.record(msg(1n, 2n), 'a', 694, 10), 'restarted');
  t.equal(pt.get('d1')!.paths.size, 1);
});

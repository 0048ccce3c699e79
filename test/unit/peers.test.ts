/** The peer table with redundant paths: a peer dies only when every path is silent or refused. */
import t from 'tap';
import { PeerTable } from '../../src/core/peers.js';
import type { Message } from '../../src/wire/types.js';
import { DEFAULTS } from '../../src/config/defaults.js';

const msg = (seq: bigint, bootId = 1n): Message => ({ type: 'heartbeat', cluster: 'c', node: 'd1', bootId, seq, intervalMs: 50, groups: [] });

t.test('one path: dead after the dead time, or when a probe after ICMP unreachable goes unanswered', async (t) => {
  const pt = new PeerTable(150);
  t.equal(pt.record(msg(1n), 'a', 694, 0).kind, 'new');
  t.equal(pt.alive(149).length, 1);
  t.equal(pt.alive(150).length, 0);
  t.equal(pt.nextDeadline(10), 150);
  t.same(pt.livenessChanges(150), [{ node: 'd1', silentMs: 150, confirmMs: null, refused: false }], 'the death is reported once');
  t.same(pt.livenessChanges(151), []);
  t.equal(pt.record(msg(2n), 'a', 694, 160).kind, 'returned', 'heard again after being declared dead');
  t.same(pt.markUnreachable('a', 170), { hinted: ['d1'], ignored: [] });
  t.ok(pt.needsConfirmProbe(170));
  t.equal(pt.alive(171).length, 1, 'a hint alone kills nothing');
  pt.probeSent(172);
  t.notOk(pt.needsConfirmProbe(172));
  t.equal(pt.nextDeadline(172), 172 + DEFAULTS.election.confirmFloor, 'the answer is due');
  t.equal(pt.alive(175).length, 1);
  t.equal(pt.alive(176).length, 0, 'no answer: dead');
  t.same(pt.livenessChanges(176), [{ node: 'd1', silentMs: 16, confirmMs: DEFAULTS.election.confirmFloor, refused: false }]);
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
  pt.markUnreachable('a', 210);
  pt.probeSent(210);
  const bound = pt.confirmMs(pt.get('d1')!, 210);
  t.equal(bound, 75, 'heard 50 ms late on a: the bound is 4 + 2 x 50, capped at half the dead time');
  t.equal(pt.alive(210 + bound).length, 0, 'a refused and b silent: dead');
  pt.record(msg(4n), 'b', 694, 290);
  t.same(pt.pathChanges(291), [{ node: 'd1', address: 'a', silent: true }, { node: 'd1', address: 'b', silent: false }], 'alive on b, a (refused) now the silent one');
  pt.markUnreachable('b', 292);
  pt.probeSent(292);
  t.equal(pt.alive(292 + pt.confirmMs(pt.get('d1')!, 292)).length, 0, 'both paths refused: dead');
});

t.test('a restart forgets the old paths', async (t) => {
  const pt = new PeerTable(150);
  pt.record(msg(1n), 'a', 694, 0);
  pt.record(msg(2n), 'b', 694, 0);
  t.equal(pt.record(msg(1n, 2n), 'a', 694, 10).kind, 'restarted');
  t.equal(pt.get('d1')!.paths.length, 1);
});

t.test('probe rounds: answered when the peer is heard again alive, unanswered when it is declared dead', async (t) => {
  const pt = new PeerTable(150);
  pt.record(msg(1n), 'a', 694, 0);
  const rounds = () => { const p = pt.get('d1')!; return [p.probesAnswered, p.probesUnanswered]; };
  pt.record(msg(2n), 'a', 694, 50);
  t.same(rounds(), [0, 0], 'a heartbeat without a probe out is no round');
  pt.probeSent(120);
  pt.probeSent(130);
  pt.record(msg(3n), 'a', 694, 131);
  t.same(rounds(), [1, 0], 'two probes, one round: answered');
  pt.probeSent(200);
  t.same(pt.livenessChanges(281).map((d) => d.node), ['d1']);
  t.same(rounds(), [1, 1], 'dead with a probe out: unanswered');
  pt.record(msg(4n), 'a', 694, 300);
  t.same(rounds(), [1, 1], 'heard again after death: that round was already counted');
  pt.probeSent(400);
  pt.record(msg(1n, 2n), 'a', 694, 410);
  t.same(rounds(), [1, 1], 'a restart (new boot) keeps the counts');
});

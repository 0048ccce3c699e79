// The pure analysis of the LevIP namespace drill (test/netns/levip-analyze.ts), on synthetic
// records: shares of the answers, how closely the client's ARP entry followed the rotation,
// whole-cycle windows, and members read back from agent logs.
import t from 'tap';
import type { ProbeResult } from '../netns/analyze.js';
import { cycleWindow, membersFromLog, rotationFit, shareWindow } from '../netns/levip-analyze.js';

function probe(sentAt: number[], by: (string | null)[]): ProbeResult {
  const replies = sentAt.flatMap((at, seq) => (by[seq] ? [{ seq, sentAt: at, recvAt: at + 1, by: by[seq]! }] : []));
  return { vip: '198.51.100.100', intervalMs: 10, startedAt: 0, stoppedAt: 0, sentAt, replies, arp: [], tcp: [], sendErrors: 0 };
}

t.test('shareWindow: answers per leveler in the window, against the weight shares', async (t) => {
  const sentAt = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90];
  const by = ['a', 'a', 'b', null, 'a', 'c', 'a', 'b', 'c', 'a'];
  const w = shareWindow(probe(sentAt, by), 10, 90, new Map([['a', 2], ['b', 1], ['c', 1]]));
  t.equal(w.answered, 7);
  t.equal(w.unanswered, 1);
  t.same(w.shares.map((s) => [s.node, s.answers, Math.round(s.pct), s.expectedPct]), [['a', 3, 43, 50], ['b', 2, 29, 25], ['c', 2, 29, 25]]);
  t.ok(Math.abs(w.worstPp - (50 - (100 * 3) / 7)) < 1e-9);
});

t.test('rotationFit: time off the owner and lateness of each switch', async (t) => {
  const owner = (k: number) => (k % 2 === 0 ? 'mac-a' : 'mac-b');
  const arp = [
    { at: 950, mac: 'mac-a' }, // before the window: the state it starts from
    { at: 1010, mac: 'mac-b' }, // slot 1 (owner b) switched 10 ms late
    { at: 2030, mac: 'mac-a' }, // slot 2 (owner a) 30 ms late
    { at: 2500, mac: 'mac-b' }, // a stale flip for 100 ms
    { at: 2600, mac: 'mac-a' },
    // slot 3 (owner b): never switched
  ];
  const fit = rotationFit(arp, 1000, 4000, 1000, owner);
  t.equal(fit.slots, 3);
  t.equal(fit.switchLate.n, 3);
  t.equal(fit.switchLate.median, 10, 'over the switches that happened');
  t.equal(fit.switchLate.max, Infinity, 'a slot whose owner never appeared');
  t.ok(Math.abs(fit.offOwnerPct - (100 * (10 + 30 + 100 + 1000)) / 3000) < 1e-9);
});

t.test('cycleWindow: whole cycles from the next cycle boundary', async (t) => {
  t.same(cycleWindow(2100, 5000, new Map([['a', 2], ['b', 1], ['c', 1]]), 500), { from: 4000, to: 8000 });
  t.same(cycleWindow(4000, 100, new Map([['a', 1]]), 500), { from: 4000, to: 4500 }, 'at least one cycle');
});

t.test('membersFromLog: joins and leaves in order; a later join replaces the slot', async (t) => {
  const line = (msg: string, peer: string, since?: number) => JSON.stringify({ level: 30, msg, peer, since });
  const log = [
    line('levip: a joins the rotation from slot 10', 'a', 10),
    line('levip: b joins the rotation from slot 11', 'b', 11),
    'not json',
    line('peer b heard', 'b'),
    line('levip: b leaves the rotation', 'b'),
    line('levip: a joins the rotation from slot 20 (heard again, same boot)', 'a', 20),
  ].join('\n');
  t.same([...membersFromLog(log)], [['a', 20]]);
});

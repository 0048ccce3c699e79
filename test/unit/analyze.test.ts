import t from 'tap';
import fc from 'fast-check';
import {
  answerRuns,
  arpChangeAfter,
  dualAnswerWindows,
  firstAnswers,
  firstGarp,
  garpsFor,
  median,
  monitorTime,
  outage,
  parseTcpdumpArp,
  percentile,
  summarize,
  type ProbeReply,
} from '../../test/netns/analyze.js';

const T0 = 1_000_000;
const IV = 2;

/** n probes every IV ms from T0; who(seq) names the responder, or null for "lost". */
function series(n: number, who: (seq: number) => string | null, rtt = 0.3): { sentAt: number[]; replies: ProbeReply[] } {
  const sentAt = Array.from({ length: n }, (_, i) => T0 + i * IV);
  const replies: ProbeReply[] = [];
  sentAt.forEach((s, seq) => {
    const by = who(seq);
    if (by) replies.push({ seq, sentAt: s, recvAt: s + rtt, by });
  });
  return { sentAt, replies };
}

t.test('outage spans the answered probes that frame the gap after the fault', async (t) => {
  // d0 answers 0..49, 50..59 lost, d1 answers from 60: gap framed by sentAt[49] and sentAt[60].
  const { sentAt, replies } = series(100, (s) => (s < 50 ? 'd0' : s < 60 ? null : 'd1'));
  const r = outage(sentAt, replies, T0 + 50 * IV, IV);
  t.equal(r.outageMs, 11 * IV);
  t.equal(r.lost, 10);
  t.same(r.lastBefore, { seq: 49, sentAt: sentAt[49], by: 'd0' });
  t.same(r.firstAfter, { seq: 60, sentAt: sentAt[60], by: 'd1' });
});

t.test('outage picks the longest gap at/after the fault and ignores earlier gaps', async (t) => {
  const lostSet = new Set([5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 30, 31, 40, 41, 42, 43]);
  const { sentAt, replies } = series(60, (s) => (lostSet.has(s) ? null : 'd0'));
  // the 10-probe gap at 5..14 starts before the fault at probe 29 and must not count.
  const r = outage(sentAt, replies, T0 + 29 * IV, IV);
  t.equal(r.lost, 4);
  t.equal(r.outageMs, 5 * IV);
  t.equal(r.lastBefore?.seq, 39);
});

t.test('a probe in flight one interval before the fault still belongs to the outage', async (t) => {
  const { sentAt, replies } = series(40, (s) => (s >= 19 && s < 25 ? null : 'd0'));
  t.equal(outage(sentAt, replies, T0 + 20 * IV, IV).lost, 6, 'gap starting at fault - interval counts');
  t.equal(outage(sentAt, replies, T0 + 21 * IV, IV).lost, 0, 'gap starting two intervals early does not');
});

t.test('no gap after the fault means zero outage; no recovery means Infinity', async (t) => {
  const all = series(30, () => 'd0');
  t.same(outage(all.sentAt, all.replies, T0 + 10 * IV, IV), { outageMs: 0, lost: 0, lastBefore: null, firstAfter: null });
  const dead = series(30, (s) => (s < 10 ? 'd0' : null));
  const r = outage(dead.sentAt, dead.replies, T0 + 10 * IV, IV);
  t.equal(r.outageMs, Infinity);
  t.equal(r.lost, 20);
  t.equal(r.firstAfter, null);
});

t.test('property: one gap of k lost probes after the fault measures (k + 1) intervals', async (t) => {
  const gapOfK = fc.property(
    fc.integer({ min: 1, max: 200 }),
    fc.integer({ min: 1, max: 100 }),
    fc.integer({ min: 1, max: 50 }),
    (start, k, tail) => {
      const n = start + k + tail;
      const { sentAt, replies } = series(n, (s) => (s >= start && s < start + k ? null : s < start ? 'a' : 'b'));
      const r = outage(sentAt, replies, sentAt[start], IV);
      return r.lost === k && r.outageMs === (k + 1) * IV && r.lastBefore?.by === 'a' && r.firstAfter?.by === 'b';
    },
  );
  t.doesNotThrow(() => fc.assert(gapOfK));
});

t.test('a probe answered twice counts once, by its earliest reply', async (t) => {
  const replies: ProbeReply[] = [
    { seq: 0, sentAt: 0, recvAt: 1.5, by: 'd1' },
    { seq: 0, sentAt: 0, recvAt: 0.5, by: 'd0' },
  ];
  t.equal(firstAnswers(replies).get(0)?.by, 'd0');
});

t.test('answerRuns lists responders in send order', async (t) => {
  const { replies } = series(10, (s) => (s < 3 ? 'd0' : s < 5 ? null : s < 8 ? 'd1' : 'd0'));
  t.same(
    answerRuns(replies).map((r) => [r.by, r.count]),
    [['d0', 3], ['d1', 3], ['d0', 2]],
  );
});

t.test('arpChangeAfter finds the first change at/after the fault, optionally to a MAC', async (t) => {
  const arp = [
    { at: 10, mac: '02:00:00:00:00:10' },
    { at: 50, mac: null },
    { at: 60, mac: '02:00:00:00:00:11' },
  ];
  t.same(arpChangeAfter(arp, 20), { at: 50, mac: null });
  t.same(arpChangeAfter(arp, 20, '02:00:00:00:00:11'), { at: 60, mac: '02:00:00:00:00:11' });
  t.same(arpChangeAfter(arp, 20, '02:00:00:00:00:AA'), null);
  t.same(arpChangeAfter(arp, 61), null);
});

t.test('dualAnswerWindows counts send-time windows with two responders from the new active\'s first answered request', async (t) => {
  const r = (seq: number, sentAt: number, by: string, recvAt = sentAt + 0.2): ProbeReply => ({ seq, sentAt, recvAt, by });
  const replies = [
    r(0, 100, 'd0'), // sent before d1's first answered request: ignored
    r(1, 103, 'd0', 108), // sent before the move, answered late by the stopping d0: no symptom
    r(2, 104, 'd1'), // t0 = 104
    r(3, 105, 'd0'), // sent after the move, answered by d0: window 0 has d1 and d0
    r(4, 115, 'd1'), // window 1 only d1
    r(5, 126, 'd1'),
    r(6, 129, 'd0'), // window 2 has both
  ];
  t.equal(dualAnswerWindows(replies, 'd1', 10), 2);
  t.equal(dualAnswerWindows(replies.filter((x) => x.seq !== 3 && x.seq !== 6), 'd1', 10), 0, 'a late answer to an earlier request is not counted');
  t.equal(dualAnswerWindows(replies, 'd9', 10), 0, 'no answer from the named node');
  t.equal(dualAnswerWindows(replies.filter((x) => x.by === 'd1'), 'd1'), 0);
});

t.test('percentiles use nearest rank and skip non-finite samples', async (t) => {
  const xs = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
  t.equal(median(xs), 5);
  t.equal(percentile(xs, 90), 9);
  t.equal(percentile(xs, 100), 10);
  t.equal(percentile(xs, 0), 1);
  t.ok(Number.isNaN(median([])));
  t.same(summarize([3, 1, 2]), { n: 3, median: 2, p90: 3, max: 3 });
  t.equal(summarize([1, Infinity]).max, Infinity, 'a never-ending outage shows in max');
  t.equal(summarize([1, Infinity]).median, 1);
});

// Lines as printed by `tcpdump -i eth0 -n -l -e -tt arp` (iputils arping -U / -A, and a normal exchange).
const LINES = [
  '1795438822.778452 02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 198.51.100.100 tell 198.51.100.1, length 28',
  '1795438822.778493 02:00:00:00:00:10 > 02:00:00:00:00:01, ethertype ARP (0x0806), length 42: Reply 198.51.100.100 is-at 02:00:00:00:00:10, length 28',
  '1795438822.878982 02:00:00:00:00:10 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 198.51.100.100 (ff:ff:ff:ff:ff:ff) tell 198.51.100.100, length 28',
  '1795438822.880586 02:00:00:00:00:10 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Reply 198.51.100.100 is-at 02:00:00:00:00:10, length 28',
  'tcpdump: verbose output suppressed, use -v[v]... for full protocol decode',
  '',
];

t.test('parseTcpdumpArp reads requests, replies and marks gratuitous ones', async (t) => {
  const frames = LINES.map(parseTcpdumpArp);
  t.equal(frames[4], null);
  t.equal(frames[5], null);
  t.match(frames[0], { op: 'request', ip: '198.51.100.100', senderIp: '198.51.100.1', gratuitous: false });
  t.match(frames[1], { op: 'reply', isAt: '02:00:00:00:00:10', dstMac: '02:00:00:00:00:01', gratuitous: false });
  t.match(frames[2], { op: 'request', srcMac: '02:00:00:00:00:10', gratuitous: true });
  t.match(frames[3], { op: 'reply', dstMac: 'ff:ff:ff:ff:ff:ff', gratuitous: true });
  t.ok(Math.abs((frames[0]?.at ?? 0) - 1795438822778.452) < 0.01, 'timestamp in epoch ms');
  const garps = garpsFor(frames.filter((f) => f !== null), '198.51.100.100');
  t.same(garps.map((f) => f.op), ['request', 'reply']);
  t.same(garpsFor(frames.filter((f) => f !== null), '198.51.100.7'), []);
});

t.test('firstGarp: the first gratuitous ARP from one MAC at/after a time, microseconds kept', async (t) => {
  const frames = LINES.map(parseTcpdumpArp).filter((f) => f !== null);
  const vip = '198.51.100.100';
  const d0 = '02:00:00:00:00:10';
  const g = firstGarp(frames, vip, d0, 1795438822778.5);
  t.equal(g?.op, 'request', 'the request form came first; the unicast reply before it is no GARP');
  t.ok(Math.abs((g?.at ?? 0) - 1795438822878.982) < 0.0005, 'the capture stamp, to the microsecond');
  t.equal(firstGarp(frames, vip, d0.toUpperCase(), 1795438822879)?.op, 'reply', 'later: the broadcast reply; MAC case does not matter');
  t.equal(firstGarp(frames, vip, '02:00:00:00:00:11', 0), null, 'nothing from another MAC');
  t.equal(firstGarp(frames, vip, d0, 1795438822881), null, 'nothing after the last one');
  t.equal(firstGarp(frames, '198.51.100.1', '02:00:00:00:00:01', 0), null, "the client's own request is not gratuitous");
  t.equal(firstGarp([...frames].reverse(), vip, d0, 0)?.op, 'request', 'the earliest, whatever the order of the lines');
});

t.test('monitorTime reads the stamp of `ip -ts monitor` (local wall clock) to the microsecond', async (t) => {
  const at = monitorTime('[2026-12-02T07:19:16.578461] 3: eth0    inet 198.51.100.100/32 scope global eth0');
  t.ok(Math.abs((at ?? 0) - (new Date(2026, 11, 2, 7, 19, 16).getTime() + 578.461)) < 0.0005);
  t.equal(monitorTime('[2026-12-02T07:19:16] Deleted 3: eth0    inet 198.51.100.100/32'), new Date(2026, 11, 2, 7, 19, 16).getTime(), 'no fraction');
  t.equal(monitorTime('3: eth0    inet 198.51.100.100/32 scope global eth0'), null, 'no stamp, no time');
  t.equal(monitorTime('[not a time] 3: eth0'), null);
});

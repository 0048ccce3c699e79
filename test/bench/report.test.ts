/**
 * The bench's pure parts: the VIP timeline maths, /proc parsing, duration text, summaries and
 * tables. No namespaces, no clock.
 */
import t from 'tap';
import { acquisitions, firstAcquisition, holdersAt, MonitorMerge, overlapEpisodes, overlapMs, singleHolderSince, type VipEvent } from './timeline.js';
import { cpuPercent, parseRssKb, parseTicks } from './procstat.js';
import { formatMs, parseDuration } from './settings.js';
import { parseMonitorLine } from './vipwatch.js';
import { crashTable, fmt, garpTable, outageTable, ratio, ratioTable, saturatedTable, saturatedTarget, summarizeCell, type SaturatedRun } from './report.js';
import { lossTable, lossTarget, type LossRecord } from './report-loss.js';
import { garpFigures } from './garp.js';
import { parseTcpdumpArp, type ArpFrame } from '../netns/analyze.js';
import { busyPercent, parseCpuLine } from './machine.js';
import { masterDownMs } from '../netns/agents/keepalived.js';
import { ucarpDownMs } from '../netns/agents/ucarp.js';
import type { RoundRecord } from './rounds.js';

const ev = (at: number, host: string, present: boolean): VipEvent => ({ at, host, present });

// d0 holds from 0; d1 takes it at 100; d0 lets go at 130; d0 back at 500, d1 gone at 520.
const story: VipEvent[] = [ev(0, 'd0', true), ev(0, 'd1', false), ev(100, 'd1', true), ev(130, 'd0', false), ev(500, 'd0', true), ev(520, 'd1', false)];

t.test('timeline: holders, overlap, acquisitions, single holder', async (t) => {
  t.same(holdersAt(story, 50), ['d0']);
  t.same(holdersAt(story, 100), ['d0', 'd1'], 'an event at t counts at t');
  t.same(holdersAt(story, 200), ['d1']);
  t.equal(overlapMs(story, 0, 1000), 30 + 20, 'two windows of double holding');
  t.equal(overlapMs(story, 110, 510), 20 + 10, 'clipped to the window on both sides');
  t.equal(overlapMs(story, 200, 400), 0);
  t.equal(overlapMs(story, 400, 300), 0, 'empty window');
  t.equal(acquisitions(story, 0, 1000), 3, 'the initial state at 0 is an acquisition, so is d0 coming back');
  t.equal(acquisitions(story, 1, 1000), 2, 'd1 at 100 and d0 at 500');
  t.equal(acquisitions(story, 101, 499), 0);
  t.equal(singleHolderSince(story, 100), 130);
  t.equal(singleHolderSince(story, 200), 200, 'already single');
  t.equal(singleHolderSince([ev(0, 'd0', true), ev(0, 'd1', true)], 10), null, 'never single');
  t.equal(overlapMs([ev(5, 'd0', true), ev(5, 'd1', true)], 0, 10), 5, 'still double at the end of the window');
});

t.test('timeline: dual-VIP episodes and first acquisitions', async (t) => {
  t.equal(overlapEpisodes(story, 0, 1000), 2, '100-130 and 500-520');
  t.equal(overlapEpisodes(story, 110, 510), 2, 'one under way when the window opens counts');
  t.equal(overlapEpisodes(story, 200, 400), 0);
  t.equal(overlapEpisodes(story, 520, 1000), 0, 'an episode ending exactly at the start is over');
  t.equal(overlapEpisodes(story, 50, 100), 0, 'an episode starting exactly at the end has no length in the window');
  t.equal(overlapEpisodes([ev(0, 'd0', true), ev(10, 'd1', true), ev(10, 'd0', false)], 0, 100), 0, 'a move stamped in one instant is no episode');
  t.equal(overlapEpisodes([ev(0, 'd0', true), ev(10, 'd1', true), ev(20, 'd1', false), ev(30, 'd1', true), ev(40, 'd0', false)], 0, 100), 2);
  t.equal(overlapEpisodes(story, 400, 300), 0, 'empty window');
  t.equal(firstAcquisition(story, 'd1', 0)?.at, 100);
  t.equal(firstAcquisition(story, 'd0', 0)?.at, 0, 'held from the start counts at the start');
  t.equal(firstAcquisition(story, 'd0', 1)?.at, 500, 'still holding is no acquisition; coming back is');
  t.equal(firstAcquisition(story, 'd1', 600), null);
  const replaced = [ev(0, 'd1', true), ev(50, 'd1', true)];
  t.equal(firstAcquisition(replaced, 'd1', 10), null, 'a repeated add (ip addr replace) of a held VIP is no acquisition');
});

t.test('several monitors of one host: one event each, the earliest stamp, the spread', async (t) => {
  const m = new MonitorMerge();
  m.add('d1', 0, true, 100.25, 130);
  m.add('d1', 1, true, 117.5, 131); // read 17 ms late
  m.add('d1', 2, true, 100.5, 132);
  m.add('d0', 0, false, 101, 133);
  m.add('d1', 1, false, 200.75, 210); // monitor 1 reports the delete first
  m.add('d1', 0, false, 200.5, 211);
  t.equal(m.events.length, 3, 'three kernel events');
  t.same(m.events[0], { at: 100.25, host: 'd1', present: true, ipStamp: true, spreadMs: 17.25 });
  t.same(m.events[2], { at: 200.5, host: 'd1', present: false, ipStamp: true, spreadMs: 0.25 });
  m.add('d1', 2, true, 300, 301); // monitor 2's second report is an add: it lost the delete
  t.equal(m.dropped, 1, 'a monitor out of step is left out');
  m.add('d1', 2, false, 400, 401);
  t.equal(m.events.length, 3, 'and nothing it says counts any more');
  m.add('d0', 0, true, null, 500);
  t.same(m.events[3], { at: 500, host: 'd0', present: true }, 'no stamp: the arrival time, not marked as ip-stamped');
});

t.test('ip monitor lines', async (t) => {
  const at = Date.parse('2026-12-02T07:19:16') + 578.461;
  const added = parseMonitorLine('[2026-12-02T07:19:16.578461] 3: eth0    inet 198.51.100.100/32 scope global eth0');
  t.equal(added?.present, true);
  t.ok(Math.abs((added?.at ?? 0) - at) < 0.001, 'ip -ts stamp kept to the microsecond');
  t.same(parseMonitorLine('[2026-12-02T07:19:16.721151] Deleted 3: eth0    inet 198.51.100.100/32 scope global eth0')?.present, false, 'a stamped delete');
  t.equal(parseMonitorLine('2: eth0    inet 198.51.100.100/32 scope global eth0')?.at, null, 'no stamp, no time');
  t.same(parseMonitorLine('2: eth0    inet 198.51.100.100/32 scope global eth0'), { present: true, at: null });
  t.same(parseMonitorLine('Deleted 2: eth0    inet 198.51.100.100/32 scope global eth0'), { present: false, at: null });
  t.equal(parseMonitorLine('2: eth0    inet 198.51.100.10/24 scope global eth0'), null, 'another address');
  t.equal(parseMonitorLine('       valid_lft forever preferred_lft forever'), null);
  t.equal(parseMonitorLine('2: eth0    inet 198.51.100.1000/32'), null, 'not a prefix match');
});

t.test('/proc parsing and CPU maths', async (t) => {
  t.equal(parseRssKb('Name:\tnode\nVmRSS:\t   74512 kB\nThreads: 7\n'), 74512);
  t.equal(parseRssKb('Name:\tkthreadd\nThreads: 1\n'), 0, 'no VmRSS line');
  // pid (comm with ") (" inside) state ppid ... utime stime cutime cstime at fields 14-17.
  const stat = '42 (we ird) (name) S 1 42 42 0 -1 4194560 100 0 0 0 7 3 2 1 20 0 1 0 5 0 0';
  t.equal(parseTicks(stat), 7 + 3 + 2 + 1);
  t.equal(cpuPercent({ rssKb: 0, ticks: 100 }, { rssKb: 0, ticks: 130 }, 10, 100), 3, '30 ticks at 100 Hz in 10 s = 3 %');
  t.ok(Number.isNaN(cpuPercent({ rssKb: 0, ticks: 0 }, { rssKb: 0, ticks: 1 }, 0)), 'no window, no figure');
});

t.test('durations and agent timers', async (t) => {
  t.equal(parseDuration('30ms'), 30);
  t.equal(parseDuration('1.5s'), 1500);
  t.equal(parseDuration('2m'), 120000);
  t.equal(parseDuration('250'), 250);
  t.throws(() => parseDuration('fast'));
  t.equal(formatMs(2000), '2s');
  t.equal(formatMs(1500), '1500ms');
  t.equal(formatMs(30), '30ms');
  // RFC 5798 6.1: 3 x 1 s + (256 - 100) x 1 s / 256.
  t.equal(masterDownMs(1, 100), 3609.375);
  t.equal(masterDownMs(0.01, 100), 36.09375);
  t.equal(ucarpDownMs({ advbase: 1, deadratio: 3 }, 0), 3000);
});

const rec = (over: Partial<RoundRecord>): RoundRecord => ({
  cell: 'a', row: 'crash', rep: 1, outageMs: 10, lost: 1, arpMs: 12, dualAnswerWindows: 0, dualVipMs: 0,
  resolveMs: null, vipLeft: true, vipAfterCleanup: false, garpMs: 5, vipToGarpMs: 0.4, vipStampSpreadMs: 0.1, garpBeforeVip: false, holder: 'd1', ok: true, note: '', ...over,
});

t.test('summaries and tables', async (t) => {
  const s = summarizeCell([rec({ outageMs: 10 }), rec({ outageMs: 30, vipLeft: false }), rec({ outageMs: Infinity, arpMs: null, ok: false, note: 'x' })]);
  t.equal(s.n, 3);
  t.equal(s.outage.median, 30, 'nearest-rank median, the never-ending outage ranked last');
  t.equal(s.outage.max, Infinity, 'an outage that never ended makes max "never"');
  t.equal(s.failed, 1);
  t.equal(s.vipLeft, 2);
  t.same(s.notes, ['x']);
  t.equal(fmt(Infinity), 'never');
  t.equal(fmt(NaN), '-');
  const table = outageTable([s]);
  t.match(table, /\| crash \| a\s+\|\s+3 \|\s+30 \/ never \/ never \|/);
  const b = summarizeCell([rec({ cell: 'b', outageMs: 60 })]);
  t.match(ratioTable([s, b], ['crash'], [['a', 'b']]), /\| crash \|\s+0\.50 \|/);
  t.match(ratioTable([s], ['crash'], [['a', 'b']]), /\| crash \|\s+- \|/, 'a missing side prints -');
  t.equal(ratio(0, 0), 'both 0');
  t.equal(ratio(5, 0), 'inf');
  t.equal(ratio(5, 10), '0.50');
});

t.test('crash rows: both variants', async (t) => {
  const table = crashTable([summarizeCell([rec({})]), summarizeCell([rec({ row: 'crash-svc', vipLeft: false })]), summarizeCell([rec({ row: 'planned' })])]);
  t.match(table, /\| crash\s+\| a\s+\|\s+1\/1 \|\s+0\/1 \|/);
  t.match(table, /\| crash-svc \| a\s+\|\s+0\/1 \|\s+0\/1 \|/);
  t.notMatch(table, /planned/);
});

// The client's capture (tcpdump -tt, microseconds) and d1's VIP timeline around a fault at T.
const T = 1_795_438_822_000;
const tcp = (dt: number, mac: string, rest: string): string =>
  `${((T + dt) / 1000).toFixed(6)} ${mac} > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: ${rest}, length 28`;
const D0 = '02:00:00:00:00:10';
const D1 = '02:00:00:00:00:11';
const CAPTURE = [
  tcp(-5, D1, 'Request who-has 198.51.100.100 (ff:ff:ff:ff:ff:ff) tell 198.51.100.100'), // before the fault
  tcp(3.1, D1, 'Request who-has 198.51.100.100 (ff:ff:ff:ff:ff:ff) tell 198.51.100.100'), // a late one of an earlier round
  tcp(20.2, D0, 'Reply 198.51.100.100 is-at 02:00:00:00:00:10'), // the other director
  tcp(31.735, D1, 'Reply 198.51.100.100 is-at 02:00:00:00:00:11'), // d1's first once it holds the VIP
  tcp(52, D1, 'Request who-has 198.51.100.100 (ff:ff:ff:ff:ff:ff) tell 198.51.100.100'),
];
const FRAMES = CAPTURE.map(parseTcpdumpArp).filter((f): f is ArpFrame => f !== null);

t.test('first GARP: from the capture and the ip-stamped VIP timeline', async (t) => {
  const q = { vip: '198.51.100.100', mac: D1, host: 'd1', from: T };
  const events: VipEvent[] = [ev(T - 1000, 'd0', true), ev(T - 1000, 'd1', false), { at: T + 31.323, host: 'd1', present: true, ipStamp: true }];
  const g = garpFigures(FRAMES, events, q);
  t.ok(Math.abs((g.garpMs ?? 0) - 3.1) < 0.001, 'fault -> the first GARP from d1, as the client saw it');
  t.ok(Math.abs((g.vipToGarpMs ?? 0) - 0.412) < 0.001, 'VIP added -> the first GARP once d1 held it, to the microsecond');
  t.equal(g.garpBeforeVip, true, 'the one before the VIP stamp is flagged');
  const clean = garpFigures(FRAMES.filter((f) => f.at > T + 10), events, q);
  t.ok(Math.abs((clean.garpMs ?? 0) - 31.735) < 0.001);
  t.equal(clean.garpBeforeVip, false);
  const late = garpFigures(FRAMES, [{ at: T + 31.323, host: 'd1', present: true }], q);
  t.ok(late.garpMs !== null, 'the GARP is still found');
  t.equal(late.vipToGarpMs, null, 'a VIP time stamped by the harness, not by ip, does not count');
  t.equal(late.garpBeforeVip, null);
  const none = garpFigures(FRAMES, [], q);
  t.ok(Math.abs((none.garpMs ?? 0) - 3.1) < 0.001, 'no acquisition seen: the first GARP after the fault');
  t.equal(none.vipToGarpMs, null);
  t.same(garpFigures(FRAMES, events, { ...q, from: T + 60 }), { garpMs: null, vipToGarpMs: null, vipStampSpreadMs: null, garpBeforeVip: null }, 'no GARP, no acquisition after the event');
  const spread = garpFigures(FRAMES, [{ ...events[2], spreadMs: 12.5 }], q);
  t.equal(spread.vipStampSpreadMs, 12.5, 'the monitors\' spread comes along');
});

t.test('first GARP table: microseconds, never, rounds without one', async (t) => {
  const s = summarizeCell([rec({ garpMs: 31.7, vipToGarpMs: 0.412 }), rec({ garpMs: 29.2, vipToGarpMs: 2.9, garpBeforeVip: true }), rec({ garpMs: null, vipToGarpMs: null })]);
  t.equal(s.noGarp, 1);
  t.equal(s.garpBeforeVip, 1);
  const table = garpTable([s]);
  t.match(table, /\| crash \| a\s+\|\s+3 \|\s+31\.7 \/ never \/ never \|\s+0\.412 \/ 2\.900 \/ 2\.900 \|\s+0\.100 \|\s+1 \|\s+1 \|/, 'a round without a GARP ranks last in the first figure, is left out of the second');
  t.match(garpTable([summarizeCell([rec({ vipToGarpMs: null })])]), /\|\s+- \/ - \/ - \|\s+0\.100 \|\s+0 \|\s+0 \|/, 'no VIP stamp: no figure');
});

t.test('saturated host: table and target', async (t) => {
  const run: SaturatedRun = {
    loops: 2, cores: 2, seconds: 60.02, busyPct: 99.6,
    results: [
      { cell: 'haagent-10-30', switches: 0, dualVipMs: 0, dualEpisodes: 0, holdersAtEnd: ['d0'] },
      { cell: 'haagent-50-150', switches: 2, dualVipMs: 41.5, dualEpisodes: 1, holdersAtEnd: ['d0'] },
      { cell: 'keepalived-fast', switches: 1, dualVipMs: 0, dualEpisodes: 0, holdersAtEnd: ['d1'] },
    ],
  };
  const table = saturatedTable(run);
  t.match(table, /\| haagent-10-30\s+\|\s+60 \|\s+0 \|\s+0 \|\s+0 \|\s+d0 \|\s+100 \|/);
  t.match(table, /\| haagent-50-150\s+\|\s+60 \|\s+2 \|\s+42 \|\s+1 \|\s+d0 \|/);
  const [a, b, c] = saturatedTarget(run, ['haagent-10-30', 'haagent-50-150', 'absent']);
  t.match(a, /: met \(0 switch/);
  t.match(b, /: NOT met \(2 switch\(es\), 42 ms dual in 1 episode/);
  t.match(c, /: not measured$/);
});

const lossRec = (over: Partial<LossRecord>): LossRecord => ({
  cell: 'h', rep: 1, seed: 1001, seconds: 60.01, spurious: 0, dualVipMs: 0, holdersAtStart: ['d0'], holdersAtEnd: ['d0'],
  received: 1200, dropped: 120, delayMinMs: 0.1, delayMaxMs: 9.9, lateMaxMs: 1.5, deadMs: 500, silences: 0, maxGapMs: 310, ok: true, note: '', ...over,
});

t.test('loss row: table and target', async (t) => {
  const runs = (n: number, over: Partial<LossRecord> = {}): LossRecord[] => Array.from({ length: n }, (_, i) => lossRec({ rep: i + 1, ...over }));
  const recs = [
    ...runs(9),
    lossRec({ rep: 10, spurious: 3, dualVipMs: 12, dropped: 240, holdersAtEnd: ['d1'], silences: 2, maxGapMs: 610 }),
    lossRec({ cell: 'x', ok: false, note: 'bring-up failed' }),
  ];
  const table = lossTable(recs, [{ id: 'h' }, { id: 'x' }, { id: 'k', na: 'VRRP is not UDP' }, { id: 'absent' }]);
  // 10 runs, window 60, med 0 / max 3, total 3, both held 12, drop ratio (120*9+240)/12000 = 0.110, range 0.100-0.200,
  // delays, lateness, 2 silences over the dead time, longest gap 610 ms, d0 alone at the end of 9 runs
  t.match(table, /\| h\s+\|\s+10 \|\s+60 \|\s+0 \/ 3 \|\s+3 \|\s+12 \|\s+0\.110 \(0\.100-0\.200\) \|\s+0\.1-9\.9 \|\s+1\.5 \|\s+2 \|\s+610 \|\s+9\/10 \|\s+0 \|/);
  t.match(table, /\| x\s+\|\s+1 \|\s+- \|\s+- \/ - \|\s+0 \|.*\|\s+1 \|$/m, 'a run that never came up counts as not ok, with no figures');
  t.match(table, /\| k\s+\|\s+n\/a \|/, 'a cell that cannot run is n/a');
  t.notMatch(table, /absent/, 'a cell with no records and no reason is left out');

  t.match(lossTarget(recs, 'h', { runs: 10, seconds: 60 }), /: NOT met \(3 in 10 run\(s\) of >= 60 s\)$/);
  t.match(lossTarget(runs(10), 'h', { runs: 10, seconds: 60 }), /: met \(0 in 10 run/);
  t.match(lossTarget(runs(10, { seconds: 59.5 }), 'h', { runs: 10, seconds: 60 }), /: met/, 'timer granularity: 59.5 s counts as 60');
  t.match(lossTarget(runs(10, { seconds: 10 }), 'h', { runs: 10, seconds: 60 }), /: not judged \(0 in 10 run\(s\) of >= 10 s\)/, 'too short to judge');
  t.match(lossTarget(runs(3), 'h', { runs: 10, seconds: 60 }), /: not judged/, 'too few runs to judge');
  t.match(lossTarget([...runs(9), lossRec({ ok: false, spurious: 5 })], 'h', { runs: 10, seconds: 60 }), /: not judged \(0 in 9/, 'runs that did not come up do not count');
  t.match(lossTarget(recs, 'nobody', { runs: 10, seconds: 60 }), /: not measured$/);
});

t.test('/proc/stat: machine CPU busy', async (t) => {
  const a = parseCpuLine('cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 50 0 25 400 25 0 0 0 0 0\n');
  t.same(a, { busy: 150, total: 1000 }, 'idle and iowait are not busy');
  const b = parseCpuLine('cpu  200 0 100 1100 100 0 0 0 0 0\n');
  t.equal(busyPercent(a, b), 30, '150 more busy of 500 more jiffies');
  t.ok(Number.isNaN(busyPercent(a, a)), 'no interval, no figure');
  t.throws(() => parseCpuLine('intr 1 2 3\n'));
});

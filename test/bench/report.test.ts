/**
 * The bench's pure parts: the VIP timeline maths, /proc parsing, duration text, summaries and
 * tables. No namespaces, no clock.
 */
import t from 'tap';
import { acquisitions, holdersAt, overlapMs, singleHolderSince, type VipEvent } from './timeline.js';
import { cpuPercent, parseRssKb, parseTicks } from './procstat.js';
import { formatMs, parseDuration } from './settings.js';
import { parseMonitorLine } from './vipwatch.js';
import { fmt, lossTable, lossTarget, outageTable, ratio, ratioTable, summarizeCell, type LossRecord } from './report.js';
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

t.test('ip monitor lines', async (t) => {
  t.same(parseMonitorLine('2: eth0    inet 198.51.100.100/32 scope global eth0'), { present: true });
  t.same(parseMonitorLine('Deleted 2: eth0    inet 198.51.100.100/32 scope global eth0'), { present: false });
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
  resolveMs: null, vipLeft: true, vipAfterCleanup: false, holder: 'd1', ok: true, note: '', ...over,
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

// The pure half of health tracking: rise/fall, hold-down, how states count, effect and summary.
import t from 'tap';
import fc from 'fast-check';
import {
  CheckTracker,
  INITIAL_TRACKER,
  advance,
  countsAsFailing,
  effect,
  sameSummary,
  summarize,
  type TrackerParams,
} from '../../src/health/scheduler.js';
import { DEFAULTS } from '../../src/config/defaults.js';
import type { CheckState, CheckView } from '../../src/health/types.js';

const ok = { ok: true, detail: 'ok', ms: 1 };
const ko = { ok: false, detail: 'ko', ms: 1 };

/** Feeds "+" (success) and "-" (failure) one second apart; returns the reported state after each. */
function run(params: TrackerParams, pattern: string, step = 1000): string {
  const tr = new CheckTracker(params);
  const letter: Record<CheckState, string> = { unknown: 'U', passing: 'P', failing: 'F' };
  return [...pattern].map((c, i) => letter[tr.record(c === '+' ? ok : ko, i * step).state]).join('');
}

t.test('rise and fall counts, no hold-down', async (t) => {
  const p = { rise: 2, fall: 3, holdDown: 0 };
  const table: [string, string, string][] = [
    ['++', 'UP', 'starts unknown; rise successes make it passing'],
    ['--', 'UU', 'fewer than fall failures: still unknown'],
    ['---', 'UUF', 'fall failures make it failing'],
    ['++--+---', 'UPPPPPPF', 'a success resets the failure count'],
    ['---+-++', 'UUFFFFP', 'a failure resets the success count'],
    ['+-+-+-+-', 'UUUUUUUU', 'alternating never reaches either count'],
  ];
  for (const [input, want, why] of table) t.equal(run(p, input), want, `${input}: ${why}`);
});

t.test('rise = fall = 1 follows every result', async (t) => {
  t.equal(run({ rise: 1, fall: 1, holdDown: 0 }, '+-+-'), 'PFPF');
});

t.test('hold-down delays only failing -> passing, counted from the last reported change', async (t) => {
  const p = { rise: 2, fall: 2, holdDown: 10_000 };
  // unknown -> passing is a first report: never held.
  t.equal(run(p, '++'), 'UP');
  // passing -> failing is never held, even right after the change to passing.
  t.equal(run(p, '++--'), 'UPPF');
  // failing at t=3 s; successes from t=4 s; passing only at the first success at or after t=13 s.
  const states = run(p, '++--' + '+'.repeat(12));
  t.equal(states.indexOf('P', 4), 13, 'recovered at t=13 s, exactly hold-down after the failure at t=3 s');
  // a failure during the hold-down resets the successes: rise counts again after it.
  const withBlip = run(p, '++--' + '+++++++++-' + '++++');
  t.equal(withBlip.slice(4, 14), 'FFFFFFFFFF', 'held down through the blip');
  t.equal(withBlip.indexOf('P', 4), 15, 'needs rise successes after the blip, not just the hold-down');
});

t.test('advance is pure: the same input gives the same output, the input is not touched', async (t) => {
  const p = { rise: 1, fall: 1, holdDown: 0 };
  const a = advance(INITIAL_TRACKER, p, true, 5);
  t.same(a, { state: 'passing', successes: 1, failures: 0, changedAt: 5 });
  t.same(advance(INITIAL_TRACKER, p, true, 5), a);
  t.same(INITIAL_TRACKER, { state: 'unknown', successes: 0, failures: 0, changedAt: null });
  t.same(advance(a, p, true, 9), { state: 'passing', successes: 2, failures: 0, changedAt: 5 }, 'changedAt kept when nothing changes');
});

t.test('CheckTracker reports changed only on a change, and keeps the last result', async (t) => {
  const tr = new CheckTracker({ rise: 1, fall: 2, holdDown: 0 });
  t.same(tr.record(ok, 0), { changed: true, state: 'passing' });
  t.same(tr.record(ok, 1), { changed: false, state: 'passing' });
  t.same(tr.record(ko, 2), { changed: false, state: 'passing' });
  t.same(tr.record(ko, 3), { changed: true, state: 'failing' });
  t.equal(tr.last, ko);
});

// The claim in scheduler.ts and docs/health.md: with results at least `interval` apart,
// passing -> failing takes at least fall x interval and failing -> passing at least
// max(rise x interval, holdDown); hence the worst-case transitions per minute.
t.test('property: reported transitions are never closer than the documented bounds', async (t) => {
  let recoveries = 0;
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 5 }),
      fc.integer({ min: 1, max: 5 }),
      fc.integer({ min: 0, max: 20_000 }),
      fc.integer({ min: 100, max: 5000 }),
      // runs of equal results, so that rise and fall counts are actually reached
      fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 1500 })), { maxLength: 40 }),
      (rise, fall, holdDown, interval, runs) => {
        const tr = new CheckTracker({ rise, fall, holdDown });
        let now = 0;
        let last: { state: CheckState; at: number } | null = null;
        for (const [good, count, extra] of runs) {
          for (let i = 0; i < count; i++) {
            now += interval + (i === 0 ? extra : 0);
            const r = tr.record(good ? ok : ko, now);
            if (!r.changed) continue;
            if (last?.state === 'passing' && now - last.at < fall * interval) return false;
            if (last?.state === 'failing') {
              recoveries++;
              if (now - last.at < Math.max(rise * interval, holdDown)) return false;
            }
            last = { state: r.state, at: now };
          }
        }
        return true;
      },
    ),
    { numRuns: 300 },
  );
  t.ok(recoveries > 100, `the generator reached many recoveries (${recoveries})`);
});

// docs/health.md: with the defaults, at most 11 transitions within any 60 s span (10 a minute
// sustained). An adversarial service that answers whatever flips the state fastest reaches it.
t.test('worst case with the defaults: the documented transitions per minute, reached', async (t) => {
  const d = DEFAULTS.health;
  const tr = new CheckTracker(d);
  const at: number[] = [];
  for (let now = 0; now <= 600_000; now += d.interval) {
    const r = tr.record(tr.state === 'passing' ? ko : ok, now);
    if (r.changed) at.push(now);
  }
  const perSpan = at.map((start) => at.filter((x) => x >= start && x <= start + 60_000).length);
  t.equal(Math.max(...perSpan), 11, 'at most 11 in any 60 s span, and the bound is reached');
  t.equal(at.filter((x) => x >= 300_000 && x < 360_000).length, 10, '10 in a minute, sustained');
});

t.test('countsAsFailing: unknown is failing for a fault check, passing for a weight check', async (t) => {
  t.equal(countsAsFailing('fault', 'unknown'), true);
  t.equal(countsAsFailing('fault', 'failing'), true);
  t.equal(countsAsFailing('fault', 'passing'), false);
  t.equal(countsAsFailing(20, 'unknown'), false);
  t.equal(countsAsFailing(20, 'failing'), true);
  t.equal(countsAsFailing(20, 'passing'), false);
});

const view = (name: string, weight: number | 'fault', state: CheckState): CheckView => ({
  spec: { type: 'exec', command: ['/bin/true'], name, weight, interval: 1000, timeout: 500, rise: 2, fall: 2, holdDown: 0 },
  state,
  last: null,
});

t.test('effect table', async (t) => {
  const table: [string, CheckView[], number, { priority: number; fault: string | null; pending: string | null; failing: string[] }][] = [
    ['no checks', [], 100, { priority: 100, fault: null, pending: null, failing: [] }],
    ['all passing', [view('a', 10, 'passing'), view('b', 'fault', 'passing')], 100, { priority: 100, fault: null, pending: null, failing: [] }],
    ['one weight failing', [view('a', 10, 'failing'), view('b', 30, 'passing')], 100, { priority: 90, fault: null, pending: null, failing: ['a'] }],
    ['weights add up', [view('a', 10, 'failing'), view('b', 30, 'failing')], 100, { priority: 60, fault: null, pending: null, failing: ['a', 'b'] }],
    ['clamped to 1, never 0', [view('a', 200, 'failing'), view('b', 200, 'failing')], 254, { priority: 1, fault: null, pending: null, failing: ['a', 'b'] }],
    ['unknown weight counts as passing', [view('a', 50, 'unknown')], 100, { priority: 100, fault: null, pending: null, failing: [] }],
    ['fault failing', [view('a', 'fault', 'failing')], 100, { priority: 100, fault: 'check a failing', pending: null, failing: ['a'] }],
    ['fault unknown: pending, not a fault', [view('a', 'fault', 'unknown')], 100, { priority: 100, fault: null, pending: 'check a has not passed yet', failing: [] }],
    [
      'fault and weight together',
      [view('w', 5, 'failing'), view('x', 'fault', 'failing'), view('y', 'fault', 'unknown')],
      100,
      { priority: 95, fault: 'check x failing', pending: 'check y has not passed yet', failing: ['w', 'x'] },
    ],
  ];
  for (const [why, checks, base, want] of table) t.same(effect(checks, base), want, why);
});

t.test('summarize adds links and ping nodes', async (t) => {
  const spec = { basePriority: 100, interfaces: ['eth0', 'eth1'], pingNodes: ['198.51.100.1', '203.0.113.1'] };
  const links = new Map<string, boolean>([['eth0', true]]);
  const s = summarize(spec, [view('a', 10, 'failing')], (i) => links.get(i), 1);
  t.same(s, {
    priority: 90,
    fault: null,
    pending: 'link eth1 state not known yet',
    failing: ['a'],
    linksDown: [],
    pingReachable: 1,
    pingTotal: 2,
  });
  links.set('eth1', false);
  const down = summarize(spec, [view('b', 'fault', 'failing')], (i) => links.get(i), 2);
  t.equal(down.fault, 'link eth1 down; check b failing');
  links.set('eth1', true);
  t.equal(summarize(spec, [], (i) => links.get(i), 0).fault, null);
  t.ok(sameSummary(s, { ...s, failing: [...s.failing] }));
  t.notOk(sameSummary(s, { ...s, pingReachable: 2 }));
  t.notOk(sameSummary(s, { ...s, linksDown: ['eth1'] }));
  t.notOk(sameSummary(s, { ...s, pending: null }));
  t.notOk(sameSummary(s, { ...s, priority: 91 }));
});

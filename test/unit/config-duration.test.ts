// Durations: "100ms", "2s", "1.5s", "1m", "0s"; a number needs its unit (0 alone excepted); and back.
import t from 'tap';
import fc from 'fast-check';
import { formatDuration, parseDuration } from '../../src/config/duration.js';

t.test('accepted spellings', async (t) => {
  const table: [unknown, number][] = [
    ['100ms', 100], ['2s', 2000], ['1.5s', 1500], ['1m', 60_000], ['0s', 0], ['1h', 3_600_000],
    ['1.1s', 1100], ['0.25m', 15_000], [0, 0], ['0', 0], ['0.0', 0], ['0.001s', 1],
  ];
  for (const [input, ms] of table) t.same(parseDuration(input), { ok: true, ms }, JSON.stringify(input));
});

t.test('refused spellings', async (t) => {
  const table: unknown[] = [
    '', 'ms', '-1s', '1 s', '1S', '1d', '1e3', '.5s', '1.s', '0.5ms', '1.0001s', 1.5, -3, NaN, Infinity, null, true, [], {},
    '9999999999999999s',
  ];
  for (const input of table) t.match(parseDuration(input), { ok: false, error: /a duration with its unit, such as/ }, String(input));
});

t.test('a number without a unit is refused with the two readings it may have meant', async (t) => {
  t.same(parseDuration(300), { ok: false, error: 'add a unit: 300ms or 300s' }, 'YAML number (keepalived\'s preempt_delay 300 is seconds)');
  t.same(parseDuration('300'), { ok: false, error: 'add a unit: 300ms or 300s' }, 'string');
  t.same(parseDuration('1.5'), { ok: false, error: 'add a unit: 1.5ms or 1.5s' });
});

t.test('formatting picks the largest exact unit', async (t) => {
  const table: [number, string][] = [
    [0, '0s'], [1, '1ms'], [999, '999ms'], [1000, '1s'], [1500, '1500ms'], [60_000, '1m'], [90_000, '90s'],
    [3_600_000, '1h'], [5_400_000, '90m'],
  ];
  for (const [ms, text] of table) t.equal(formatDuration(ms), text, String(ms));
});

t.test('format then parse gives the same milliseconds', async (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 10 * 86_400_000 }), (ms) => {
      const r = parseDuration(formatDuration(ms));
      return r.ok && r.ms === ms;
    }),
  );
  t.pass('property held');
});

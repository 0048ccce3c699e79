// Durations: "100ms", "2s", "1.5s", "1m", "0s", bare numbers as milliseconds; and back.
import t from 'tap';
import fc from 'fast-check';
import { formatDuration, parseDuration } from '../../src/config/duration.js';

t.test('accepted spellings', async (t) => {
  const table: [unknown, number][] = [
    ['100ms', 100], ['2s', 2000], ['1.5s', 1500], ['1m', 60_000], ['0s', 0], ['1h', 3_600_000],
    ['1.1s', 1100], ['0.25m', 15_000], ['250', 250], [250, 250], [0, 0], ['0.001s', 1],
  ];
  for (const [input, ms] of table) t.same(parseDuration(input), { ok: true, ms }, JSON.stringify(input));
});

t.test('refused spellings', async (t) => {
  const table: unknown[] = [
    '', 'ms', '-1s', '1 s', '1S', '1d', '1e3', '.5s', '1.s', '0.5ms', '1.0001s', 1.5, -3, NaN, Infinity, null, true, [], {},
    '9999999999999999s',
  ];
  for (const input of table) t.match(parseDuration(input), { ok: false, error: /a duration such as/ }, String(input));
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

// LevIP keys of a group: `mode: failover|levip` and the `levip:` mapping (period, guard,
// repeat, weight). docs/levip.md: the shared IP goes on lo as /32, the guard is at most half
// the period, weights are 1..100; the mapping only makes sense in a levip group.
import t from 'tap';
import { withLines, parse, runIssueCases, type IssueCase } from './config-harness.js';
import { DEFAULTS } from '../../src/config/defaults.js';
import { LIMITS } from '../../src/config/limits.js';
import { renderEffectiveConfig } from '../../src/config/render.js';

// A valid document; the cases append group keys after line 9. Keep the line numbers stable.

const withVip = (vip: string, ...extra: string[]) => withLines(...extra).replace('198.51.100.100/32', vip);

t.test('mode defaults to failover, with no levip settings', async (t) => {
  const g = parse(withLines()).groups[0]!;
  t.equal(g.mode, 'failover');
  t.equal(g.levip, undefined);
  t.equal(parse(withLines('    mode: failover')).groups[0]!.mode, 'failover');
});

t.test('mode levip without a levip mapping gets every rotation default', async (t) => {
  const g = parse(withLines('    mode: levip')).groups[0]!;
  t.equal(g.mode, 'levip');
  t.same(g.levip, DEFAULTS.levip);
});

t.test('levip keys are taken as written, the rest defaulted', async (t) => {
  const g = parse(withLines('    mode: levip', '    levip: { period: 500ms, weight: 3 }')).groups[0]!;
  t.same(g.levip, { period: 500, guard: DEFAULTS.levip.guard, repeat: DEFAULTS.levip.repeat, weight: 3 });
  const all = parse(withLines('    mode: levip', '    levip: { period: 1s, guard: 100ms, repeat: 200ms, weight: 100 }')).groups[0]!;
  t.same(all.levip, { period: 1000, guard: 100, repeat: 200, weight: 100 });
});

t.test('the defaults themselves satisfy the guard rule', async (t) => {
  t.ok(2 * DEFAULTS.levip.guard <= DEFAULTS.levip.period);
  t.ok(DEFAULTS.levip.repeat >= LIMITS.levipRepeat.min);
});

const CASES: IssueCase[] = [
  { name: 'a levip mapping in a failover group', text: withLines('    levip: { weight: 2 }'), path: 'groups[0].levip', line: 10, column: 12, expected: /^no levip mapping unless the group has mode: levip$/ },
  { name: 'a levip mapping with mode failover written', text: withLines('    mode: failover', '    levip: { weight: 2 }'), path: 'groups[0].levip', line: 11, column: 12, expected: /unless the group has mode: levip/ },
  { name: 'an unknown mode', text: withLines('    mode: active-active'), path: 'groups[0].mode', line: 10, column: 11, expected: /^one of failover, levip, bgp$/ },
  { name: 'a levip VIP with a subnet prefix (lo would own the subnet)', text: withVip('198.51.100.100/24', '    mode: levip'), path: 'groups[0].vip', line: 8, column: 10, expected: /IPv4 address with prefix \/32 in a levip group/ },
  { name: 'an IPv6 levip VIP', text: withVip('2001:db8::100', '    mode: levip'), path: 'groups[0].vip', line: 8, column: 10, expected: /IPv6 LevIP is not designed yet/ },
  { name: 'guard above half the period', text: withLines('    mode: levip', '    levip: { period: 1s, guard: 600ms }'), path: 'groups[0].levip.guard', line: 11, column: 33, expected: /at most half the period \(guard 600ms, period 1s\)/ },
  { name: 'a short period against the default guard', text: withLines('    mode: levip', '    levip: { period: 300ms }'), path: 'groups[0].levip.period', line: 11, column: 22, expected: /guard 250ms, period 300ms/ },
  { name: 'weight 0', text: withLines('    mode: levip', '    levip: { weight: 0 }'), path: 'groups[0].levip.weight', line: 11, column: 22, expected: /^an integer from 1 to 100$/ },
  { name: 'weight 101', text: withLines('    mode: levip', '    levip: { weight: 101 }'), path: 'groups[0].levip.weight', line: 11, column: 22, expected: /^an integer from 1 to 100$/ },
  { name: 'a period below 100ms', text: withLines('    mode: levip', '    levip: { period: 50ms, guard: 0s }'), path: 'groups[0].levip.period', line: 11, column: 22, expected: /from 100ms to 1m/ },
  { name: 'a repeat below 100ms', text: withLines('    mode: levip', '    levip: { repeat: 20ms }'), path: 'groups[0].levip.repeat', line: 11, column: 22, expected: /from 100ms to 1m/ },
  { name: 'a typo under levip', text: withLines('    mode: levip', '    levip: { wieght: 2 }'), path: 'groups[0].levip', line: 11, column: 14, expected: /keys period, guard, repeat, weight$/ },
];

runIssueCases(CASES);

t.test('the effective configuration shows mode and levip and loads back unchanged', async (t) => {
  const c = parse(withLines('    mode: levip', '    levip: { period: 1500ms, guard: 100ms, weight: 7 }'));
  const rendered = renderEffectiveConfig(c);
  t.same(parse(rendered), c);
  t.match(rendered, /\n {4}mode: levip\n {4}levip:\n {6}period: 1500ms\n {6}guard: 100ms\n {6}repeat: 500ms\n {6}weight: 7\n/);
  const plain = renderEffectiveConfig(parse(withLines()));
  t.match(plain, /\n {4}mode: failover\n/);
  t.notMatch(plain, /levip/, 'a failover group shows no levip mapping');
  t.same(parse(plain), parse(withLines()));
});

// The announcement check's keys (`confirm:` in a group): what they resolve to, the defaults,
// each refusal at its path and line:column, and the effective configuration loading back.
import t from 'tap';
import { BASE, parse, runIssueCases, withLines, type IssueCase } from './config-harness.js';
import { DEFAULTS } from '../../src/config/defaults.js';
import { renderEffectiveConfig } from '../../src/config/render.js';

t.test('confirm: the gateway, attempts defaulted; none by default', async (t) => {
  t.equal(parse(withLines()).groups[0]!.confirm, undefined, 'no check unless a gateway is named');
  t.same(parse(withLines('    confirm: { gateway: 198.51.100.1 }')).groups[0]!.confirm, { gateway: '198.51.100.1', attempts: DEFAULTS.confirm.attempts });
  t.same(parse(withLines('    confirm:', '      gateway: 198.51.100.1', '      attempts: 3')).groups[0]!.confirm, { gateway: '198.51.100.1', attempts: 3 });
});

t.test('the effective configuration writes confirm back, and it loads back unchanged', async (t) => {
  const c = parse(withLines('    confirm: { gateway: 198.51.100.1, attempts: 2 }'));
  const rendered = renderEffectiveConfig(c);
  t.match(rendered, /\n {4}confirm:\n {6}gateway: 198\.51\.100\.1\n {6}attempts: 2\n/);
  const again = parse(rendered);
  t.same(again.groups[0]!.confirm, c.groups[0]!.confirm);
});

const vip6 = [...BASE.slice(0, 7), '    vip: 2001:db8::100/128', BASE[8]!].join('\n') + '\n';

const CASES: IssueCase[] = [
  { name: 'a gateway that is no address', text: withLines('    confirm: { gateway: router1 }'), path: 'groups[0].confirm.gateway', line: 10, column: 25, expected: /an IPv4 or IPv6 address/ },
  { name: 'an IPv6 gateway', text: withLines('    confirm: { gateway: "2001:db8::1" }'), path: 'groups[0].confirm.gateway', line: 10, column: 25, expected: /an IPv4 address \(the check speaks ARP/ },
  { name: 'attempts out of range', text: withLines('    confirm: { gateway: 198.51.100.1, attempts: 0 }'), path: 'groups[0].confirm.attempts', line: 10, column: 49, expected: /an integer from 1 to 10/ },
  { name: 'an unknown key', text: withLines('    confirm: { gateway: 198.51.100.1, every: 1s }'), path: 'groups[0].confirm', line: 10, column: 39, expected: /a mapping with the keys gateway, attempts/ },
  { name: 'no gateway', text: withLines('    confirm: { attempts: 2 }'), path: 'groups[0].confirm.gateway', line: 10, column: 14, expected: /an IPv4 or IPv6 address/ },
  { name: 'a levip group', text: withLines('    mode: levip', '    confirm: { gateway: 198.51.100.1 }'), path: 'groups[0].confirm', line: 11, column: 14, expected: /no confirm mapping in a levip group/ },
  { name: 'a bgp group', text: withLines('    mode: bgp', '    confirm: { gateway: 198.51.100.1 }'), path: 'groups[0].confirm', line: 11, column: 14, expected: /no confirm mapping in a bgp group/ },
  { name: 'a group without an IPv4 VIP', text: vip6.replace(/\n$/, '\n    confirm: { gateway: 198.51.100.1 }\n'), path: 'groups[0].confirm', line: 10, column: 14, expected: /without an IPv4 VIP/ },
];

runIssueCases(CASES);

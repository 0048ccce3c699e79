// Several VIPs in one group (`vips:`): the entry forms, what they resolve to, the rules
// (exactly one of vip and vips, each address once in the file, the bound on the count, LevIP's
// single VIP, tracked interfaces), each refusal at its path and line:column, and the rendered
// effective configuration loading back unchanged.
import t from 'tap';
import { BASE, parse, issuesOf, runIssueCases, withLines, type IssueCase } from './config-harness.js';
import { LIMITS } from '../../src/config/limits.js';
import { renderEffectiveConfig } from '../../src/config/render.js';
import { groupVips, vipPlacements } from '../../src/config/vip-device.js';

/** BASE with its `vip:` line (8) replaced by `lines` (the first is line 8), then `extra`. */
const withVips = (lines: string[], ...extra: string[]) => [...BASE.slice(0, 7), ...lines, BASE[8]!, ...extra].join('\n') + '\n';

const NAT = ['    vips:', '      - 198.51.100.100', '      - { address: 203.0.113.1/24, interface: eth1 }', '      - "2001:db8::100/64"'];

t.test('vips: strings on the group interface, mappings on their own; vip is the first', async (t) => {
  const g = parse(withVips(NAT)).groups[0]!;
  t.same(g.vip, { address: '198.51.100.100', prefix: 32, family: 4 });
  t.equal(g.interface, 'eth0');
  t.same(groupVips(g), [
    { vip: { address: '198.51.100.100', prefix: 32, family: 4 }, iface: 'eth0' },
    { vip: { address: '203.0.113.1', prefix: 24, family: 4 }, iface: 'eth1' },
    { vip: { address: '2001:db8::100', prefix: 64, family: 6 }, iface: 'eth0' },
  ]);
  t.same(vipPlacements(g), groupVips(g), 'a failover group adds each VIP where it is');
});

t.test('vip: still one VIP on the group interface; a mapping without interface is on it too', async (t) => {
  t.same(groupVips(parse(withLines()).groups[0]!), [{ vip: { address: '198.51.100.100', prefix: 32, family: 4 }, iface: 'eth0' }]);
  const one = parse(withVips(['    vips: [{ address: 198.51.100.100 }]'])).groups[0]!;
  t.same(groupVips(one), [{ vip: { address: '198.51.100.100', prefix: 32, family: 4 }, iface: 'eth0' }]);
});

t.test('a levip group with vips of one entry holds it on lo', async (t) => {
  const g = parse(withVips(['    vips: [198.51.100.100]'], '    mode: levip')).groups[0]!;
  t.same(vipPlacements(g), [{ vip: { address: '198.51.100.100', prefix: 32, family: 4 }, iface: 'lo' }]);
});

t.test('the effective configuration writes vips back in the form read, and it loads back unchanged', async (t) => {
  const c = parse(withVips(NAT));
  const rendered = renderEffectiveConfig(c);
  t.match(rendered, /\n {4}vips:\n {6}- 198\.51\.100\.100\/32\n {6}- address: 203\.0\.113\.1\/24\n {8}interface: eth1\n {6}- 2001:db8::100\/64\n/);
  t.same(parse(rendered), c);
  const single = renderEffectiveConfig(parse(withVips(['    vips: [198.51.100.100]'])));
  t.match(single, /\n {4}vip: 198\.51\.100\.100\/32\n/, 'one VIP on the group interface: the vip form');
});

t.test(`at most ${LIMITS.groupVips.max} VIPs in a group`, async (t) => {
  const list = (n: number) => `    vips: [${Array.from({ length: n }, (_, i) => `198.51.100.${i + 1}`).join(', ')}]`;
  t.equal(groupVips(parse(withVips([list(LIMITS.groupVips.max)])).groups[0]!).length, LIMITS.groupVips.max);
  const issues = issuesOf(withVips([list(LIMITS.groupVips.max + 1)]));
  t.match(issues, [{ path: 'groups[0].vips', line: 8, expected: new RegExp(`^a list of 1 to ${LIMITS.groupVips.max} VIPs`) }]);
});

const CASES: IssueCase[] = [
  { name: 'both vip and vips', text: withLines('    vips: [198.51.100.101]'), path: 'groups[0].vips', line: 10, column: 11, expected: /^either vip \(one VIP\) or vips \(a list\), not both$/ },
  { name: 'an empty list', text: withVips(['    vips: []']), path: 'groups[0].vips', line: 8, column: 11, expected: /^a list of 1 to 16 VIPs/ },
  { name: 'not a list', text: withVips(['    vips: 198.51.100.100']), path: 'groups[0].vips', line: 8, column: 11, expected: /^a list of 1 to 16 VIPs/ },
  { name: 'a bad address in the list', text: withVips(['    vips: [198.51.100.100, 198.51.100.300]']), path: 'groups[0].vips[1]', line: 8, column: 28, expected: /^an IPv4 or IPv6 address with optional \/prefix/ },
  { name: 'a bad address in a mapping', text: withVips(['    vips: [{ address: 239.1.1.1, interface: eth1 }]']), path: 'groups[0].vips[0]', line: 8, column: 12, expected: /; address is .*not a multicast address$/ },
  { name: 'a bad interface name in a mapping', text: withVips(['    vips: [{ address: 203.0.113.1, interface: "eth1:0" }]']), path: 'groups[0].vips[0]', line: 8, column: 12, expected: /; interface is a Linux interface name/ },
  { name: 'an unknown key in a mapping', text: withVips(['    vips: [{ address: 203.0.113.1, iface: eth1 }]']), path: 'groups[0].vips[0]', line: 8, column: 12, expected: /the mapping has the keys address and interface$/ },
  { name: 'the same address twice in a group (whatever the prefix)', text: withVips(['    vips: [198.51.100.100, { address: 198.51.100.100/24, interface: eth1 }]']), path: 'groups[0].vips[1]', line: 8, column: 28, expected: /^a VIP not already listed in this group \(vips\[0\] has 198\.51\.100\.100\)$/ },
  {
    name: 'an address another group has',
    text: withLines('  - name: db', '    vips: [198.51.100.101, { address: 198.51.100.100, interface: eth1 }]', '    interface: eth0'),
    path: 'groups[1].vips[1]',
    line: 11,
    column: 28,
    expected: /^a VIP no other group has \(groups\[0\] has 198\.51\.100\.100\)$/,
  },
  { name: 'a levip group with two VIPs', text: withVips(['    vips: [198.51.100.100, 198.51.100.101]'], '    mode: levip'), path: 'groups[0].vips', line: 8, column: 11, expected: /^a single VIP in a levip group/ },
  { name: 'a levip VIP on another interface', text: withVips(['    vips: [{ address: 198.51.100.100, interface: eth1 }]'], '    mode: levip'), path: 'groups[0].vips[0].interface', line: 8, column: 50, expected: /^no interface of its own in a levip group/ },
  { name: 'a levip VIP in vips with a subnet prefix', text: withVips(['    vips: [198.51.100.100/24]'], '    mode: levip'), path: 'groups[0].vips[0]', line: 8, column: 12, expected: /IPv4 address with prefix \/32 in a levip group/ },
  { name: 'trackInterfaces names an interface a VIP is on', text: withVips(NAT, '    trackInterfaces: [eth2, eth1]'), path: 'groups[0].trackInterfaces[1]', line: 13, column: 29, expected: /^an interface no VIP of the group is on \(eth1 carries vips\[1\] and is always tracked\)$/ },
  { name: 'neither vip nor vips', text: withVips([]), path: 'groups[0].vip', line: 7, column: 5, value: 'nothing', expected: /^an IPv4 or IPv6 address .*, or vips: a list of VIPs$/ },
];

runIssueCases(CASES);

t.test('a real-server VIP that a vips entry of a group has is refused', async (t) => {
  const text = withVips(NAT, 'realserver:', '  vips: [203.0.113.1]');
  t.match(issuesOf(text), [{ path: 'realserver.vips[0]', expected: /a VIP no group has \(groups\[0\] has 203\.0\.113\.1\)/ }]);
});

// `mode: bgp` and the `bgp:` mapping (style, device, daemon, poll): defaults, the rules a bgp
// group's VIPs follow (host routes, all on bgp.device), the keys refused around it (garp, a
// bgp mapping elsewhere, an ecmp group in a sync unit), and the effective configuration.
import t from 'tap';
import { withLines, parse, runIssueCases, type IssueCase } from './config-harness.js';
import { DEFAULTS } from '../../src/config/defaults.js';
import { renderEffectiveConfig } from '../../src/config/render.js';
import { vipPlacements } from '../../src/config/vip-device.js';

const withVip = (vip: string, ...extra: string[]) => withLines(...extra).replace('198.51.100.100/32', vip);

t.test('mode bgp without a bgp mapping: active-standby on haagent0, no readback', async (t) => {
  const g = parse(withVip('203.0.113.100', '    mode: bgp')).groups[0]!;
  t.equal(g.mode, 'bgp');
  t.same(g.bgp, { style: 'active-standby', device: 'haagent0', daemon: null, poll: DEFAULTS.bgp.poll });
  t.same(vipPlacements(g).map((p) => p.iface), ['haagent0'], 'the VIP goes on the device, not on the interface');
  t.equal(g.levip, undefined);
});

t.test('every bgp key as written; the daemon paths defaulted', async (t) => {
  const g = parse(withVip('203.0.113.100/32', '    mode: bgp', '    bgp: { style: ecmp, device: vip0, poll: 5s, daemon: { kind: bird, protocol: upstream } }')).groups[0]!;
  t.same(g.bgp, { style: 'ecmp', device: 'vip0', poll: 5000, daemon: { kind: 'bird', birdc: '/usr/sbin/birdc', socket: '/run/bird/bird.ctl', protocol: 'upstream' } });
  const f = parse(withVip('2001:db8::100/128', '    mode: bgp', '    bgp: { daemon: { kind: frr, socketDir: /run/frr/lab } }')).groups[0]!;
  t.same(f.bgp?.daemon, { kind: 'frr', vtysh: '/usr/bin/vtysh', socketDir: '/run/frr/lab' });
});

t.test('several host-route VIPs, IPv4 and IPv6, all on the device', async (t) => {
  const text = withLines('    mode: bgp').replace('    vip: 198.51.100.100/32', '    vips: [203.0.113.100, 2001:db8::100/128]');
  t.same(vipPlacements(parse(text).groups[0]!).map((p) => `${p.vip.address}@${p.iface}`), ['203.0.113.100@haagent0', '2001:db8::100@haagent0']);
});

const CASES: IssueCase[] = [
  { name: 'a bgp mapping in a failover group', text: withLines('    bgp: { style: ecmp }'), path: 'groups[0].bgp', line: 10, column: 10, expected: /^no bgp mapping unless the group has mode: bgp$/ },
  { name: 'a subnet VIP in a bgp group', text: withVip('203.0.113.100/24', '    mode: bgp'), path: 'groups[0].vip', line: 8, column: 10, expected: /^a host route \(\/32\) in a bgp group/ },
  { name: 'an IPv6 /64 in a bgp group', text: withVip('2001:db8::100/64', '    mode: bgp'), path: 'groups[0].vip', line: 8, column: 10, expected: /^a host route \(\/128\)/ },
  { name: 'a VIP on an interface of its own', text: withLines('    mode: bgp').replace('    vip: 198.51.100.100/32', '    vips: [{ address: 203.0.113.100, interface: eth1 }]'), path: 'groups[0].vips[0].interface', line: 8, column: 49, expected: /every VIP goes on bgp.device/ },
  { name: 'garp in a bgp group', text: withLines('    mode: bgp', '    garp: { count: 2 }'), path: 'groups[0].garp', line: 11, column: 11, expected: /^no garp mapping in a bgp group/ },
  { name: 'the device is the group interface', text: withLines('    mode: bgp', '    bgp: { device: eth0 }'), path: 'groups[0].bgp.device', line: 11, column: 20, expected: /other than the group's interface \(eth0\)/ },
  { name: 'the device tracked', text: withLines('    mode: bgp', '    trackInterfaces: [haagent0]'), path: 'groups[0].trackInterfaces[0]', line: 11, column: 23, expected: /other than bgp.device \(haagent0\)/ },
  { name: 'an unknown style', text: withLines('    mode: bgp', '    bgp: { style: anycast }'), path: 'groups[0].bgp.style', line: 11, column: 19, expected: /^one of active-standby, ecmp$/ },
  { name: 'an unknown daemon', text: withLines('    mode: bgp', '    bgp: { daemon: { kind: gobgp } }'), path: 'groups[0].bgp.daemon.kind', line: 11, column: 28, expected: /^one of bird, frr$/ },
  { name: 'bird without a protocol', text: withLines('    mode: bgp', '    bgp: { daemon: { kind: bird } }'), path: 'groups[0].bgp.daemon.protocol', line: 11, column: 20, expected: /BIRD protocol/ },
  { name: 'a relative birdc', text: withLines('    mode: bgp', '    bgp: { daemon: { kind: bird, protocol: up, birdc: birdc } }'), path: 'groups[0].bgp.daemon.birdc', line: 11, column: 55, expected: /^an absolute path/ },
  { name: 'a poll below 500ms', text: withLines('    mode: bgp', '    bgp: { poll: 100ms }'), path: 'groups[0].bgp.poll', line: 11, column: 18, expected: /from 500ms to 1m/ },
  { name: 'a typo under bgp', text: withLines('    mode: bgp', '    bgp: { stlye: ecmp }'), path: 'groups[0].bgp', line: 11, column: 12, expected: /keys style, device, daemon, poll$/ },
];

runIssueCases(CASES);

t.test('an ecmp group in a sync unit is refused; an active-standby one may sync with a failover group', async (t) => {
  const two = (style: string) => [
    'cluster: lb1', 'heartbeat:', '  bind: 198.51.100.10', '  peers: [198.51.100.11]', 'groups:',
    '  - name: web', '    vip: 198.51.100.100/32', '    interface: eth0', '    sync: u',
    '  - name: svc', '    vip: 203.0.113.100/32', '    interface: eth0', '    sync: u', '    mode: bgp', `    bgp: { style: ${style} }`, '',
  ].join('\n');
  t.equal(parse(two('active-standby')).groups[1]!.sync, 'u');
  const { issuesOf } = await import('./config-harness.js');
  const issues = issuesOf(two('ecmp'));
  t.match(issues.find((i) => i.path === 'groups[1].sync'), { line: 13, expected: /no sync unit for an ecmp bgp group/ });
  t.match(issues.find((i) => i.path === 'groups[0].sync'), { expected: /has this group only/ }, 'the unit is left with one member');
});

t.test('the effective configuration shows the bgp mapping, no garp, and loads back unchanged', async (t) => {
  const c = parse(withVip('203.0.113.100/32', '    mode: bgp', '    bgp: { style: ecmp, daemon: { kind: bird, socket: /tmp/b.ctl, protocol: up } }'));
  const rendered = renderEffectiveConfig(c);
  t.same(parse(rendered), c);
  t.match(rendered, /\n {4}bgp:\n {6}style: ecmp\n {6}device: haagent0\n {6}daemon:\n {8}kind: bird\n {8}socket: \/tmp\/b.ctl\n {8}protocol: up\n/);
  t.notMatch(rendered, /garp/);
});

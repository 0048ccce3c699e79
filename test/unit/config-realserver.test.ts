// The `realserver` section: defaults, a real server's file without any director key, a
// director running the role too, every refusal located at its line:column, and the effective
// configuration loading back unchanged.
import { vipCidr } from '../../src/config/vip.js';
import t from 'tap';
import { parse as parseAs, issuesOf as issuesOfAs, runIssueCases, type IssueCase } from './config-harness.js';

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkConfig } from '../../src/cli/check-config.js';
import { EXIT } from '../../src/cli/exit.js';
import { DEFAULTS } from '../../src/config/defaults.js';
import { LIMITS } from '../../src/config/limits.js';
import { parseConfigText } from '../../src/config/load.js';
import { renderEffectiveConfig } from '../../src/config/render.js';

const RS_FILE = { file: 'rs.yaml', hostname: 'r0' };
const parse = (text: string) => parseAs(text, RS_FILE);
const issuesOf = (text: string) => issuesOfAs(text, RS_FILE);

const lines = (...l: string[]) => l.join('\n') + '\n';

// A real server's file; line numbers matter for the cases below.
const RS = [
  'node: r0', //                                      1
  'realserver:', //                                   2
  '  vips: [198.51.100.100, 2001:db8::100]', //       3
  '  interface: eth0', //                             4
];

/** RS with line n (1-based) replaced, or lines appended when n is 0. */
function rsWith(n: number, ...text: string[]): string {
  const l = [...RS];
  if (n === 0) l.push(...text);
  else l.splice(n - 1, 1, ...text);
  return lines(...l);
}

const DIRECTOR = [
  'cluster: lb1',
  'heartbeat: { peers: [198.51.100.11] }',
  'groups:',
  '  - name: web',
  '    vip: 198.51.100.100',
  '    interface: eth0',
];

t.test('a file with only realserver is a real server: no director part, every role default', async (t) => {
  const c = parse(lines('realserver:', '  vips: [198.51.100.100]'));
  t.equal(c.director, false);
  t.same(c.groups, []);
  t.equal(c.cluster, '');
  t.same(c.realserver, {
    vips: [{ address: '198.51.100.100', prefix: 32, family: 4 }],
    interface: null,
    stateFile: `${DEFAULTS.stateDir}/${DEFAULTS.realserver.stateFileName}`,
    recheck: DEFAULTS.realserver.recheck,
    undoOnStop: DEFAULTS.realserver.undoOnStop,
  });
  t.equal(c.realserver?.stateFile, '/var/lib/haagent/realserver.json', 'where `haagent realserver` keeps it too');
  t.equal(c.node, 'r0', 'node defaults to the host name as on a director');
});

t.test('every key as written; IPv6 canonical with its /128; stateFile under stateDir', async (t) => {
  const c = parse(rsWith(0, '  stateFile: /run/rs/state.json', '  recheck: 500ms', '  undoOnStop: false', 'logLevel: debug', 'stateDir: /var/lib/x'));
  t.same(c.realserver, {
    vips: [
      { address: '198.51.100.100', prefix: 32, family: 4 },
      { address: '2001:db8::100', prefix: 128, family: 6 },
    ],
    interface: 'eth0',
    stateFile: '/run/rs/state.json',
    recheck: 500,
    undoOnStop: false,
  });
  t.equal(parse(rsWith(0, 'stateDir: /var/lib/x/')).realserver?.stateFile, '/var/lib/x/realserver.json');
  t.equal(parse(rsWith(0, '  recheck: 0s')).realserver?.recheck, 0, '0s turns the recheck off');
  t.same(parse(rsWith(3, '  vips: ["2001:DB8:0::100/128", 198.51.100.100/32]')).realserver?.vips.map(vipCidr), [
    '2001:db8::100/128',
    '198.51.100.100/32',
  ]);
  t.ok(parseConfigText(rsWith(0, 'control: { socket: /run/rs.sock }'), 'rs.yaml', { hostname: 'r0' }).ok, 'control is accepted');
});

t.test('a director may run the role too; a director file without the section has none', async (t) => {
  const both = parse(lines(...DIRECTOR, 'realserver:', '  vips: [198.51.100.200]'));
  t.equal(both.director, true);
  t.equal(both.groups.length, 1);
  t.same(both.realserver?.vips, [{ address: '198.51.100.200', prefix: 32, family: 4 }]);
  const only = parse(lines(...DIRECTOR));
  t.equal(only.director, true);
  t.equal(only.realserver, null);
});

const CASES: IssueCase[] = [
  { name: 'a /24 VIP (the subnet would become local)', text: rsWith(3, '  vips: [198.51.100.100/24]'), path: 'realserver.vips[0]', line: 3, column: 10, value: '"198.51.100.100/24"', expected: /on lo as \/32 only \(a shorter prefix makes the whole subnet local\)$/ },
  { name: 'an IPv6 /64 VIP', text: rsWith(3, '  vips: ["2001:db8::100/64"]'), path: 'realserver.vips[0]', line: 3, column: 10, expected: /as \/128 only/ },
  { name: 'not an address', text: rsWith(3, '  vips: [198.51.100.300]'), path: 'realserver.vips[0]', line: 3, column: 10, expected: /^an IPv4 address \(\/32\) or IPv6 address \(\/128\) to hold on lo/ },
  { name: 'a loopback VIP', text: rsWith(3, '  vips: [127.0.0.2]'), path: 'realserver.vips[0]', line: 3, column: 10, expected: /; not a loopback address$/ },
  { name: 'a multicast VIP', text: rsWith(3, '  vips: [239.1.1.1]'), path: 'realserver.vips[0]', line: 3, column: 10, expected: /; not a multicast address$/ },
  { name: 'a zone id', text: rsWith(3, '  vips: ["fe80::1%eth0"]'), path: 'realserver.vips[0]', line: 3, column: 10, expected: /^an IPv4 address \(\/32\)/ },
  { name: 'no VIP at all', text: rsWith(3, '  vips: []'), path: 'realserver.vips', line: 3, column: 9, value: 'a list', expected: /^a list of at least one VIP/ },
  { name: 'vips missing', text: rsWith(3), path: 'realserver.vips', line: 3, column: 3, value: 'nothing', expected: /^a list of at least one VIP/ },
  { name: 'the same VIP twice (other spelling)', text: rsWith(3, '  vips: [2001:db8::100, "2001:DB8:0::100/128"]'), path: 'realserver.vips[1]', line: 3, column: 25, expected: /^a VIP not already listed \(same as realserver\.vips\[0\]\)$/ },
  { name: 'interface lo', text: rsWith(4, '  interface: lo'), path: 'realserver.interface', line: 4, column: 14, value: '"lo"', expected: /^the interface the VIP traffic arrives on \(e\.g\. eth0\), not lo/ },
  { name: 'interface alias', text: rsWith(4, '  interface: eth0:1'), path: 'realserver.interface', line: 4, column: 14, expected: /not lo: a Linux interface name/ },
  { name: 'recheck below the floor', text: rsWith(0, '  recheck: 50ms'), path: 'realserver.recheck', line: 5, column: 12, expected: /^a duration of 0s \(off\) or from 100ms to 1h/ },
  { name: 'stateFile relative', text: rsWith(0, '  stateFile: realserver.json'), path: 'realserver.stateFile', line: 5, column: 14, expected: /^an absolute path/ },
  { name: 'undoOnStop not a boolean', text: rsWith(0, '  undoOnStop: yes'), path: 'realserver.undoOnStop', line: 5, column: 15, value: '"yes"', expected: /^true or false$/ },
  { name: 'unknown key in the section', text: rsWith(0, '  vip: 198.51.100.1'), path: 'realserver', line: 5, column: 3, value: 'unknown key "vip"', expected: /^a mapping with the keys vips, interface, stateFile, recheck, undoOnStop$/ },
  { name: 'heartbeat without groups', text: rsWith(0, 'heartbeat: { peers: [198.51.100.11] }'), path: 'heartbeat', line: 5, column: 12, expected: /^no heartbeat without groups: a file with only a realserver section runs the real-server role, not a director$/ },
  { name: 'cluster without groups', text: rsWith(0, 'cluster: lb1'), path: 'cluster', line: 5, column: 10, expected: /^no cluster without groups/ },
  { name: 'metrics without groups', text: rsWith(0, 'metrics: { listen: 127.0.0.1 }'), path: 'metrics', line: 5, column: 10, expected: /^no metrics without groups/ },
  { name: 'a VIP that a group of the same file holds', text: lines(...DIRECTOR, 'realserver:', '  vips: [198.51.100.100]'), path: 'realserver.vips[0]', line: 8, column: 10, expected: /^a VIP no group has \(groups\[0\] has 198\.51\.100\.100\)/ },
  { name: 'groups with realserver still need cluster', text: lines(...DIRECTOR.slice(1), 'realserver:', '  vips: [198.51.100.200]'), path: 'cluster', line: 1, column: 1, value: 'nothing', expected: /^a name of 1\.\.63 .* \(required with groups\)$/ },
  { name: 'groups with realserver still need heartbeat', text: lines(DIRECTOR[0]!, ...DIRECTOR.slice(2), 'realserver:', '  vips: [198.51.100.200]'), path: 'heartbeat', line: 1, column: 1, expected: /^a heartbeat mapping with peers or multicast \(required with groups\)$/ },
];

runIssueCases(CASES, RS_FILE);

t.test('a file with neither groups nor realserver names what is missing', async (t) => {
  const issues = issuesOf(lines('node: x', 'logLevel: info'));
  t.same(issues.map((i) => i.path).sort(), ['cluster', 'groups', 'heartbeat']);
  t.match(issues.find((i) => i.path === 'groups')?.expected, /^a list of at least one group \(on a director\), or a realserver section \(on a real server\)$/);
  t.match(issues.find((i) => i.path === 'cluster')?.expected, /^a name of .*\(required on a director; a real server has a realserver section instead\)$/);
});

t.test('the VIP limit', async (t) => {
  const many = Array.from({ length: LIMITS.realserverVips.max + 1 }, (_, i) => `198.51.100.${i + 1}`);
  const issues = issuesOf(rsWith(3, `  vips: [${many.join(', ')}]`));
  t.same(issues.map((i) => i.path), ['realserver.vips']);
  t.match(issues[0]?.expected, new RegExp(`at most ${LIMITS.realserverVips.max}$`));
});

t.test('the effective configuration of a real server has no director key and loads back unchanged', async (t) => {
  const c = parse(rsWith(0, '  recheck: 1500ms'));
  const text = renderEffectiveConfig(c);
  t.notMatch(text, /^(cluster|heartbeat|quorum|groups|notifyTimeout):/m, 'no director key');
  t.match(text, /^ {2}vips: \[198\.51\.100\.100\/32, 2001:db8::100\/128\]$/m, 'VIPs on one line with their prefix');
  t.match(text, /^ {2}stateFile: \/var\/lib\/haagent\/realserver\.json$/m);
  t.match(text, /^ {2}recheck: 1500ms$/m);
  t.same(parse(text), c, 'round trip');
});

t.test('a director running the role renders both and loads back unchanged', async (t) => {
  const c = parse(lines(...DIRECTOR, 'realserver:', '  vips: [198.51.100.200]', '  recheck: 0s', '  undoOnStop: false'));
  const text = renderEffectiveConfig(c);
  t.match(text, /^groups:/m);
  t.match(text, /^realserver:\n {2}vips: \[198\.51\.100\.200\/32\]\n {2}stateFile: .*\n {2}recheck: 0s\n {2}undoOnStop: false$/m);
  t.same(parse(text), c, 'round trip');
});

t.test('check-config: a real server needs no key file; a director running the role still does', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'haagent-rs-cfg-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'rs.yaml');
  const collect = () => ({ text: '', write(s: string) { this.text += s; } });
  writeFileSync(file, rsWith(0));
  let out = collect();
  let err = collect();
  t.equal(checkConfig(file, out, err), EXIT.OK);
  t.equal(err.text, '');
  t.match(out.text, /^# effective configuration of .*; real-server role only, no key file needed\nnode: r0\n/);
  t.match(out.text, /^realserver:$/m);
  writeFileSync(file, lines(...DIRECTOR.slice(0, 1), `heartbeat: { peers: [198.51.100.11], keyFile: ${join(dir, 'missing.key')} }`, ...DIRECTOR.slice(2), 'realserver:', '  vips: [198.51.100.200]'));
  out = collect();
  err = collect();
  t.equal(checkConfig(file, out, err), EXIT.CONFIG, 'the director part still needs its key');
  t.equal(out.text, '');
  t.match(err.text, /missing\.key/);
});

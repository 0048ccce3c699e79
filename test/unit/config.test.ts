// Configuration validation: every kind of error names its path, its line:column in the file,
// what was written there and what was expected; and all of them come out of one run.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { parseConfigText } from '../../src/config/load.js';
import { formatIssues } from '../../src/config/render.js';
import { BASE, issuesOf } from './config-harness.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/config/${name}`, import.meta.url), 'utf8');

// BASE (config-harness.ts) is a valid document whose lines the cases below replace.

/** BASE with line `n` (1-based) replaced, or extra lines appended when n is 0. */
function withLine(n: number, ...text: string[]): string {
  const lines = [...BASE];
  if (n === 0) lines.push(...text);
  else lines.splice(n - 1, 1, ...text);
  return lines.join('\n') + '\n';
}

t.test('the base document is valid', async (t) => {
  t.ok(parseConfigText(withLine(0), 'haagent.yaml', { hostname: 'd0' }).ok);
});

interface Case {
  name: string;
  text: string;
  path: string;
  line: number;
  column: number;
  value?: string;
  expected: RegExp;
}

const CASES: Case[] = [
  { name: 'IPv4 octet above 255 (a regex let it through elsewhere)', text: withLine(8, '    vip: 198.51.100.300/32'), path: 'groups[0].vip', line: 8, column: 10, value: '"198.51.100.300/32"', expected: /^an IPv4 or IPv6 address with optional \/prefix/ },
  { name: 'IPv4 prefix above 32', text: withLine(8, '    vip: 198.51.100.100/33'), path: 'groups[0].vip', line: 8, column: 10, value: '"198.51.100.100/33"', expected: /prefix must be 1\.\.32 for IPv4/ },
  { name: 'IPv6 prefix above 128', text: withLine(8, '    vip: 2001:db8::1/129'), path: 'groups[0].vip', line: 8, column: 10, expected: /prefix must be 1\.\.128 for IPv6/ },
  { name: 'prefix 0', text: withLine(8, '    vip: 198.51.100.100/0'), path: 'groups[0].vip', line: 8, column: 10, expected: /prefix must be 1\.\.32/ },
  { name: 'multicast VIP', text: withLine(8, '    vip: 239.1.1.1'), path: 'groups[0].vip', line: 8, column: 10, expected: /not a multicast address/ },
  { name: 'VIP with a zone id', text: withLine(8, '    vip: fe80::1%eth0'), path: 'groups[0].vip', line: 8, column: 10, expected: /^an IPv4 or IPv6 address/ },
  { name: 'VIP missing', text: withLine(8), path: 'groups[0].vip', line: 7, column: 5, value: 'nothing', expected: /^an IPv4 or IPv6 address/ },
  { name: 'VIP empty', text: withLine(8, '    vip:'), path: 'groups[0].vip', line: 8, column: 9, value: 'an empty value', expected: /^an IPv4 or IPv6 address/ },
  { name: 'interface with a colon (old eth0:1 alias)', text: withLine(9, '    interface: eth0:1'), path: 'groups[0].interface', line: 9, column: 16, value: '"eth0:1"', expected: /Linux interface name/ },
  { name: 'interface name of 16 characters', text: withLine(9, '    interface: abcdefghijklmnop'), path: 'groups[0].interface', line: 9, column: 16, expected: /1\.\.15 characters/ },
  { name: 'priority 255', text: withLine(0, '    priority: 255'), path: 'groups[0].priority', line: 10, column: 15, value: '255', expected: /^an integer from 1 to 254$/ },
  { name: 'priority not a number', text: withLine(0, '    priority: high'), path: 'groups[0].priority', line: 10, column: 15, value: '"high"', expected: /^an integer from 1 to 254$/ },
  { name: 'preempt not a boolean', text: withLine(0, '    preempt: yes'), path: 'groups[0].preempt', line: 10, column: 14, value: '"yes"', expected: /^true or false$/ },
  { name: 'garp count 0', text: withLine(0, '    garp: { count: 0 }'), path: 'groups[0].garp.count', line: 10, column: 20, value: '0', expected: /^an integer from 1 to 20$/ },
  { name: 'garp form unknown', text: withLine(0, '    garp: { form: both-ways }'), path: 'groups[0].garp.form', line: 10, column: 19, expected: /^one of request, reply, both$/ },
  { name: 'garp refresh too fast', text: withLine(0, '    garp: { refresh: 100ms }'), path: 'groups[0].garp.refresh', line: 10, column: 22, expected: /0s \(off\) or from 1s/ },
  { name: 'group name with a space', text: withLine(7, '  - name: web one'), path: 'groups[0].name', line: 7, column: 11, expected: /^a name of 1\.\.63/ },
  { name: 'unknown key in a group', text: withLine(0, '    intrface: eth1'), path: 'groups[0]', line: 10, column: 5, value: 'unknown key "intrface"', expected: /keys name, mode, levip, bgp, vip, vips, interface, priority, preempt, preemptDelay, sync, garp, confirm, notify, checks, trackInterfaces, pingNodes$/ },
  { name: 'unknown top-level key', text: withLine(0, 'nodes: [a]'), path: '(top level)', line: 10, column: 1, value: 'unknown key "nodes"', expected: /keys node, cluster/ },
  { name: 'groups empty', text: withLine(0).replace(/groups:[^]*$/, 'groups: []\n'), path: 'groups', line: 6, column: 9, value: 'a list', expected: /^a list of at least one group$/ },
  { name: 'cluster missing', text: withLine(1), path: 'cluster', line: 1, column: 1, value: 'nothing', expected: /^a name of/ },
  { name: 'interval below 10ms', text: withLine(5, '  interval: 5ms'), path: 'heartbeat.interval', line: 5, column: 13, value: '"5ms"', expected: /from 10ms to 10s/ },
  { name: 'interval not a duration', text: withLine(5, '  interval: fast'), path: 'heartbeat.interval', line: 5, column: 13, expected: /from 10ms to 10s/ },
  { name: 'deadTime under 2 x interval', text: withLine(0).replace('  interval: 100ms\n', '  interval: 100ms\n  deadTime: 150ms\n'), path: 'heartbeat.deadTime', line: 6, column: 13, value: '"150ms"', expected: /at least 2 x interval \(200ms\)/ },
  { name: 'deadTime and deadCount together', text: withLine(5, '  interval: 100ms', '  deadTime: 300ms', '  deadCount: 3'), path: 'heartbeat.deadCount', line: 7, column: 14, expected: /either deadTime or deadCount, not both/ },
  { name: 'deadCount 1', text: withLine(5, '  interval: 100ms', '  deadCount: 1'), path: 'heartbeat.deadCount', line: 6, column: 14, expected: /^an integer from 2 to 100$/ },
  { name: 'initDead under deadTime', text: withLine(5, '  interval: 100ms', '  initDead: 200ms'), path: 'heartbeat.initDead', line: 6, column: 13, expected: /at least deadTime \(300ms\)/ },
  { name: 'peer equal to bind', text: withLine(4, '  peers: [198.51.100.10]'), path: 'heartbeat.peers[0]', line: 4, column: 11, value: '"198.51.100.10"', expected: /other than heartbeat\.bind/ },
  { name: 'peer listed twice', text: withLine(4, '  peers: [198.51.100.11, "198.51.100.11:694"]'), path: 'heartbeat.peers[1]', line: 4, column: 26, expected: /not already listed \(same as heartbeat\.peers\[0\]\)/ },
  { name: 'peer port out of range', text: withLine(4, '  peers: ["198.51.100.11:70000"]'), path: 'heartbeat.peers[0]', line: 4, column: 11, expected: /port must be 1\.\.65535/ },
  { name: 'peer of the other family than bind', text: withLine(4, '  peers: [2001:db8::11]'), path: 'heartbeat.peers[0]', line: 4, column: 11, expected: /an IPv4 address, like heartbeat\.bind/ },
  { name: 'no peers and no multicast', text: withLine(4, '  peers: []'), path: 'heartbeat', line: 3, column: 3, expected: /at least one of peers .* or multicast/ },
  { name: 'multicast that is unicast', text: withLine(4, '  multicast: 198.51.100.20'), path: 'heartbeat.multicast', line: 4, column: 14, expected: /^a multicast address/ },
  { name: 'bind not an address', text: withLine(3, '  bind: eth0'), path: 'heartbeat.bind', line: 3, column: 9, value: '"eth0"', expected: /^an IPv4 or IPv6 address/ },
  { name: 'port 0', text: withLine(0, 'control: { mode: "0660" }').replace('  interval: 100ms', '  port: 0'), path: 'heartbeat.port', line: 5, column: 9, value: '0', expected: /^an integer from 1 to 65535$/ },
  { name: 'unquoted octal mode', text: withLine(0, 'control:', '  mode: 0660'), path: 'control.mode', line: 11, column: 9, value: '0660', expected: /quote it, YAML 1\.2 reads an unquoted 0660 as decimal 660/ },
  { name: 'mode open to others', text: withLine(0, 'control:', '  mode: "0666"'), path: 'control.mode', line: 11, column: 9, expected: /nothing for others/ },
  { name: 'socket path relative', text: withLine(0, 'control:', '  socket: haagent.sock'), path: 'control.socket', line: 11, column: 11, expected: /^an absolute path/ },
  { name: 'socket path longer than sun_path', text: withLine(0, 'control:', `  socket: /${'s'.repeat(110)}`), path: 'control.socket', line: 11, column: 11, expected: /at most 107 bytes/ },
  { name: 'logLevel unknown', text: withLine(0, 'logLevel: verbose'), path: 'logLevel', line: 10, column: 11, value: '"verbose"', expected: /^one of trace, debug, info, warn, error, fatal$/ },
  { name: 'logFormat unknown', text: withLine(0, 'logFormat: text'), path: 'logFormat', line: 10, column: 12, value: '"text"', expected: /^one of auto, json, journal, pretty$/ },
  { name: 'duplicate group name', text: withLine(0, '  - name: web', '    vip: 198.51.100.101', '    interface: eth0'), path: 'groups[1].name', line: 10, column: 11, value: '"web"', expected: /not already used \(groups\[0\] has it\)/ },
  { name: 'duplicate VIP (other prefix, other spelling)', text: withLine(8, '    vip: 2001:db8::100').concat('  - name: web6\n    vip: 2001:DB8:0::100/64\n    interface: eth0\n'), path: 'groups[1].vip', line: 11, column: 10, expected: /a VIP no other group has \(groups\[0\] has 2001:db8::100\)/ },
  { name: 'YAML syntax error', text: withLine(4, '  peers: [198.51.100.11'), path: '(yaml)', line: 5, column: 3, expected: /^valid YAML: / },
  { name: 'duplicate YAML key', text: withLine(0, 'cluster: lb2'), path: '(yaml)', line: 10, column: 1, expected: /^valid YAML: Map keys must be unique/ },
];

for (const c of CASES) {
  t.test(c.name, async (t) => {
    const issues = issuesOf(c.text);
    const hit = issues.find((i) => i.path === c.path);
    if (!hit) return t.fail(`no issue at ${c.path}; got ${JSON.stringify(issues)}`);
    t.equal(issues.length, 1, 'exactly one issue');
    t.match(hit, { line: c.line, column: c.column });
    if (c.value !== undefined) t.equal(hit.value, c.value);
    t.match(hit.expected, c.expected);
  });
}

t.test('the operator reads compiler-style lines', async (t) => {
  const issues = issuesOf(withLine(8, '    vip: 198.51.100.300/32'));
  t.equal(
    formatIssues('haagent.yaml', issues),
    'haagent.yaml:8:10: groups[0].vip: got "198.51.100.300/32", expected an IPv4 or IPv6 address with optional /prefix (e.g. 198.51.100.100/32)',
  );
});

t.test('a broken file reports every problem at once, in file order', async (t) => {
  const issues = issuesOf(fixture('broken.yaml'));
  t.same(
    issues.map((i) => `${i.line}:${i.column} ${i.path}`),
    [
      '2:1 (top level)',
      '5:11 heartbeat.peers[0]',
      '5:26 heartbeat.peers[1]',
      '7:13 heartbeat.deadTime',
      '9:9 control.mode',
      '12:15 groups[0].priority',
      '13:16 groups[0].interface',
      '14:10 groups[0].vip',
      '15:11 groups[1].name',
    ],
  );
});

t.test('several unknown keys in one mapping each get their own issue', async (t) => {
  const issues = issuesOf(withLine(0, '    color: red', '    size: 3'));
  t.same(issues.map((i) => [i.line, i.value]), [[10, 'unknown key "color"'], [11, 'unknown key "size"']]);
});

t.test('a host name that cannot be a node name needs an explicit node', async (t) => {
  const issues = issuesOf(withLine(0), { hostname: 'host with spaces' });
  t.match(issues, [{ path: 'node', expected: /set node/ }]);
  t.ok(parseConfigText(withLine(0, 'node: d0'), 'haagent.yaml', { hostname: 'host with spaces' }).ok);
});

t.test('an empty file and a non-mapping document are refused with the allowed keys', async (t) => {
  for (const text of ['', '- a\n- b\n', 'just text\n']) {
    t.match(issuesOf(text), [{ path: '(top level)', line: 1, expected: /keys node, cluster, logLevel/ }], JSON.stringify(text));
  }
});

t.test('two YAML documents in one file are refused', async (t) => {
  t.match(issuesOf(withLine(0, '---', 'cluster: x')), [{ path: '(yaml)' }]);
});

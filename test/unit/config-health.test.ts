// Health keys of a group (checks, trackInterfaces, pingNodes) and the top-level quorum:
// defaults from DEFAULTS.health (src/config/defaults.ts), ranges from LIMITS.health, every refusal
// located at path and line:column, the check-config rendering round trip, the shipped example,
// and that docs/configuration.md documents every key the schema accepts.
import t from 'tap';
import { withLines, parse, issuesOf, runIssueCases, type IssueCase } from './config-harness.js';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { renderEffectiveConfig } from '../../src/config/render.js';
import { configSchema } from '../../src/config/schema.js';
import { DEFAULTS } from '../../src/config/defaults.js';
import { LIMITS } from '../../src/config/limits.js';

// A valid document; the cases append lines after line 9. Keep the line numbers stable.

/** One check named c1 of `type` (lines 10-12), its other keys from line 13 at column 9. */
const check = (type: string, ...keys: string[]) =>
  withLines('    checks:', '      - name: c1', `        type: ${type}`, ...keys.map((k) => `        ${k}`));

const COMMON_DEFAULTS = {
  interval: DEFAULTS.health.interval,
  timeout: DEFAULTS.health.timeout,
  rise: DEFAULTS.health.rise,
  fall: DEFAULTS.health.fall,
  weight: DEFAULTS.health.weight,
  holdDown: DEFAULTS.health.holdDown,
};

t.test('a group without health keys gets empty lists, and quorum is off', async (t) => {
  const c = parse(withLines());
  t.same(c.groups[0]?.checks, []);
  t.same(c.groups[0]?.trackInterfaces, []);
  t.same(c.groups[0]?.pingNodes, []);
  t.equal(c.quorum, false);
});

t.test('each check type gets every default it does not write', async (t) => {
  const c = parse(
    withLines(
      '    checks:',
      '      - { name: page, type: http, url: "http://127.0.0.1/health" }',
      '      - { name: port, type: tcp, host: 127.0.0.1, port: 80 }',
      '      - { name: script, type: exec, command: [/usr/local/bin/check] }',
      '      - { name: gw, type: ping, host: "2001:DB8::1" }',
    ),
  );
  t.same(c.groups[0]?.checks, [
    { name: 'page', type: 'http', url: 'http://127.0.0.1/health', expectStatus: null, expectBody: null, insecure: false, ...COMMON_DEFAULTS },
    { name: 'port', type: 'tcp', host: '127.0.0.1', port: 80, ...COMMON_DEFAULTS },
    { name: 'script', type: 'exec', command: ['/usr/local/bin/check'], ...COMMON_DEFAULTS },
    { name: 'gw', type: 'ping', host: '2001:db8::1', ...COMMON_DEFAULTS },
  ]);
});

// The example of docs/health.md "Configuration", under this file's cluster and heartbeat.
const HEALTH_DOC_EXAMPLE = withLines(
  '    checks:',
  '      - name: lb-http',
  '        type: http',
  '        url: http://127.0.0.1:80/health',
  '        expectStatus: 200',
  '        expectBody: "OK"',
  '        interval: 1s',
  '        timeout: 500ms',
  '        rise: 2',
  '        fall: 2',
  '        weight: fault',
  '      - name: lb-port',
  '        type: tcp',
  '        host: 127.0.0.1',
  '        port: 80',
  '        weight: 20',
  '      - name: script',
  '        type: exec',
  '        command: ["/usr/local/bin/check", "--quick"]',
  '        timeout: 2s',
  '      - name: gw',
  '        type: ping',
  '        host: 198.51.100.1',
  '        fall: 3',
  '        insecure: true',
  '        holdDown: 0s',
  '    trackInterfaces: [eth1]',
  '    pingNodes: [198.51.100.1, 203.0.113.1]',
);

t.test('keys written are taken as written (docs/health.md example)', async (t) => {
  // `insecure` is an http key: the ping check above must be refused for it, the rest accepted.
  const issues = issuesOf(HEALTH_DOC_EXAMPLE);
  t.match(issues, [{ path: 'groups[0].checks[3]', value: 'unknown key "insecure"' }]);
  t.equal(issues.length, 1);
  const g = parse(HEALTH_DOC_EXAMPLE.replace('        insecure: true\n', '')).groups[0]!;
  t.same(g.checks?.[0], { name: 'lb-http', type: 'http', url: 'http://127.0.0.1:80/health', expectStatus: 200, expectBody: 'OK', insecure: false, ...COMMON_DEFAULTS });
  t.match(g.checks?.[1], { type: 'tcp', weight: 20, holdDown: DEFAULTS.health.holdDown });
  t.match(g.checks?.[2], { type: 'exec', command: ['/usr/local/bin/check', '--quick'], timeout: 2000, interval: DEFAULTS.health.interval });
  t.match(g.checks?.[3], { type: 'ping', host: '198.51.100.1', fall: 3, holdDown: 0 });
  t.same(g.trackInterfaces, ['eth1']);
  t.same(g.pingNodes, ['198.51.100.1', '203.0.113.1']);
});

t.test('the limits themselves are accepted', async (t) => {
  const L = LIMITS.health;
  const lo = parse(check('tcp', 'host: 127.0.0.1', 'port: 1', `interval: ${L.interval.min}ms`, `timeout: ${L.timeout.min}ms`, `rise: ${L.rise.min}`, `fall: ${L.fall.min}`, `weight: ${L.weight.min}`, 'holdDown: 0s'));
  t.match(lo.groups[0]?.checks?.[0], { port: 1, interval: L.interval.min, timeout: L.timeout.min, rise: L.rise.min, fall: L.fall.min, weight: L.weight.min, holdDown: 0 });
  const hi = parse(check('tcp', 'host: 127.0.0.1', 'port: 65535', `interval: ${L.interval.max}ms`, `timeout: ${L.timeout.max}ms`, `rise: ${L.rise.max}`, `fall: ${L.fall.max}`, `weight: ${L.weight.max}`, `holdDown: ${L.holdDown.max}ms`));
  t.match(hi.groups[0]?.checks?.[0], { port: 65535, interval: L.interval.max, timeout: L.timeout.max, rise: L.rise.max, fall: L.fall.max, weight: L.weight.max, holdDown: L.holdDown.max });
  const nodes = Array.from({ length: L.pingNodes.max }, (_, i) => `198.51.100.${i + 1}`);
  t.equal(parse(withLines(`    pingNodes: [${nodes.join(', ')}]`)).groups[0]?.pingNodes?.length, L.pingNodes.max);
});

t.test('quorum with three or more nodes', async (t) => {
  const three = withLines('quorum: true').replace('peers: [198.51.100.11]', 'peers: [198.51.100.11, 198.51.100.12]');
  t.equal(parse(three).quorum, true);
  // Multicast may complement the peers: the list still gives the node count.
  t.equal(parse(three.replace('  interval:', '  multicast: 239.255.6.94\n  interval:')).quorum, true);
  t.equal(parse(withLines('quorum: false')).quorum, false, 'off is fine with any cluster size');
});

const tooManyNodes = Array.from({ length: LIMITS.health.pingNodes.max + 1 }, (_, i) => `198.51.100.${i + 1}`).join(', ');

const CASES: IssueCase[] = [
  // the list and its items
  { name: 'checks not a list', text: withLines('    checks: { name: a }'), path: 'groups[0].checks', line: 10, column: 13, value: 'a mapping', expected: /^a list of checks/ },
  { name: 'a check that is not a mapping', text: withLines('    checks: [tcp]'), path: 'groups[0].checks[0]', line: 10, column: 14, value: '"tcp"', expected: /^a check: a mapping with name, type/ },
  { name: 'unknown check type', text: check('htp'), path: 'groups[0].checks[0].type', line: 12, column: 15, value: '"htp"', expected: /^one of http, tcp, exec, ping$/ },
  { name: 'check type missing', text: withLines('    checks:', '      - name: c1', '        port: 80'), path: 'groups[0].checks[0].type', line: 11, column: 9, value: 'nothing', expected: /^one of http, tcp, exec, ping$/ },
  { name: 'check name missing', text: withLines('    checks:', '      - type: ping', '        host: 198.51.100.1'), path: 'groups[0].checks[0].name', line: 11, column: 9, value: 'nothing', expected: /^a name of 1\.\.63/ },
  { name: 'check name with a space', text: withLines('    checks:', '      - name: my check', '        type: ping', '        host: 198.51.100.1'), path: 'groups[0].checks[0].name', line: 11, column: 15, expected: /^a name of 1\.\.63/ },
  {
    name: 'check name used twice in a group',
    text: withLines('    checks:', '      - { name: c1, type: ping, host: 198.51.100.1 }', '      - { name: c2, type: ping, host: 198.51.100.2 }', '      - { name: c1, type: ping, host: 198.51.100.3 }'),
    path: 'groups[0].checks[2].name', line: 13, column: 17, value: '"c1"', expected: /^a check name not already used in this group \(checks\[0\] has it\)$/,
  },
  { name: 'a key of another check type', text: check('tcp', 'host: 127.0.0.1', 'port: 80', 'url: http://127.0.0.1/'), path: 'groups[0].checks[0]', line: 15, column: 9, value: 'unknown key "url"', expected: /keys name, type, host, port, interval, timeout, rise, fall, weight, holdDown$/ },
  // http
  { name: 'http url missing', text: check('http'), path: 'groups[0].checks[0].url', line: 11, column: 9, value: 'nothing', expected: /^an http:\/\/ or https:\/\/ URL/ },
  { name: 'http url of another scheme', text: check('http', 'url: ftp://198.51.100.1/health'), path: 'groups[0].checks[0].url', line: 13, column: 14, value: '"ftp://198.51.100.1/health"', expected: /^an http:\/\/ or https:\/\/ URL/ },
  { name: 'http url without a scheme', text: check('http', 'url: 127.0.0.1/health'), path: 'groups[0].checks[0].url', line: 13, column: 14, expected: /^an http:\/\/ or https:\/\/ URL/ },
  { name: 'http url with a password', text: check('http', 'url: "http://admin:secret@127.0.0.1/health"'), path: 'groups[0].checks[0].url', line: 13, column: 14, expected: /without user:password/ },
  { name: 'http expectStatus out of range', text: check('http', 'url: http://127.0.0.1/', 'expectStatus: 700'), path: 'groups[0].checks[0].expectStatus', line: 14, column: 23, value: '700', expected: /^an integer from 100 to 599$/ },
  { name: 'http expectBody empty', text: check('http', 'url: http://127.0.0.1/', 'expectBody: ""'), path: 'groups[0].checks[0].expectBody', line: 14, column: 21, expected: /^a non-empty string of at most 65536 bytes/ },
  { name: 'http expectBody a number', text: check('http', 'url: http://127.0.0.1/', 'expectBody: 42'), path: 'groups[0].checks[0].expectBody', line: 14, column: 21, value: '42', expected: /quote/ },
  { name: 'http insecure not a boolean', text: check('http', 'url: https://127.0.0.1/', 'insecure: yes'), path: 'groups[0].checks[0].insecure', line: 14, column: 19, expected: /^true or false$/ },
  // tcp
  { name: 'tcp host a name, not an address', text: check('tcp', 'host: localhost', 'port: 80'), path: 'groups[0].checks[0].host', line: 13, column: 15, value: '"localhost"', expected: /^an IPv4 or IPv6 address/ },
  { name: 'tcp port 0', text: check('tcp', 'host: 127.0.0.1', 'port: 0'), path: 'groups[0].checks[0].port', line: 14, column: 15, value: '0', expected: /^an integer from 1 to 65535$/ },
  { name: 'tcp port above 65535', text: check('tcp', 'host: 127.0.0.1', 'port: 65536'), path: 'groups[0].checks[0].port', line: 14, column: 15, expected: /^an integer from 1 to 65535$/ },
  { name: 'tcp port missing', text: check('tcp', 'host: 127.0.0.1'), path: 'groups[0].checks[0].port', line: 11, column: 9, value: 'nothing', expected: /^an integer from 1 to 65535$/ },
  // exec
  { name: 'exec command empty', text: check('exec', 'command: []'), path: 'groups[0].checks[0].command', line: 13, column: 18, expected: /^a command: .*; this one is empty$/ },
  { name: 'exec command a shell string', text: check('exec', 'command: "/usr/local/bin/check --quick"'), path: 'groups[0].checks[0].command', line: 13, column: 18, expected: /^a command: a list of strings, the program first/ },
  { name: 'exec program not absolute', text: check('exec', 'command: [check, --quick]'), path: 'groups[0].checks[0].command[0]', line: 13, column: 19, value: '"check"', expected: /^the program as an absolute path .*checks run without a shell/ },
  { name: 'exec argument a number', text: check('exec', 'command: [/usr/local/bin/check, 3]'), path: 'groups[0].checks[0].command[1]', line: 13, column: 41, value: '3', expected: /quote numbers/ },
  // ping
  { name: 'ping host not an address', text: check('ping', 'host: 198.51.100.256'), path: 'groups[0].checks[0].host', line: 13, column: 15, expected: /^an IPv4 or IPv6 address/ },
  // common keys
  { name: 'weight 0 (fault is the word for that)', text: check('ping', 'host: 198.51.100.1', 'weight: 0'), path: 'groups[0].checks[0].weight', line: 14, column: 17, value: '0', expected: /^fault, or an integer from 1 to 253/ },
  { name: 'weight above 253', text: check('ping', 'host: 198.51.100.1', 'weight: 254'), path: 'groups[0].checks[0].weight', line: 14, column: 17, expected: /^fault, or an integer from 1 to 253/ },
  { name: 'weight an unknown word', text: check('ping', 'host: 198.51.100.1', 'weight: fatal'), path: 'groups[0].checks[0].weight', line: 14, column: 17, value: '"fatal"', expected: /^fault, or an integer/ },
  { name: 'interval below 100ms', text: check('ping', 'host: 198.51.100.1', 'interval: 50ms'), path: 'groups[0].checks[0].interval', line: 14, column: 19, expected: /^a duration from 100ms to 1h/ },
  { name: 'timeout below 10ms', text: check('ping', 'host: 198.51.100.1', 'timeout: 5ms'), path: 'groups[0].checks[0].timeout', line: 14, column: 18, expected: /^a duration from 10ms to 10m/ },
  { name: 'rise 0', text: check('ping', 'host: 198.51.100.1', 'rise: 0'), path: 'groups[0].checks[0].rise', line: 14, column: 15, expected: /^an integer from 1 to 100$/ },
  { name: 'fall above 100', text: check('ping', 'host: 198.51.100.1', 'fall: 101'), path: 'groups[0].checks[0].fall', line: 14, column: 15, expected: /^an integer from 1 to 100$/ },
  { name: 'holdDown above 1h', text: check('ping', 'host: 198.51.100.1', 'holdDown: 2h'), path: 'groups[0].checks[0].holdDown', line: 14, column: 19, expected: /^a duration from 0s to 1h/ },
  // trackInterfaces
  { name: 'trackInterfaces not a list', text: withLines('    trackInterfaces: eth1'), path: 'groups[0].trackInterfaces', line: 10, column: 22, expected: /^a list of interface names/ },
  { name: 'trackInterfaces with an alias', text: withLines('    trackInterfaces: [eth0:1]'), path: 'groups[0].trackInterfaces[0]', line: 10, column: 23, expected: /^a Linux interface name/ },
  { name: 'trackInterfaces listing one twice', text: withLines('    trackInterfaces: [eth1, eth2, eth1]'), path: 'groups[0].trackInterfaces[2]', line: 10, column: 35, value: '"eth1"', expected: /^an interface not already listed \(same as trackInterfaces\[0\]\)$/ },
  { name: 'trackInterfaces listing the VIP interface', text: withLines('    trackInterfaces: [eth1, eth0]'), path: 'groups[0].trackInterfaces[1]', line: 10, column: 29, expected: /^an interface other than the VIP interface \(eth0 is always tracked\)$/ },
  // pingNodes
  { name: 'pingNodes with a host name', text: withLines('    pingNodes: [198.51.100.1, gw]'), path: 'groups[0].pingNodes[1]', line: 10, column: 31, value: '"gw"', expected: /^an IPv4 or IPv6 address/ },
  { name: 'too many pingNodes', text: withLines(`    pingNodes: [${tooManyNodes}]`), path: 'groups[0].pingNodes', line: 10, column: 16, value: 'a list', expected: new RegExp(`^a list of at most ${LIMITS.health.pingNodes.max} IP addresses`) },
  { name: 'pingNodes listing one twice (IPv6 spelled two ways)', text: withLines('    pingNodes: [2001:db8::1, 2001:DB8:0::1]'), path: 'groups[0].pingNodes[1]', line: 10, column: 30, expected: /^an address not already listed \(same as pingNodes\[0\]\)$/ },
  // quorum
  { name: 'quorum not a boolean', text: withLines('quorum: yes'), path: 'quorum', line: 10, column: 9, value: '"yes"', expected: /^true or false$/ },
  { name: 'quorum in a pair', text: withLines('quorum: true'), path: 'quorum', line: 10, column: 9, value: 'true', expected: /quorum needs at least 3 nodes \(2 peers\); heartbeat\.peers names 1 node$/ },
  {
    name: 'quorum with multicast only (the node count is unknown)',
    text: withLines('quorum: true').replace('peers: [198.51.100.11]', 'multicast: 239.255.6.94'),
    path: 'quorum', line: 10, column: 9, expected: /quorum needs at least 3 nodes \(2 peers\); with multicast alone the node count is unknown$/,
  },
];

runIssueCases(CASES);

t.test('every problem of a group comes out of one run, in file order', async (t) => {
  const text = withLines(
    '    checks:',
    '      - { name: a, type: tcp, host: 127.0.0.1, port: 0 }',
    '      - { name: a, type: http, url: "ftp://x/" }',
    '    trackInterfaces: [eth0]',
    'quorum: true',
  );
  const paths = issuesOf(text).map((i) => i.path);
  t.same(paths, ['groups[0].checks[0].port', 'groups[0].checks[1].name', 'groups[0].checks[1].url', 'groups[0].trackInterfaces[0]', 'quorum']);
});

t.test('the effective configuration shows the health keys and loads back unchanged', async (t) => {
  const c = parse(HEALTH_DOC_EXAMPLE.replace('        insecure: true\n', '') + 'quorum: false\n');
  const rendered = renderEffectiveConfig(c);
  t.same(parse(rendered), c);
  t.match(rendered, /\nquorum: false\n/);
  t.match(rendered, /\n {6}- name: lb-http\n {8}type: http\n {8}url: http:\/\/127\.0\.0\.1:80\/health\n {8}expectStatus: 200\n {8}expectBody: OK\n {8}insecure: false\n {8}interval: 1s\n {8}timeout: 500ms\n {8}rise: 2\n {8}fall: 2\n {8}weight: fault\n {8}holdDown: 10s\n/);
  t.match(rendered, /\n {8}command: \[\/usr\/local\/bin\/check, --quick\]\n/, 'an argv on one line, as written');
  t.match(rendered, /\n {4}trackInterfaces: \[eth1\]\n {4}pingNodes: \[198\.51\.100\.1, 203\.0\.113\.1\]\n/);
  const plain = renderEffectiveConfig(parse(withLines()));
  t.notMatch(plain, /checks|trackInterfaces|pingNodes/, 'empty lists are left out, like empty hook lists');
  t.match(plain, /\nquorum: false\n/);
});

t.test('http checks without expectations render without them and load back', async (t) => {
  const c = parse(check('http', 'url: "https://127.0.0.1:8443/"', 'insecure: true'));
  const rendered = renderEffectiveConfig(c);
  t.notMatch(rendered, /expectStatus|expectBody/);
  t.match(rendered, /insecure: true/);
  t.same(parse(rendered), c);
});

t.test('the shipped example loads, and so does its commented health example', async (t) => {
  const text = readFileSync(new URL('../../docs/haagent.example.yaml', import.meta.url), 'utf8');
  t.equal(parse(text).quorum, false);
  const lines = text.split('\n');
  const from = lines.findIndex((l) => /^\s*#checks:/.test(l));
  const to = lines.findIndex((l) => /^\s*#pingNodes:/.test(l));
  t.ok(from > 0 && to > from, 'the example has a commented checks ... pingNodes block');
  const uncommented = lines.map((l, i) => (i >= from && i <= to ? l.replace('#', '') : l)).join('\n');
  const g = parse(uncommented).groups[0]!;
  t.ok((g.checks?.length ?? 0) > 0, 'with checks');
  t.ok((g.trackInterfaces?.length ?? 0) > 0, 'with trackInterfaces');
  t.ok((g.pingNodes?.length ?? 0) > 0, 'with pingNodes');
});

// docs/configuration.md lists the keys of each mapping in a table under a heading naming the
// mapping: "### Top level", "### `heartbeat`", "### `groups[]`", "### `groups[].checks[]`"...
// Each table row starts with the key in backticks.

/** [mapping path, key] for every key the schema accepts, found by walking the zod schemas. */
function schemaKeys(schema: z.ZodType, at: string, out: Array<[string, string]>): void {
  if (schema instanceof z.ZodOptional) return schemaKeys(schema.unwrap() as z.ZodType, at, out);
  if (schema instanceof z.ZodArray) return schemaKeys(schema.element as z.ZodType, `${at}[]`, out);
  if (schema instanceof z.ZodUnion) {
    for (const option of schema.options) schemaKeys(option as z.ZodType, at, out);
    return;
  }
  if (!(schema instanceof z.ZodObject)) return;
  for (const [key, value] of Object.entries(schema.shape)) {
    out.push([at, key]);
    schemaKeys(value as z.ZodType, at === '' ? key : `${at}.${key}`, out);
  }
}

/** heading text -> the keys of the table rows under it. */
function docTables(md: string): Map<string, Set<string>> {
  const tables = new Map<string, Set<string>>();
  let rows: Set<string> | undefined;
  for (const line of md.split('\n')) {
    // "### `groups[].levip` (only with `mode: levip`)" is the table of `groups[].levip`.
    if (line.startsWith('#')) tables.set(/^### `[^`]+`/.exec(line)?.[0] ?? line, (rows = new Set()));
    const m = /^\| `([A-Za-z]+)` \|/.exec(line);
    if (m && rows) rows.add(m[1]!);
  }
  return tables;
}

const headingFor = (at: string) => (at === '' ? '### Top level' : `### \`${at}\``);

t.test('docs/configuration.md documents every key of the schema, under its mapping', async (t) => {
  const md = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
  const tables = docTables(md);
  const keys: Array<[string, string]> = [];
  schemaKeys(configSchema, '', keys);
  t.ok(keys.some(([at, key]) => at === 'groups[].checks[]' && key === 'expectBody'), 'the walk reaches the check types');
  const missing = keys.filter(([at, key]) => !tables.get(headingFor(at))?.has(key)).map(([at, key]) => `${headingFor(at)}: ${key}`);
  t.same([...new Set(missing)], [], 'keys without a row in their table');
  // And the other way round: a row for a key the schema does not accept is a stale doc.
  const known = new Set(keys.map(([at, key]) => `${headingFor(at)}: ${key}`));
  const mappings = new Set(keys.map(([at]) => headingFor(at)));
  const stale = [...tables]
    .filter(([heading]) => mappings.has(heading))
    .flatMap(([heading, rows]) => [...rows].map((k) => `${heading}: ${k}`))
    .filter((k) => !known.has(k));
  t.same(stale, [], 'rows for keys the schema does not accept');
});

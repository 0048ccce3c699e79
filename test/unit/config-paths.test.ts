/**
 * Redundant heartbeat paths with a local address each: a heartbeat.peers entry may name the
 * local address its path leaves from (`bind`), which overrides heartbeat.bind for that path.
 * Parsing and resolution, the refusals (each at its line), and check-config's check that the
 * bind addresses are this host's (a fake host here; the namespace drill runs the real one).
 */
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkConfig, missingInterfaces } from '../../src/cli/check-config.js';
import { EXIT } from '../../src/cli/exit.js';
import { parseConfigText } from '../../src/config/load.js';
import { renderEffectiveConfig } from '../../src/config/render.js';
import { linkNames, type HostAddresses } from '../../src/adapters/host-addresses.js';
import { issuesOf, parse } from './config-harness.js';

/** Two paths to d1: the service segment (heartbeat.bind) and a backbone with its own bind. */
const TWO_PATHS = [
  'cluster: lb1', //                                                     1
  'heartbeat:', //                                                       2
  '  bind: 198.51.100.10', //                                            3
  '  peers:', //                                                         4
  '    - { node: d1, address: 198.51.100.11 }', //                       5
  '    - { node: d1, address: 203.0.113.11, bind: 203.0.113.10 }', //   6
  'groups:', //                                                          7
  '  - { name: web, vip: 198.51.100.100/32, interface: eth0 }', //       8
];

/** TWO_PATHS with line n (1-based) replaced. */
function withLine(n: number, text: string): string {
  const lines = [...TWO_PATHS];
  lines.splice(n - 1, 1, text);
  return lines.join('\n') + '\n';
}

const text = withLine(1, TWO_PATHS[0]!);

t.test('a path with its own bind resolves with it; the others take heartbeat.bind', async (t) => {
  const c = parse(text);
  t.equal(c.heartbeat.bind, '198.51.100.10');
  t.same(c.heartbeat.peers, [
    { address: '198.51.100.11', port: 694, node: 'd1' },
    { address: '203.0.113.11', port: 694, node: 'd1', bind: '203.0.113.10' },
  ]);
  t.same(parse(renderEffectiveConfig(c)).heartbeat.peers, c.heartbeat.peers, 'the effective configuration reads back the same');
  const v6 = parse(withLine(6, '    - { node: d1, address: "2001:db8::11", bind: "2001:DB8:0::10" }').replace('  bind: 198.51.100.10\n', '').replace('198.51.100.11 }', '"2001:db8:1::11" }'));
  t.equal(v6.heartbeat.peers[1]?.bind, '2001:db8::10', 'an IPv6 bind is kept in its canonical form');
  t.equal(parse(text.replace('  bind: 198.51.100.10\n', '')).heartbeat.bind, null, 'heartbeat.bind may be left out beside a path bind');
});

t.test('a path bind that cannot be this node\'s address is refused at the path', async (t) => {
  const cases: [string, string, RegExp][] = [
    ['    - { node: d1, address: 203.0.113.11, bind: eth1 }', 'heartbeat.peers[1]', /bind is a local address of this node/],
    ['    - { node: d1, address: 203.0.113.11, bind: 239.1.1.1 }', 'heartbeat.peers[1]', /bind is a local address .*not multicast/],
    ['    - { node: d1, address: 203.0.113.11, bind: 0.0.0.0 }', 'heartbeat.peers[1]', /bind is a local address .*not 0\.0\.0\.0/],
    ['    - { node: d1, address: 203.0.113.11, source: 203.0.113.10 }', 'heartbeat.peers[1]', /the keys node and address, and bind only/],
  ];
  for (const [line, path, expected] of cases) {
    const issues = issuesOf(withLine(6, line));
    t.equal(issues.length, 1, `${line}: one issue (${JSON.stringify(issues)})`);
    t.match(issues[0], { path, line: 6 }, `${line}: at ${path}, line 6`);
    t.match(issues[0]?.expected, expected, `${line}: says what is expected`);
  }
});

t.test('a path bind of the other family than its address is refused at the bind', async (t) => {
  const issues = issuesOf(withLine(6, '    - { node: d1, address: 203.0.113.11, bind: "2001:db8::10" }'));
  t.equal(issues.length, 1, JSON.stringify(issues));
  t.match(issues[0], { path: 'heartbeat.peers[1].bind', line: 6, column: 48, value: '"2001:db8::10"' });
  t.match(issues[0]?.expected, /an IPv4 address, like this path's address/);
});

t.test('a peer address that is one of this node\'s bind addresses is this node', async (t) => {
  const issues = issuesOf(withLine(5, '    - { node: d1, address: 203.0.113.10 }'));
  t.equal(issues.length, 1, JSON.stringify(issues));
  t.match(issues[0], { path: 'heartbeat.peers[0]', line: 5 });
  t.match(issues[0]?.expected, /other than heartbeat\.bind and the paths' bind addresses/);
});

/** The host's addresses as check-config would read them. */
const host = (...addresses: string[]): (() => HostAddresses) => () => ({ ok: true, addresses: new Set(addresses) });
const THIS_HOST = host('127.0.0.1', '198.51.100.10', '203.0.113.10', '::1');

t.test('with the host\'s addresses: every bind must be one of them, where it is written', async (t) => {
  const check = (doc: string, addresses: () => HostAddresses) => {
    const r = addresses();
    return parseConfigText(doc, 'haagent.yaml', { hostname: 'd0', localAddresses: r.ok ? r.addresses : null });
  };
  t.ok(check(text, THIS_HOST).ok, 'both binds are this host\'s');
  const missing = check(text, host('198.51.100.10'));
  t.notOk(missing.ok);
  if (!missing.ok) {
    t.equal(missing.issues.length, 1, JSON.stringify(missing.issues));
    t.match(missing.issues[0], { path: 'heartbeat.peers[1].bind', line: 6, column: 48, value: '"203.0.113.10"' });
    t.match(missing.issues[0]?.expected, /an address of this host \(203\.0\.113\.10 is on none of its interfaces/);
  }
  const main = check(text, host('203.0.113.10'));
  t.match(main.ok ? [] : main.issues, [{ path: 'heartbeat.bind', line: 3, column: 9 }], 'heartbeat.bind is checked too');
  t.ok(check(withLine(3, '  bind: 0.0.0.0'), host('203.0.113.10')).ok, 'bind 0.0.0.0 (every address) needs no address of its own');
  t.ok(parseConfigText(text, 'haagent.yaml', { hostname: 'd0' }).ok, 'without the host\'s addresses nothing is checked (run, reload)');
});

/** The document in a file, with `node: d0` and a key file added above line 3 (so line n is n + 2). */
function tempConfig(t: Test, doc: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'haagent-paths-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const key = join(dir, 'key');
  writeFileSync(key, `${'5a'.repeat(32)}\n`, { mode: 0o600 });
  const file = join(dir, 'haagent.yaml');
  writeFileSync(file, `node: d0\n${doc.replace('heartbeat:\n', `heartbeat:\n  keyFile: ${key}\n`)}`);
  return file;
}

t.test('check-config: a bind address the host lacks is exit 78 with file:line:column', async (t) => {
  const file = tempConfig(t, text);
  let out = '';
  let err = '';
  const run = (h: () => HostAddresses) => {
    out = err = '';
    return checkConfig(file, { write: (s: string) => (out += s) }, { write: (s: string) => (err += s) }, h);
  };
  t.equal(run(THIS_HOST), EXIT.OK, err);
  t.match(out, /bind: 203\.0\.113\.10/, 'the effective configuration shows the path bind');
  t.equal(run(host('198.51.100.10')), EXIT.CONFIG);
  t.equal(out, '', 'nothing on stdout');
  t.match(err, new RegExp(`${file.replace(/[.]/g, '\\.')}:8:48: heartbeat\\.peers\\[1\\]\\.bind: got "203\\.0\\.113\\.10", expected an address of this host`));
  t.equal(run(() => ({ ok: false, why: 'ip: not found' })), EXIT.OK, 'the host\'s addresses unreadable: not checkable, not refused');
  t.match(out, /^# bind addresses not checked against this host's: ip: not found$/m);
});

t.test('check-config: an interface this host lacks is a warning, not a refusal', async (t) => {
  const file = tempConfig(t, text);
  let out = '';
  let err = '';
  const run = (interfaces: string[]) => {
    out = err = '';
    const h = (): HostAddresses => ({ ok: true, addresses: new Set(['127.0.0.1', '198.51.100.10', '203.0.113.10', '::1']), interfaces: new Set(interfaces) });
    return checkConfig(file, { write: (s: string) => (out += s) }, { write: (s: string) => (err += s) }, h);
  };
  t.equal(run(['lo', 'eth0', 'eth1']), EXIT.OK);
  t.equal(err, '', 'every interface present: no warning');
  t.equal(run(['lo', 'eth1']), EXIT.OK, 'still exit 0: a VLAN or bond may come later');
  t.match(err, /^haagent: warning: groups\[0\]\.interface: no interface eth0 on this host/m);
  t.match(out, /^# effective configuration/, 'the configuration is printed all the same');
  t.same(missingInterfaces({ groups: [{ interface: 'eth0', trackInterfaces: ['eth5'] }] } as never, { ok: true, addresses: new Set(), interfaces: new Set(['eth0']) }), [
    'groups[0].trackInterfaces: no interface eth5 on this host (tracked as down until it exists)',
  ]);
  t.same(missingInterfaces({ groups: [{ interface: 'eth9' }] } as never, { ok: true, addresses: new Set() }), [], 'link names not read: nothing said');
  const v = (address: string, iface: string) => ({ vip: { address, prefix: 32, family: 4 }, iface });
  const multi = { groups: [{ interface: 'eth0', vips: [v('198.51.100.100', 'eth0'), v('203.0.113.1', 'eth1'), v('203.0.113.2', 'eth1'), v('203.0.113.3', 'eth2')] }] };
  t.same(missingInterfaces(multi as never, { ok: true, addresses: new Set(), interfaces: new Set(['eth0', 'eth2']) }), [
    'groups[0].vips: no interface eth1 on this host, for 203.0.113.1, 203.0.113.2 (the group stays in fault until it exists)',
  ], 'a VIP on another interface: that interface is checked too, once');
});

t.test('linkNames: every link of `ip -json addr show`, addresses or not', async (t) => {
  t.same([...linkNames('[{"ifname":"lo","addr_info":[]},{"ifname":"eth0"},{"x":1}]')], ['lo', 'eth0']);
});

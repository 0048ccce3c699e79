// Loading valid configurations: defaults, derived timings, peers, IPv6, the shipped example,
// and the effective-config rendering that check-config prints.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULTS } from '../../src/config/defaults.js';
import { loadConfigFile, parseConfigText } from '../../src/config/load.js';
import { renderEffectiveConfig } from '../../src/config/render.js';
import type { Config } from '../../src/config/types.js';

const fixturePath = (name: string) => new URL(`../fixtures/config/${name}`, import.meta.url).pathname;

function load(path: string, hostname = 'host-a'): Config {
  const r = loadConfigFile(path, { hostname });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.config;
}

function parse(text: string): Config {
  const r = parseConfigText(text, 'haagent.yaml', { hostname: 'host-a' });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.config;
}

const hb = (lines: string) => parse(`cluster: c\nheartbeat:\n${lines}\ngroups: [{ name: g, vip: 198.51.100.100, interface: eth0 }]\n`).heartbeat;

t.test('a minimal file gets every default from the one defaults object', async (t) => {
  const c = load(fixturePath('minimal.yaml'));
  t.same(c, {
    node: 'host-a',
    director: true,
    cluster: 'lb1',
    logLevel: DEFAULTS.logLevel,
    logFormat: 'auto',
    stateDir: DEFAULTS.stateDir,
    realtime: DEFAULTS.realtime,
    control: { socket: DEFAULTS.controlSocket, mode: DEFAULTS.controlMode, statusSocket: null, statusMode: DEFAULTS.controlStatusMode },
    heartbeat: {
      bind: null,
      port: DEFAULTS.port,
      peers: [{ address: '198.51.100.11', port: DEFAULTS.port, node: null }],
      multicast: null,
      interval: DEFAULTS.interval,
      deadTime: DEFAULTS.deadCount * DEFAULTS.interval,
      initDead: DEFAULTS.initDeadFactor * DEFAULTS.deadCount * DEFAULTS.interval,
      keyFile: DEFAULTS.keyFile,
      acceptKeyFile: null,
    },
    groups: [
      {
        name: 'web',
        mode: DEFAULTS.mode,
        vip: { address: '198.51.100.100', prefix: 32, family: 4 },
        interface: 'eth0',
        vips: [{ vip: { address: '198.51.100.100', prefix: 32, family: 4 }, iface: 'eth0' }],
        priority: DEFAULTS.priority,
        preempt: DEFAULTS.preempt,
        preemptDelay: DEFAULTS.preemptDelay,
        garp: { ...DEFAULTS.garp },
        notify: [],
        checks: [],
        trackInterfaces: [],
        pingNodes: [],
      },
    ],
    quorum: DEFAULTS.quorum,
    notify: [],
    notifyTimeout: DEFAULTS.notifyTimeout,
    metrics: { listen: null },
    realserver: null,
  });
});

t.test('every key written is taken as written', async (t) => {
  const c = load(fixturePath('full.yaml'));
  t.match(c, {
    node: 'd0',
    logLevel: 'debug',
    stateDir: '/var/lib/haagent-test',
    control: { socket: '/run/haagent/test.sock', mode: 0o640 },
    heartbeat: { bind: '198.51.100.10', interval: 50, deadTime: 150, initDead: 500, keyFile: '/etc/haagent/test.key', acceptKeyFile: '/etc/haagent/test.key.old' },
  });
  t.same(c.groups[0], {
    name: 'web',
    mode: 'failover',
    vip: { address: '198.51.100.100', prefix: 32, family: 4 },
    interface: 'eth0',
    vips: [{ vip: { address: '198.51.100.100', prefix: 32, family: 4 }, iface: 'eth0' }],
    priority: 150,
    preempt: false,
    preemptDelay: 2000,
    garp: { count: 5, spacing: 30, form: 'request', refresh: 60_000 },
    notify: [],
    checks: [],
    trackInterfaces: [],
    pingNodes: [],
  });
});

t.test('peers: "addr:port" keeps its port, a bare address takes heartbeat.port', async (t) => {
  t.same(hb('  port: 700\n  peers: [198.51.100.11, "198.51.100.12:695", 198.51.100.13:1]').peers, [
    { address: '198.51.100.11', port: 700, node: null },
    { address: '198.51.100.12', port: 695, node: null },
    { address: '198.51.100.13', port: 1, node: null },
  ]);
  t.same(hb('  peers: [2001:db8::11, "[2001:DB8::12]:695"]').peers, [
    { address: '2001:db8::11', port: DEFAULTS.port, node: null },
    { address: '2001:db8::12', port: 695, node: null },
  ]);
});

t.test('a peer on the bind address but another port is another agent, not this one', async (t) => {
  t.same(hb('  bind: 198.51.100.10\n  peers: ["198.51.100.10:695"]').peers, [{ address: '198.51.100.10', port: 695, node: null }]);
});

t.test('deadCount is counted in intervals; initDead defaults to twice deadTime', async (t) => {
  t.match(hb('  peers: [198.51.100.11]\n  interval: 40ms\n  deadCount: 5'), { interval: 40, deadTime: 200, initDead: 400 });
  t.match(hb('  peers: [198.51.100.11]\n  interval: 40ms\n  deadTime: 1s'), { deadTime: 1000, initDead: 2000 });
  t.match(hb('  peers: [198.51.100.11]\n  interval: 40ms'), { deadTime: 120, initDead: 240 });
  t.match(hb('  peers: [198.51.100.11]\n  deadTime: 200ms\n  initDead: 200ms'), { deadTime: 200, initDead: 200 });
  t.throws(() => hb('  peers: [198.51.100.11]\n  interval: 250'), /add a unit: 250ms or 250s/, 'a number without a unit is refused');
});

t.test('control.mode accepts "0660", "660" and "0o600"', async (t) => {
  const mode = (m: string) =>
    parse(`cluster: c\nheartbeat: { peers: [198.51.100.11] }\ncontrol: { mode: "${m}" }\ngroups: [{ name: g, vip: 198.51.100.1, interface: e }]\n`).control.mode;
  t.equal(mode('0660'), 0o660);
  t.equal(mode('660'), 0o660);
  t.equal(mode('0o600'), 0o600);
});

t.test('control.statusSocket: the read-only socket, "0666" by default, any mode with owner read+write', async (t) => {
  const text = (control: string) => `cluster: c\nheartbeat: { peers: [198.51.100.11] }\ncontrol: { ${control} }\ngroups: [{ name: g, vip: 198.51.100.1, interface: e }]\n`;
  t.same(parse(text('statusSocket: /run/haagent/ro.sock')).control, { socket: DEFAULTS.controlSocket, mode: 0o660, statusSocket: '/run/haagent/ro.sock', statusMode: 0o666 });
  t.equal(parse(text('statusSocket: /run/haagent/ro.sock, statusMode: "0660"')).control.statusMode, 0o660);
  const issues = (control: string) => {
    const r = parseConfigText(text(control), 'haagent.yaml', { hostname: 'host-a' });
    return r.ok ? [] : r.issues.map((i) => `${i.path}: ${i.expected}`);
  };
  t.match(issues('statusSocket: /run/ro.sock, statusMode: "0466"'), [/^control\.statusMode: .*owner read\+write/]);
  t.match(issues('statusSocket: /run/haagent/haagent.sock'), [/^control\.statusSocket: a path other than control\.socket/]);
  t.match(issues('socket: /run/a.sock, statusSocket: /run/a.sock'), [/^control\.statusSocket: a path other than control\.socket/]);
  t.same(issues('socket: /run/a.sock, statusSocket: /run/b.sock'), []);
  t.match(renderEffectiveConfig(parse(text('statusSocket: /run/haagent/ro.sock'))), /statusSocket: \/run\/haagent\/ro\.sock\n\s+statusMode: "?0666"?/);
  t.notMatch(renderEffectiveConfig(parse(text('mode: "0600"'))), /statusSocket/, 'none unless configured');
});

t.test('IPv6: VIPs are canonicalised the way ip -json prints them, /128 by default', async (t) => {
  const c = load(fixturePath('full.yaml'));
  t.same(c.groups[1]?.vip, { address: '2001:db8::100', prefix: 128, family: 6 });
  const m = load(fixturePath('multicast-v6.yaml'));
  t.same(m.groups[0]?.vip, { address: '2001:db8::200', prefix: 64, family: 6 });
  t.match(m.heartbeat, { multicast: 'ff05::6:94', peers: [], interval: 200, deadTime: 1000 });
});

t.test('the shipped example loads', async (t) => {
  const c = load(new URL('../../docs/haagent.example.yaml', import.meta.url).pathname);
  t.equal(c.node, 'd0');
  t.equal(c.groups.length, 2);
});

t.test('the effective configuration loads back to the same configuration', async (t) => {
  for (const name of ['minimal.yaml', 'full.yaml', 'multicast-v6.yaml']) {
    const c = load(fixturePath(name));
    const text = renderEffectiveConfig(c);
    t.same(parse(text), c, name);
  }
  const text = renderEffectiveConfig(load(fixturePath('full.yaml')));
  t.match(text, /interval: 50ms\n/);
  t.match(text, /mode: "0640"\n/);
  t.match(text, /refresh: 1m\n/);
  t.match(text, /- 198\.51\.100\.12:695\n/);
});

t.test('a missing file is one issue with path "(file)"', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'haagent-config-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const r = loadConfigFile(join(dir, 'nope.yaml'));
  t.match(r, { ok: false, file: join(dir, 'nope.yaml'), issues: [{ path: '(file)', expected: /ENOENT/ }] });
  t.equal(r.ok ? 0 : r.issues.length, 1);
  const big = join(dir, 'big.yaml');
  writeFileSync(big, `# ${'x'.repeat(1024 * 1024)}\n`);
  t.match(loadConfigFile(big), { ok: false, issues: [{ path: '(file)', expected: /bytes/ }] });
});

t.test('without a node key and without opts.hostname, the host name is used', async (t) => {
  const r = parseConfigText('cluster: c\nheartbeat: { peers: [198.51.100.11] }\ngroups: [{ name: g, vip: 198.51.100.1, interface: e }]\n', 'x');
  t.equal(r.ok ? r.config.node : null, hostname());
});

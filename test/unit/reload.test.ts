/** Which settings a reload refuses (they belong to the process): restartOnlyChanges is pure. */
import t from 'tap';
import { parseConfigText } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import { restartOnlyChanges } from '../../src/daemon/reload.js';

const BASE = `node: d0
cluster: lb1
heartbeat:
  bind: 198.51.100.10
  peers: [198.51.100.11]
  keyFile: /etc/haagent/key
groups:
  - name: web
    vip: 198.51.100.100/32
    interface: eth0
    priority: 150
`;

function cfg(text: string): Config {
  const r = parseConfigText(text, 'test.yaml');
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.config;
}

t.test('group settings reload; process settings need a restart', async (t) => {
  const a = cfg(BASE);
  t.same(restartOnlyChanges(a, cfg(BASE.replace('priority: 150', 'priority: 50'))), [], 'priority reloads');
  t.same(restartOnlyChanges(a, cfg(BASE + '  - name: db\n    vip: 198.51.100.101/32\n    interface: eth0\n')), [], 'a new group reloads');
  t.same(restartOnlyChanges(a, cfg(BASE.replace('node: d0', 'node: d9'))), ['node']);
  t.same(restartOnlyChanges(a, cfg(BASE.replace('[198.51.100.11]', '[198.51.100.12]'))), ['heartbeat.peers']);
  t.same(restartOnlyChanges(a, cfg(BASE.replace('keyFile: /etc/haagent/key', 'keyFile: /etc/haagent/key2'))), ['heartbeat.keyFile']);
  const rs = cfg('node: d0\nrealserver:\n  vips: [198.51.100.100]\n');
  t.match(restartOnlyChanges(a, rs), ['groups (director <-> real-server-only)'], 'a file without groups is not a reload of a director');
});

t.test('checks, tracked interfaces, ping nodes and new groups on new interfaces reload', async (t) => {
  const a = cfg(BASE);
  const withCheck = BASE + '    checks:\n      - { name: lb, type: tcp, host: 127.0.0.1, port: 80 }\n    trackInterfaces: [eth2]\n    pingNodes: [198.51.100.1]\n';
  t.same(restartOnlyChanges(a, cfg(withCheck)), [], 'checks added');
  t.same(restartOnlyChanges(cfg(withCheck), a), [], 'checks removed');
  t.same(restartOnlyChanges(a, cfg(BASE + '  - name: db\n    vip: 198.51.100.101/32\n    interface: eth1\n')), [], 'a new group on a new interface');
});

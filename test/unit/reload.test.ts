/**
 * Which settings a reload refuses (they belong to the process): restartOnlyChanges is pure.
 * checkReload reads the file and both key files: a key change reloads, a bad key file refuses
 * the whole reload before anything is applied.
 */
import t, { type Test } from 'tap';
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigText } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import { checkReload, restartOnlyChanges } from '../../src/daemon/reload.js';
import { createLogger } from '../../src/log.js';

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
  t.same(restartOnlyChanges(a, cfg(BASE.replace('keyFile: /etc/haagent/key', 'keyFile: /etc/haagent/key2'))), [], 'keyFile reloads (a rotation)');
  t.same(restartOnlyChanges(a, cfg(BASE.replace('keyFile: /etc/haagent/key', 'keyFile: /etc/haagent/key2\n  acceptKeyFile: /etc/haagent/key'))), [], 'acceptKeyFile too');
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

function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'haagent-reload-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const silent = createLogger('silent', 'd0');

t.test('checkReload: a rotation step reloads with both keys; a bad key file refuses it all', async (t) => {
  const dir = tempDir(t);
  const write = (name: string, hex: string, mode = 0o600) => {
    const p = join(dir, name);
    writeFileSync(p, `${hex}\n`);
    chmodSync(p, mode);
    return p;
  };
  const oldKey = write('key.old', '0a'.repeat(32));
  const newKey = write('key.new', '0b'.repeat(32));
  const file = join(dir, 'haagent.yaml');
  const text = (keys: string) => BASE.replace('  keyFile: /etc/haagent/key\n', keys);
  writeFileSync(file, text(`  keyFile: ${oldKey}\n`));
  const current = cfg(text(`  keyFile: ${oldKey}\n`));
  const step = (keys: string) => (writeFileSync(file, text(keys)), checkReload(file, current, silent));

  const s1 = step(`  keyFile: ${oldKey}\n  acceptKeyFile: ${newKey}\n`);
  t.match(s1, { ok: true, keys: { send: Buffer.alloc(32, 0x0a), accept: Buffer.alloc(32, 0x0b) } }, 'step 1: the new key accepted');
  const s2 = step(`  keyFile: ${newKey}\n  acceptKeyFile: ${oldKey}\n`);
  t.match(s2, { ok: true, keys: { send: Buffer.alloc(32, 0x0b), accept: Buffer.alloc(32, 0x0a) } }, 'step 2: sent with the new key, the old one accepted');
  const s3 = step(`  keyFile: ${newKey}\n`);
  t.match(s3, { ok: true, keys: { send: Buffer.alloc(32, 0x0b), accept: null } }, 'step 3: the old key dropped');

  const loose = write('key.loose', '0c'.repeat(32), 0o644);
  const bad = step(`  keyFile: ${oldKey}\n  acceptKeyFile: ${loose}\n`);
  t.same(bad, {
    ok: false,
    response: { ok: false, message: `reload refused, still running the previous config and keys:\naccept key file ${loose}: mode 0644 lets group or others access it; run: chmod 600 ${loose}` },
  });
  const link = join(dir, 'key.link');
  symlinkSync(newKey, link);
  t.match(step(`  keyFile: ${link}\n`), { ok: false, response: { message: /key file .*key\.link: is a symbolic link/ } }, 'a symlinked key file: refused');
  t.match(step(`  keyFile: ${join(dir, 'absent')}\n  acceptKeyFile: ${loose}\n`), { ok: false, response: { message: /missing[^]*\naccept key file[^]*mode 0644/ } }, 'both problems told');
  // The key file is read again even when its path is the same: a reload is how new content is taken.
  write('key.old', '0d'.repeat(32));
  t.match(step(`  keyFile: ${oldKey}\n`), { ok: true, keys: { send: Buffer.alloc(32, 0x0d), accept: null } });
  t.match(step(`  keyFile: ${oldKey}\n  bogus: 1\n`), { ok: false, response: { message: /reload refused, still running the previous config:\n[^]*bogus/ } }, 'an invalid file: refused before the keys are read');
});

// check-config and keygen through their handler functions (the lead spawns the real binary).
import t, { type Test } from 'tap';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkConfig, type TextOut } from '../../src/cli/check-config.js';
import { EXIT } from '../../src/cli/exit.js';
import { keygen } from '../../src/cli/keygen.js';
import { loadKey } from '../../src/config/key.js';
import { parseConfigText } from '../../src/config/load.js';
import { keyId } from '../../src/wire/keyring.js';

class Collect implements TextOut {
  text = '';
  write(s: string): boolean {
    this.text += s;
    return true;
  }
}

function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'haagent-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const configText = (keyFile: string) =>
  `node: d0\ncluster: lb1\nheartbeat:\n  peers: [198.51.100.11]\n  keyFile: ${keyFile}\n` +
  'groups:\n  - name: web\n    vip: 198.51.100.100\n    interface: eth0\n';

function setup(t: Test, keyMode = 0o600): { dir: string; config: string; key: string } {
  const dir = tempDir(t);
  const key = join(dir, 'key');
  writeFileSync(key, `${'5a'.repeat(32)}\n`);
  chmodSync(key, keyMode);
  const config = join(dir, 'haagent.yaml');
  writeFileSync(config, configText(key));
  return { dir, config, key };
}

function run(path: string) {
  const out = new Collect();
  const err = new Collect();
  // This host's links and addresses are not the test's business (a CI machine may have no eth0).
  return { code: checkConfig(path, out, err, () => ({ ok: false, why: 'not read in this test' })), out: out.text, err: err.text };
}

t.test('check-config: valid config and key print the effective config, exit 0', async (t) => {
  const { config } = setup(t);
  const r = run(config);
  t.equal(r.code, EXIT.OK);
  t.equal(r.err, '');
  t.match(r.out, /^# effective configuration of /);
  t.match(r.out, /deadTime: 300ms/, 'defaults are filled in');
  t.notMatch(r.out, /5a5a/, 'the key is never printed');
  const back = parseConfigText(r.out, 'stdout', { hostname: 'x' });
  t.ok(back.ok, 'the printed configuration is itself valid');
});

t.test('check-config: every issue goes to stderr, exit 78, nothing on stdout', async (t) => {
  const { config } = setup(t);
  writeFileSync(config, 'cluster: lb1\nheartbeat: { peers: [] }\ngroups:\n  - name: web\n    vip: 198.51.100.300\n    interface: eth0\n');
  const r = run(config);
  t.equal(r.code, EXIT.CONFIG);
  t.equal(r.out, '');
  t.match(r.err, `${config}:2:12: heartbeat: expected at least one of peers`);
  t.match(r.err, `${config}:5:10: groups[0].vip: got "198.51.100.300"`);
  t.match(r.err, /2 issues, configuration not valid\n$/);
});

t.test('check-config: a missing file is exit 78 with the reason', async (t) => {
  const r = run(join(tempDir(t), 'absent.yaml'));
  t.equal(r.code, EXIT.CONFIG);
  t.match(r.err, /absent\.yaml: \(file\): expected a readable configuration file \(ENOENT/);
});

t.test('check-config: a key readable by others is exit 78, config not printed', async (t) => {
  const { config, key } = setup(t, 0o644);
  const r = run(config);
  t.equal(r.code, EXIT.CONFIG);
  t.equal(r.out, '');
  t.equal(r.err, `haagent: key file ${key}: mode 0644 lets group or others access it; run: chmod 600 ${key}\n`);
});

t.test('check-config: the accept key file is checked like the key file; key ids, never keys, are printed', async (t) => {
  const { dir, config, key } = setup(t);
  const accept = join(dir, 'key.new');
  writeFileSync(accept, `${'6b'.repeat(32)}\n`, { mode: 0o600 });
  writeFileSync(config, configText(key).replace(`keyFile: ${key}\n`, `keyFile: ${key}\n  acceptKeyFile: ${accept}\n`));
  const ok = run(config);
  t.equal(ok.code, EXIT.OK, ok.err);
  t.match(ok.out, `key file ok (key id ${keyId(Buffer.alloc(32, 0x5a))}), accept key file ok (key id ${keyId(Buffer.alloc(32, 0x6b))})`);
  t.match(ok.out, `acceptKeyFile: ${accept}\n`, 'the effective configuration has it');
  t.notMatch(ok.out, /5a5a|6b6b/);
  rmSync(accept);
  symlinkSync(key, accept);
  chmodSync(key, 0o640);
  const bad = run(config);
  t.equal(bad.code, EXIT.CONFIG);
  t.equal(bad.out, '');
  t.equal(
    bad.err,
    `haagent: key file ${key}: mode 0640 lets group or others access it; run: chmod 600 ${key}\n` +
      `haagent: accept key file ${accept}: is a symbolic link (refused: another user could point it elsewhere); set the path of the file itself (readlink -f ${accept})\n`,
    'both files, one line each',
  );
});

function gen(args: { config: string; out?: string; force?: boolean }, key?: Buffer) {
  const out = new Collect();
  const err = new Collect();
  const code = keygen({ force: false, ...args }, out, err, key);
  return { code, out: out.text, err: err.text };
}

t.test('keygen --out writes a loadable 0600 key and does not print it', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'k');
  const key = Buffer.alloc(32, 0x3c);
  const r = gen({ config: join(dir, 'no-config.yaml'), out: path }, key);
  t.equal(r.code, EXIT.OK);
  t.equal(statSync(path).mode & 0o777, 0o600);
  t.same(loadKey(path), { ok: true, key });
  t.match(r.out, `wrote a new 32-byte key to ${path}`);
  t.notMatch(r.out + r.err, /3c3c/);
});

t.test('keygen refuses to overwrite without --force (exit 1) and replaces with it', async (t) => {
  const { config, key } = setup(t);
  const before = readFileSync(key, 'utf8');
  const refused = gen({ config, out: key });
  t.equal(refused.code, EXIT.FAILURE);
  t.match(refused.err, /already exists; pass --force/);
  t.equal(readFileSync(key, 'utf8'), before);
  t.equal(gen({ config, out: key, force: true }).code, EXIT.OK);
  t.not(readFileSync(key, 'utf8'), before);
});

t.test('keygen without --out writes heartbeat.keyFile of the configuration', async (t) => {
  const { config, key } = setup(t);
  rmSync(key);
  const r = gen({ config });
  t.equal(r.code, EXIT.OK);
  t.ok(existsSync(key));
  t.equal(run(config).code, EXIT.OK, 'check-config now passes');
});

t.test('keygen without --out and an invalid configuration writes nothing, exit 78', async (t) => {
  const { config, dir } = setup(t);
  writeFileSync(config, 'cluster: lb1\n');
  const r = gen({ config });
  t.equal(r.code, EXIT.CONFIG);
  t.match(r.err, /pass --out PATH/);
  t.same(readFileSync(join(dir, 'key'), 'utf8'), `${'5a'.repeat(32)}\n`);
});

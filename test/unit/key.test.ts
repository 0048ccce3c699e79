// The heartbeat key file: format, permission checks, exclusive creation, never printed.
import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KEY_BYTES, checkUid, decodeKey, encodeKey, generateKey, loadKey, loadKeys, writeKeyFile } from '../../src/config/key.js';

function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'haagent-key-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function keyFile(dir: string, text: string, mode = 0o600): string {
  const path = join(dir, 'key');
  writeFileSync(path, text, { mode });
  chmodSync(path, mode); // writeFileSync's mode is filtered by the umask
  return path;
}

const HEX32 = 'a1'.repeat(32);

t.test('a 0600 hex key loads; case and surrounding whitespace do not matter', async (t) => {
  const dir = tempDir(t);
  t.same(loadKey(keyFile(dir, `${HEX32}\n`)), { ok: true, key: Buffer.from(HEX32, 'hex') });
  t.same(loadKey(keyFile(dir, `  ${HEX32.toUpperCase()}\r\n\n`)), { ok: true, key: Buffer.from(HEX32, 'hex') });
  t.same(loadKey(keyFile(dir, 'ab'.repeat(16), 0o400)), { ok: true, key: Buffer.alloc(16, 0xab) }, '16 bytes, read-only');
});

t.test('refused: group or other bits, short keys, not hex, missing, not a file', async (t) => {
  const dir = tempDir(t);
  const cases: [string, () => string, RegExp][] = [
    ['0644', () => keyFile(dir, HEX32, 0o644), /mode 0644 lets group or others access it; run: chmod 600/],
    ['0640', () => keyFile(dir, HEX32, 0o640), /mode 0640/],
    ['0602', () => keyFile(dir, HEX32, 0o602), /mode 0602/],
    ['15 bytes', () => keyFile(dir, 'ab'.repeat(15)), /holds 15 bytes, at least 16/],
    ['empty', () => keyFile(dir, ''), /not one line of hex digits/],
    ['odd digit count', () => keyFile(dir, `${HEX32}a`), /not one line of hex digits/],
    ['base64', () => keyFile(dir, Buffer.alloc(32, 7).toString('base64')), /not one line of hex digits/],
    ['two lines', () => keyFile(dir, `${HEX32}\n${HEX32}\n`), /not one line of hex digits/],
    ['missing', () => join(dir, 'absent'), /missing; create it with: haagent keygen --out /],
    ['directory', () => dir, /not a regular file/],
    ['too big', () => keyFile(dir, 'ab'.repeat(5000)), /too big/],
  ];
  for (const [name, make, error] of cases) {
    const path = make();
    const r = loadKey(path);
    t.match(r, { ok: false, error }, name);
    if (!r.ok) t.ok(r.error.startsWith(`key file ${path}: `), `${name}: names the file`);
  }
});

t.test('a symbolic link is refused, even to a good key; a link in a directory above is followed', async (t) => {
  const dir = tempDir(t);
  const real = keyFile(dir, HEX32);
  const link = join(dir, 'link');
  symlinkSync(real, link);
  const r = loadKey(link);
  t.match(r, { ok: false, error: `key file ${link}: is a symbolic link (refused: another user could point it elsewhere); set the path of the file itself (readlink -f ${link})` });
  t.same(loadKey(real), { ok: true, key: Buffer.from(HEX32, 'hex') }, 'the file itself loads');
  const dirLink = join(dir, 'dirlink');
  mkdirSync(join(dir, 'sub'));
  const inSub = join(dir, 'sub', 'key');
  writeFileSync(inSub, HEX32, { mode: 0o600 });
  symlinkSync(join(dir, 'sub'), dirLink);
  t.ok(loadKey(join(dirLink, 'key')).ok, 'only the last component must not be a link');
  const dangling = join(dir, 'dangling');
  symlinkSync(join(dir, 'nowhere'), dangling);
  t.match(loadKey(dangling), { ok: false, error: /is a symbolic link/ }, 'a dangling link: the link is what is wrong');
});

t.test('a FIFO is refused at once, without waiting for a writer', async (t) => {
  const dir = tempDir(t);
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', ['-m', '0600', fifo]);
  // A plain open(2) for reading would block this (synchronous) call until a writer came: the
  // test would then hang until tap's file timeout kills it.
  const start = process.hrtime.bigint();
  const r = loadKey(fifo);
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  t.match(r, { ok: false, error: `key file ${fifo}: a FIFO (named pipe), not a regular file; haagent keygen --out FILE writes one` });
  t.ok(ms < 1000, `answered in ${ms.toFixed(1)} ms`);
  t.match(loadKey('/dev/null'), { ok: false, error: /key file \/dev\/null: a character device, not a regular file/ });
});

const asRoot = process.geteuid?.() === 0 ? false : 'chown needs root';

t.test('the owner must be root or the agent\'s uid', { skip: asRoot }, async (t) => {
  const dir = tempDir(t);
  const path = keyFile(dir, HEX32);
  chownSync(path, 65534, 65534);
  t.match(loadKey(path), {
    ok: false,
    error: `key file ${path}: owned by uid 65534, must be owned by root: another user could replace the key; run: chown root ${path}`,
  }, 'root agent: a key owned by nobody is refused');
  t.same(loadKey(path, 65534), { ok: true, key: Buffer.from(HEX32, 'hex') }, 'an agent running as that uid: accepted');
  t.match(loadKey(path, 1000), { ok: false, error: /owned by uid 65534, must be owned by root or uid 1000 \(the user haagent runs as\)[^]*run: chown 1000 / });
  chownSync(path, 0, 0);
  t.ok(loadKey(path, 1000).ok, 'root-owned: accepted whoever the agent runs as');
  const loose = keyFile(dir, HEX32, 0o644);
  chownSync(loose, 65534, 65534);
  t.match(loadKey(loose), { ok: false, error: /owned by uid 65534/ }, 'the owner is checked before the mode');
});

t.test('loadKeys: both files with the same checks; every problem reported, the accept key named as such', async (t) => {
  const dir = tempDir(t);
  const send = keyFile(dir, HEX32);
  const acceptPath = join(dir, 'accept');
  writeFileSync(acceptPath, 'b2'.repeat(32), { mode: 0o600 });
  t.same(loadKeys({ keyFile: send, acceptKeyFile: null }), { ok: true, keys: { send: Buffer.from(HEX32, 'hex'), accept: null } });
  t.same(loadKeys({ keyFile: send, acceptKeyFile: acceptPath }), { ok: true, keys: { send: Buffer.from(HEX32, 'hex'), accept: Buffer.alloc(32, 0xb2) } });
  chmodSync(acceptPath, 0o640);
  const missing = join(dir, 'missing');
  t.same(loadKeys({ keyFile: missing, acceptKeyFile: acceptPath }), {
    ok: false,
    errors: [
      `key file ${missing}: missing; create it with: haagent keygen --out ${missing}`,
      `accept key file ${acceptPath}: mode 0640 lets group or others access it; run: chmod 600 ${acceptPath}`,
    ],
  });
  const link = join(dir, 'accept-link');
  symlinkSync(send, link);
  t.match(loadKeys({ keyFile: send, acceptKeyFile: link }), { ok: false, errors: [/^accept key file .*: is a symbolic link/] });
});

t.test('errors never contain the key material', async (t) => {
  const dir = tempDir(t);
  const secret = 'c3'.repeat(32);
  const r = loadKey(keyFile(dir, secret, 0o644));
  t.equal(r.ok, false);
  t.notMatch(JSON.stringify(r), /c3c3/);
  t.notMatch(JSON.stringify(decodeKey(`${secret}zz`)), /c3c3/);
});

t.test('generateKey draws KEY_BYTES random bytes; encodeKey is what decodeKey reads', async (t) => {
  const a = generateKey();
  t.equal(a.length, KEY_BYTES);
  t.not(a.toString('hex'), generateKey().toString('hex'));
  t.same(decodeKey(encodeKey(a)), { ok: true, key: a });
});

t.test('writeKeyFile creates a 0600 file even under a loose umask, and it loads back', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'sub', 'key');
  const old = process.umask(0o000);
  t.teardown(() => process.umask(old));
  const key = generateKey();
  t.same(writeKeyFile(path, key, false), { ok: true });
  t.equal(statSync(path).mode & 0o777, 0o600);
  t.same(loadKey(path), { ok: true, key });
});

t.test('without force an existing file, or a planted symlink, is never touched', async (t) => {
  const dir = tempDir(t);
  const path = keyFile(dir, HEX32);
  t.match(writeKeyFile(path, generateKey(), false), { ok: false, error: /already exists; pass --force/ });
  t.equal(readFileSync(path, 'utf8'), HEX32);
  const target = join(dir, 'target');
  const link = join(dir, 'link');
  symlinkSync(target, link);
  t.match(writeKeyFile(link, generateKey(), false), { ok: false, error: /already exists/ });
  t.throws(() => statSync(target), 'the symlink target was not created');
});

t.test('with force the key is replaced whole and no temporary file is left', async (t) => {
  const dir = tempDir(t);
  const path = keyFile(dir, HEX32, 0o600);
  const key = generateKey();
  t.same(writeKeyFile(path, key, true), { ok: true });
  t.same(loadKey(path), { ok: true, key });
  t.same(readdirSync(dir), ['key']);
  mkdirSync(join(dir, 'adir'));
  t.match(writeKeyFile(join(dir, 'adir'), key, true), { ok: false, error: /cannot write/ });
  t.same(readdirSync(dir).sort(), ['adir', 'key'], 'a failed rename cleans up too');
});

t.test('check-config as root judges the key as the service user reads it; other callers as themselves', async (t) => {
  const passwd = 'root:x:0:0:root:/root:/bin/bash\nhaagent:x:998:998:haagent:/nonexistent:/usr/sbin/nologin\n';
  t.equal(checkUid(0, () => passwd), 998, 'root checks as user haagent');
  t.equal(checkUid(0, () => 'root:x:0:0::/root:/bin/sh\n'), 0, 'no haagent user: root itself');
  t.equal(checkUid(0, () => 'haagentx:x:997:997::/:/bin/false\n'), 0, 'a name that only starts with haagent is not it');
  t.equal(checkUid(1000, () => passwd), 1000, 'a non-root caller is judged as itself');
  const dir = tempDir(t);
  const path = keyFile(dir, HEX32, 0o600);
  chownSync(path, 998, 998);
  t.match(loadKey(path, 0), { ok: false, error: /owned by uid 998/ }, 'root alone refuses the service user\'s key');
  t.same(loadKey(path, checkUid(0, () => passwd)), { ok: true, key: Buffer.from(HEX32, 'hex') }, 'as the service user it is accepted');
  chownSync(path, 1234, 1234);
  t.match(loadKey(path, checkUid(0, () => passwd)), { ok: false, error: /owned by uid 1234/ }, 'another user\'s key is still refused');
});

/**
 * The Debian package end to end: scripts/package.sh builds it from this tree (offline), lintian
 * finds no error in it, and the tree `dpkg-deb -x` unpacks works in place: /usr/sbin/haagent
 * prints the version, check-config accepts the shipped conffile once a key exists, the native
 * addons load, and `systemd-analyze verify` passes on the packaged units with their binary and
 * man pages resolved inside the unpacked tree. Skipped where dpkg-deb is missing (not Debian).
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { NODE_FLAGS } from '../../src/cli/relaunch.js';

const has = (tool: string): boolean => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string; dependencies: Record<string, string> };

/**
 * A command without the NODE_OPTIONS tap's process-info hook adds to every spawn (it would load
 * the hook into each node the build and the checks start, seconds each).
 */
function run(cmd: string, args: string[], env: Record<string, string> = {}): SpawnSyncReturns<string> {
  return spawnSync('env', ['-u', 'NODE_OPTIONS', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), cmd, ...args], {
    encoding: 'utf8',
    timeout: 120_000,
  });
}

t.test('the Debian package', { skip: has('dpkg-deb') ? false : 'dpkg-deb not installed (not a Debian system)' }, async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'hadeb-'));
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
  const started = Date.now();
  const build = run('bash', ['scripts/package.sh', join(tmp, 'out')]);
  t.equal(build.status, 0, 'scripts/package.sh exits 0', { stderr: build.stderr });
  const deb = build.stdout.trim().split('\n').pop()!;
  const arch = run('dpkg', ['--print-architecture']).stdout.trim();
  t.equal(deb, join(tmp, 'out', `haagent_${pkg.version}_${arch}.deb`), 'it names the package it built');
  t.comment(`built in ${Date.now() - started} ms`);
  if (!existsSync(deb)) return;

  t.test('control fields and contents', async (t) => {
    const field = (f: string): string => run('dpkg-deb', ['-f', deb, f]).stdout.trim();
    t.equal(field('Architecture'), arch, 'architecture-specific (native addons)');
    t.match(field('Depends'), /(^|, )nodejs \(>= 20\.19\)/, 'depends on nodejs >= 20.19');
    t.match(field('Depends'), /libc6/, 'and on the C library the addons link');
    t.equal(run('dpkg-deb', ['--ctrl-tarfile', deb]).status, 0, 'control archive readable');
    const conffiles = run('sh', ['-c', `dpkg-deb --info "${deb}" conffiles`]).stdout.trim();
    t.equal(conffiles, '/etc/haagent/haagent.yaml', 'the configuration is the one conffile');
    const files = run('dpkg-deb', ['-c', deb]).stdout.split('\n').map((l) => l.split(/\s+/)[5] ?? '');
    for (const f of [
      './usr/sbin/haagent',
      './usr/lib/haagent/dist/src/main.js',
      './usr/lib/haagent/package.json',
      './usr/lib/haagent/build/Release/haagent_native.node',
      './usr/lib/haagent/node_modules/raw-socket/build/Release/raw.node',
      './usr/lib/haagent/node_modules/unix-dgram/build/Release/unix_dgram.node',
      ...Object.keys(pkg.dependencies).map((d) => `./usr/lib/haagent/node_modules/${d}/package.json`),
      './usr/lib/systemd/system/haagent.service',
      './usr/lib/systemd/system/haagent-realserver.service',
      './usr/lib/tmpfiles.d/haagent.conf',
      './etc/haagent/haagent.yaml',
      './usr/share/man/man8/haagent.8.gz',
      './usr/share/man/man5/haagent.yaml.5.gz',
      './usr/share/bash-completion/completions/haagent',
      './usr/share/doc/haagent/copyright',
      './usr/share/doc/haagent/examples/haagent.example.yaml',
    ]) {
      t.ok(files.includes(f), f);
    }
    const unwanted = /\/dist\/test\/|\.map$|obj\.target|\/node_modules\/(nan|typescript|tap|eslint|arp-a|@types)\//;
    t.same(files.filter((f) => unwanted.test(f)), [], 'no tests, source maps, build trees or development dependencies');
  });

  t.test('lintian reports no error', { skip: has('lintian') ? false : 'lintian not installed' }, async (t) => {
    const l0 = Date.now();
    const r = run('lintian', ['--tag-display-limit', '0', deb]);
    const tags = r.stdout.split('\n').filter((l) => /^[EWIPX]: /.test(l));
    t.same(tags.filter((l) => l.startsWith('E: ')), [], 'no E: tags');
    t.equal(r.status, 0, 'lintian exits 0', { stderr: r.stderr });
    t.comment(`lintian: ${tags.length} tags shown (${tags.join('; ') || 'none'}) in ${Date.now() - l0} ms`);
  });

  const x = join(tmp, 'x');
  const unpack = run('dpkg-deb', ['-x', deb, x]);
  t.equal(unpack.status, 0, 'dpkg-deb -x unpacks it', { stderr: unpack.stderr });
  const haagent = join(x, 'usr/sbin/haagent');

  t.test('the unpacked tree runs', async (t) => {
    t.match(readFileSync(haagent, 'utf8'), NODE_FLAGS.join(' '), 'the wrapper gives node the agent flags');
    const v = run(haagent, ['--version']);
    t.equal(v.stdout.trim(), pkg.version, `usr/sbin/haagent --version prints ${pkg.version}`, { stderr: v.stderr });
    const conf = join(x, 'etc/haagent/haagent.yaml');
    if (!existsSync('/etc/haagent/key')) {
      const bare = run(haagent, ['check-config', '--config', conf]);
      t.equal(bare.status, 78, 'as shipped, before any key exists: exit 78');
      t.match(bare.stderr, /key file \/etc\/haagent\/key: missing; create it with: haagent keygen/, '...asking for the key');
    }
    // The shipped file with the key at a path of this test (the one line added).
    const key = join(tmp, 'key');
    t.equal(run(haagent, ['keygen', '--out', key]).status, 0, 'keygen writes a key');
    const withKey = join(tmp, 'haagent.yaml');
    writeFileSync(withKey, readFileSync(conf, 'utf8').replace(/^heartbeat:\n/m, `heartbeat:\n  keyFile: ${key}\n`));
    const ok = run(haagent, ['check-config', '--config', withKey]);
    t.equal(ok.status, 0, 'check-config accepts the shipped conffile once the key exists', { stderr: ok.stderr });
    t.match(ok.stdout, /^cluster: lb1$/m, 'and prints the effective configuration');
    const lib = join(x, 'usr/lib/haagent');
    const addons = run(process.execPath, [
      '--input-type=module',
      '-e',
      `import { createRequire } from 'node:module';
       const req = createRequire('${lib}/package.json');
       const n = (await import('${lib}/dist/src/adapters/native.js')).loadNative();
       console.log(JSON.stringify({ native: n.ok ? 'ok' : n.reason, raw: typeof req('raw-socket').createSocket, dgram: typeof req('unix-dgram').createSocket }));`,
    ]);
    t.same(JSON.parse(addons.stdout || '{}'), { native: 'ok', raw: 'function', dgram: 'function' }, 'the three native addons load from the unpacked tree', {
      stderr: addons.stderr,
    });
  });

  t.test('systemd-analyze verify passes on the packaged units', { skip: has('systemd-analyze') ? false : 'systemd-analyze not installed' }, async (t) => {
    for (const unit of ['haagent.service', 'haagent-realserver.service']) {
      const text = readFileSync(join(x, 'usr/lib/systemd/system', unit), 'utf8');
      t.match(text, /^ExecStart=\/usr\/sbin\/haagent /m, `${unit}: runs /usr/sbin/haagent`);
      t.match(text, /^Documentation=man:haagent\(8\) man:haagent\.yaml\(5\) file:\/usr\/share\/doc\/haagent\/operations\.md$/m, `${unit}: documentation is the man pages`);
      t.notMatch(text, /node_modules|\/usr\/bin\/haagent/, `${unit}: no npm paths`);
    }
    // A root holding the unpacked package and the system's own units (network-online.target
    // and the default dependencies); the man pages are found in the package (MANPATH).
    const root = join(tmp, 'root');
    cpSync(x, root, { recursive: true, verbatimSymlinks: true });
    const units = ['/usr/lib/systemd/system', '/lib/systemd/system'].find((d) => existsSync(d));
    if (units) cpSync(units, join(root, 'usr/lib/systemd/system'), { recursive: true, verbatimSymlinks: true, force: false });
    symlinkSync('usr/lib', join(root, 'lib'));
    const r = run('systemd-analyze', ['verify', `--root=${root}`, 'haagent.service', 'haagent-realserver.service'], {
      MANPATH: join(x, 'usr/share/man'),
    });
    t.equal(r.status, 0, 'exit 0');
    t.equal(r.stderr.trim(), '', 'no warnings');
  });

  t.test('man pages and completion from the package', async (t) => {
    for (const page of ['usr/share/man/man8/haagent.8.gz', 'usr/share/man/man5/haagent.yaml.5.gz']) {
      const r = run('man', ['--warnings', '-l', join(x, page)], { MANWIDTH: '80' });
      t.ok(r.status === 0 && r.stderr === '' && r.stdout.length > 2000, `${page} renders (${r.stdout.length} characters)`, { stderr: r.stderr });
    }
    const c = run('bash', ['-c', `. '${join(x, 'usr/share/bash-completion/completions/haagent')}' && complete -p haagent`]);
    t.equal(c.stdout.trim(), 'complete -F _haagent haagent', 'the completion registers for haagent');
  });
});

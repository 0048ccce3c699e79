// Script security (keepalived's script_security): the walk over a program's path against real
// files in a private temp directory, and the refusal of a configuration naming an unsafe hook
// or exec-check program, with file:line, the field, the path and the mode.
import t from 'tap';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkConfig } from '../../src/cli/check-config.js';
import { loadConfigFile, parseConfigText } from '../../src/config/load.js';
import { programProblem } from '../../src/config/script-security.js';

const uid = process.getuid?.() ?? 0;
const asRoot = uid === 0;
// mkdtemp makes the directory 0700 and ours; /tmp above it is 1777 and root's.
const dir = mkdtempSync(join(tmpdir(), 'hasec-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function program(rel: string, mode = 0o755): string {
  const p = join(dir, rel);
  writeFileSync(p, '#!/bin/sh\nexit 0\n');
  chmodSync(p, mode);
  return p;
}

function subdir(rel: string, mode: number): string {
  const p = join(dir, rel);
  mkdirSync(p);
  chmodSync(p, mode);
  return p;
}

t.test('system programs, a private temp directory and missing programs pass', async (t) => {
  for (const p of ['/bin/sh', '/usr/bin/printenv', '/bin/true', process.execPath]) t.equal(programProblem(p, uid), null, p);
  t.equal(programProblem(program('ok'), uid), null, 'a 0755 program in a 0700 directory');
  t.equal(programProblem(join(dir, 'not-there'), uid), null, 'missing: refused later by the spawn, not here');
  t.equal(programProblem(program('sticky-parent-ok'), uid), null);
  const sticky = subdir('sticky', 0o1777);
  t.equal(programProblem(program('sticky/prog'), uid), null, `under a sticky 1777 directory (${sticky})`);
});

t.test('a program group or others can write is refused, with its mode', async (t) => {
  const other = program('other-w', 0o757);
  t.equal(programProblem(other, uid), `file ${other} is writable by others (mode 0757)`);
  const group = program('group-w', 0o775);
  const gid = asRoot ? 65534 : (process.getgid?.() ?? 0);
  if (asRoot) chownSync(group, 0, gid);
  if (gid !== 0) t.equal(programProblem(group, uid), `file ${group} is writable by group ${gid} (mode 0775)`);
  else t.pass('group-writable case skipped: the only group here is root');
  if (asRoot) {
    const rootGroup = program('root-group-w', 0o775);
    chownSync(rootGroup, 0, 0);
    t.equal(programProblem(rootGroup, uid), null, 'group-writable by group root is allowed, as in keepalived');
  }
});

t.test('a directory on the path that others can write (no sticky bit) is refused', async (t) => {
  const open = subdir('open', 0o777);
  const p = program('open/prog');
  t.equal(programProblem(p, uid), `directory ${open} is writable by others (mode 0777 and no sticky bit)`);
  t.equal(programProblem(join(open, 'not-yet'), uid), `directory ${open} is writable by others (mode 0777 and no sticky bit)`, 'even before the program exists');
  const deep = join(subdir('open/inner', 0o755), 'prog');
  writeFileSync(deep, '', { mode: 0o755 });
  t.match(programProblem(deep, uid), new RegExp(`^directory ${open} `), 'any parent counts');
});

t.test('owners other than root and the agent are refused', { skip: !asRoot && 'needs root to chown' }, async (t) => {
  const p = program('nobody-owned');
  chownSync(p, 65534, 0);
  t.equal(programProblem(p, 0), `file ${p} is owned by uid 65534, neither root nor the agent's uid 0`);
  t.equal(programProblem(p, 65534), null, "the agent's own uid may own it");
  const d = subdir('nobody-dir', 0o755);
  chownSync(d, 65534, 65534);
  t.equal(programProblem(program('nobody-dir/prog'), 0), `directory ${d} is owned by uid 65534, neither root nor the agent's uid 0`);
});

t.test('symbolic links: the link, its directory and the whole target path are checked', async (t) => {
  const target = program('real');
  const good = join(dir, 'good-link');
  symlinkSync(target, good);
  t.equal(programProblem(good, uid), null);
  const relative = join(dir, 'rel-link');
  symlinkSync('./real', relative);
  t.equal(programProblem(relative, uid), null);
  const open = subdir('open2', 0o777);
  const unsafe = program('open2/prog');
  const bad = join(dir, 'bad-link');
  symlinkSync(unsafe, bad);
  t.equal(programProblem(bad, uid), `directory ${open} is writable by others (mode 0777 and no sticky bit)`, 'target in an open directory');
  const viaDotDot = join(dir, 'dotdot-link');
  symlinkSync('../' + join(dir, 'open2', 'prog').split('/').slice(2).join('/'), viaDotDot);
  t.match(programProblem(viaDotDot, uid), /writable by others/, 'a relative target with ..');
  const loop = join(dir, 'loop');
  symlinkSync(loop, loop);
  t.equal(programProblem(loop, uid), `${loop}: more than 40 symbolic links`);
});

t.test('what is not a program', async (t) => {
  t.equal(programProblem(dir, uid), `${dir} is not a regular file`);
  const file = program('plain');
  t.equal(programProblem(join(file, 'x'), uid), `${file} is not a directory`);
  t.equal(programProblem('bin/sh', uid), 'bin/sh is not an absolute path');
});

t.test('a configuration naming an unsafe program is refused: field, file:line, path, mode', async (t) => {
  const open = subdir('cfg-open', 0o777);
  const hook = program('cfg-open/hook');
  const check = program('cfg-check', 0o777);
  const text = [
    'cluster: lab',
    'heartbeat: { peers: [198.51.100.11] }',
    `notify: [["/bin/sh", "-c", "true"], ["${hook}"]]`,
    'groups:',
    '  - name: web',
    '    vip: 198.51.100.100/32',
    '    interface: eth0',
    `    notify: [["${program('cfg-ok')}"]]`,
    '    checks:',
    `      - { name: app, type: exec, command: ["${check}", "--quick"] }`,
    '',
  ].join('\n');
  const file = join(dir, 'haagent.yaml');
  writeFileSync(file, text);
  const r = loadConfigFile(file, { hostname: 'd0' });
  t.notOk(r.ok);
  if (r.ok) return;
  t.match(r.issues, [
    { path: 'notify[1][0]', line: 3, value: JSON.stringify(hook), expected: `a program only root or the agent's user can change (script security): directory ${open} is writable by others (mode 0777 and no sticky bit)` },
    { path: 'groups[0].checks[0].command[0]', line: 10, expected: `a program only root or the agent's user can change (script security): file ${check} is writable by others (mode 0777)` },
  ]);
  t.equal(r.issues.length, 2, 'the safe /bin/sh and group hook pass');
  t.ok(parseConfigText(text, 'x.yaml', { hostname: 'd0' }).ok, 'parseConfigText alone stays pure (no file system)');
  const out: string[] = [];
  const err: string[] = [];
  t.equal(checkConfig(file, { write: (s: string) => out.push(s) }, { write: (s: string) => err.push(s) }), 78, 'check-config exits 78');
  t.match(err.join(''), new RegExp(`${file}:3:\\d+: notify\\[1\\]\\[0\\]: got "${hook}", expected a program only root`));
  t.same(out, []);
});

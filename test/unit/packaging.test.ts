/**
 * The install path an operator follows: the packed tarball carries the binary, the units
 * and the docs; the units pass systemd-analyze verify, keep their hardening (a dedicated user
 * with four ambient capabilities, a system-call filter, a read-only /proc/sys but for its
 * net part) and `systemd-analyze security` rates them 3.0 or lower.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import t from 'tap';

const UNITS = ['systemd/haagent.service', 'systemd/haagent-realserver.service'];

/** Where the units say the binary is; `npm install -g` with prefix /usr (docs/operations.md). */
const BINARY = '/usr/bin/haagent';
/** `systemd-analyze security` rates the units at most this (0 safest, 10 most exposed; issue 13). */
const MAX_EXPOSURE = 3.0;

const analyzable = spawnSync('sh', ['-c', 'command -v systemd-analyze']).status === 0;

/** The programs the unit's Exec*= lines run (after systemd's -, @, :, +, ! prefixes). */
function execPrograms(unit: string): string[] {
  return [...unit.matchAll(/^Exec\w+=[-@:+!]*(\S+)/gm)].map((m) => m[1]!);
}

/**
 * A root for `systemd-analyze verify --root`: the unit in etc/systemd/system, the system's
 * own units (for network-online.target and the default dependencies), each program the unit
 * runs copied from the host, and for the haagent binary, which this machine need not have
 * installed, a stub. verify then checks the unit as shipped, executable paths included.
 */
function verifyRoot(unitPath: string): string {
  const root = mkdtempSync(join(tmpdir(), 'haunit-'));
  const units = ['/usr/lib/systemd/system', '/lib/systemd/system'].find((d) => existsSync(d));
  if (units) cpSync(units, join(root, 'usr/lib/systemd/system'), { recursive: true, verbatimSymlinks: true });
  // The .wants links may name /lib/systemd/system/...: resolved inside the root, as on a merged /usr.
  symlinkSync('usr/lib', join(root, 'lib'));
  mkdirSync(join(root, 'etc/systemd/system'), { recursive: true });
  copyFileSync(unitPath, join(root, 'etc/systemd/system', basename(unitPath)));
  for (const prog of execPrograms(readFileSync(unitPath, 'utf8'))) {
    mkdirSync(join(root, dirname(prog)), { recursive: true });
    if (prog === BINARY) writeFileSync(join(root, prog), '#!/bin/sh\n', { mode: 0o755 });
    else if (existsSync(prog)) copyFileSync(prog, join(root, prog));
  }
  return root;
}

t.test('systemd-analyze verify is clean on every unit', { skip: analyzable ? false : 'systemd-analyze not installed' }, async (t) => {
  for (const unit of UNITS) {
    const root = verifyRoot(unit);
    try {
      // Documentation= names the man pages; verify runs man(1) on them, found in the repository's man/.
      const env = { ...process.env, MANPATH: resolve('man') };
      const r = spawnSync('systemd-analyze', ['verify', `--root=${root}`, basename(unit)], { encoding: 'utf8', env });
      t.equal(r.status, 0, `${unit}: exit 0`);
      t.equal(r.stderr.trim(), '', `${unit}: no warnings`);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }
});

t.test(`systemd-analyze security rates every unit ${MAX_EXPOSURE.toFixed(1)} or lower`, { skip: analyzable ? false : 'systemd-analyze not installed' }, async (t) => {
  for (const unit of UNITS) {
    // --offline (systemd 250 and later) reads the file instead of asking a running systemd.
    const r = spawnSync('systemd-analyze', ['security', '--offline=yes', '--no-pager', unit], { encoding: 'utf8' });
    if (/unrecognized option|offline/i.test(r.stderr) && r.status !== 0) {
      t.pass(`${unit}: not rated`, { skip: `this systemd-analyze cannot rate a unit file offline (${r.stderr.trim().split('\n')[0]})` });
      continue;
    }
    const m = /Overall exposure level for \S+: (\d+\.\d+) (\S+)/.exec(r.stdout);
    t.ok(m, `${unit}: an overall exposure level is printed`, { stdout: r.stdout.slice(-400), stderr: r.stderr });
    if (!m) continue;
    const score = Number(m[1]);
    t.ok(score <= MAX_EXPOSURE, `${unit}: exposure ${m[1]} ${m[2]} (at most ${MAX_EXPOSURE.toFixed(1)})`, {
      exposed: r.stdout.split('\n').filter((l) => l.startsWith('✗')).map((l) => l.replace(/\s{2,}/g, '  ').trim()),
    });
  }
});

const AGENT_CAPS = 'CAP_NET_ADMIN CAP_NET_RAW CAP_NET_BIND_SERVICE CAP_SYS_NICE';
/** Both units: a dedicated user, no way back to more privilege, the kernel's knobs out of reach. */
const COMMON = [
  'User=haagent',
  'Group=haagent',
  'NoNewPrivileges=yes',
  'ProtectSystem=strict',
  'ProtectHome=yes',
  'PrivateTmp=yes',
  'PrivateDevices=yes',
  'ProtectKernelTunables=yes',
  // ...but the net.* sysctls stay writable: the real-server role and LevIP set ARP sysctls.
  'ReadWritePaths=/proc/sys/net',
  'ProtectKernelModules=yes',
  'ProtectKernelLogs=yes',
  'ProtectControlGroups=yes',
  'ProtectHostname=yes',
  'RestrictSUIDSGID=yes',
  'RestrictNamespaces=yes',
  'LockPersonality=yes',
  'SystemCallArchitectures=native',
  'SystemCallFilter=@system-service',
  'SystemCallErrorNumber=EPERM',
  'StateDirectory=haagent',
  'UMask=0077',
];

t.test('the agent unit keeps its hardening and its crash cleanup', async (t) => {
  const unit = readFileSync('systemd/haagent.service', 'utf8');
  for (const line of [
    ...COMMON,
    `ExecStart=${BINARY} run --config /etc/haagent/haagent.yaml`,
    `ExecStopPost=${BINARY} release`,
    `CapabilityBoundingSet=${AGENT_CAPS}`,
    `AmbientCapabilities=${AGENT_CAPS}`,
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK AF_PACKET',
    'RuntimeDirectory=haagent',
    'Restart=on-failure',
    // haagent reload, not kill -HUP: `systemctl reload` must fail (exit 78) when the file is invalid.
    `ExecReload=${BINARY} reload --config /etc/haagent/haagent.yaml`,
    'Type=notify',
    'NotifyAccess=main',
    'WatchdogSec=5s',
  ]) {
    t.ok(unit.split('\n').some((l) => l.startsWith(line)), line);
  }
  t.notOk(/MemoryDenyWriteExecute=yes/.test(unit), 'no MemoryDenyWriteExecute (breaks V8 JIT)');
  t.notOk(/^RestrictRealtime=yes/m.test(unit), 'no RestrictRealtime (the agent runs its loop SCHED_RR)');
  t.notOk(/^DynamicUser=/m.test(unit), 'a static user, not DynamicUser (the key in /etc/haagent is owned by it)');
  t.notOk(/^SystemCallFilter=~@privileged/m.test(unit), 'capset stays allowed (arping calls it)');
});

t.test('the real-server unit runs as haagent with CAP_NET_ADMIN only', async (t) => {
  const unit = readFileSync('systemd/haagent-realserver.service', 'utf8');
  for (const line of [...COMMON, 'CapabilityBoundingSet=CAP_NET_ADMIN\n', 'AmbientCapabilities=CAP_NET_ADMIN\n', 'RestrictRealtime=yes']) {
    t.ok(unit.includes(line), line.trim());
  }
});

t.test('every Exec line names its program by absolute path, the same binary in both units', async (t) => {
  for (const unit of UNITS) {
    const progs = execPrograms(readFileSync(unit, 'utf8'));
    t.ok(progs.length >= 2, `${unit}: ${progs.length} Exec lines`);
    for (const p of progs) {
      t.ok(p.startsWith('/') && p !== '/usr/bin/env', `${unit}: ${p} is absolute and not a PATH search`);
    }
    t.ok(progs.includes(BINARY), `${unit} runs ${BINARY}`);
  }
});

t.test('npm pack ships the binary, the units and the docs', async (t) => {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const files = (JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
  const manPages = (JSON.parse(readFileSync('package.json', 'utf8')) as { man: string[] }).man;
  t.same(manPages, ['man/man8/haagent.8', 'man/man5/haagent.yaml.5'], 'package.json names both man pages (npm install -g installs them)');
  for (const f of ['dist/src/main.js', 'systemd/haagent.service', 'docs/configuration.md', 'docs/haagent.example.yaml', 'README.md', ...manPages]) {
    t.ok(files.includes(f), `${f} packed`);
  }
  t.notOk(files.some((f) => f.startsWith('dist/test/')), 'no test code in the package');
  const shebang = readFileSync('dist/src/main.js', 'utf8').split('\n')[0]!;
  t.match(shebang, /^#!\/usr\/bin\/env -S node /, 'the bin has a shebang');
  // The drills start the agent with the same node flags as the installed binary.
  const { HAAGENT_NODE_FLAGS } = await import('../netns/agents/haagent.js');
  t.equal(shebang, `#!/usr/bin/env -S node ${HAAGENT_NODE_FLAGS.join(' ')}`, 'drills run the agent with the shebang flags');
});

/**
 * The install path an operator follows: the packed tarball carries the binary, the units
 * and the docs; the units pass systemd-analyze verify and keep their hardening.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import t from 'tap';

const UNITS = ['systemd/haagent.service', 'systemd/haagent-realserver.service'];

t.test('systemd-analyze verify is clean on every unit', async (t) => {
  const which = spawnSync('sh', ['-c', 'command -v systemd-analyze']);
  if (which.status !== 0) {
    t.comment('systemd-analyze not installed: nothing to verify');
    return;
  }
  for (const unit of UNITS) {
    const r = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
    t.equal(r.status, 0, `${unit}: exit 0`);
    t.equal(r.stderr.trim(), '', `${unit}: no warnings`);
  }
});

t.test('the agent unit keeps its hardening and its crash cleanup', async (t) => {
  const unit = readFileSync('systemd/haagent.service', 'utf8');
  for (const line of [
    'ExecStopPost=/usr/bin/env haagent release',
    'CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW CAP_NET_BIND_SERVICE',
    'NoNewPrivileges=yes',
    'ProtectSystem=strict',
    'ProtectHome=yes',
    'PrivateTmp=yes',
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK AF_PACKET',
    'RuntimeDirectory=haagent',
    'StateDirectory=haagent',
    'Restart=on-failure',
    'ExecReload=/bin/kill -HUP $MAINPID',
    'Type=notify',
    'NotifyAccess=main',
    'WatchdogSec=5s',
  ]) {
    t.ok(unit.includes(line), line);
  }
  t.notOk(/MemoryDenyWriteExecute=yes/.test(unit), 'no MemoryDenyWriteExecute (breaks V8 JIT)');
});

t.test('npm pack ships the binary, the units and the docs', async (t) => {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const files = (JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
  for (const f of ['dist/src/main.js', 'systemd/haagent.service', 'docs/configuration.md', 'docs/haagent.example.yaml', 'README.md']) {
    t.ok(files.includes(f), `${f} packed`);
  }
  t.notOk(files.some((f) => f.startsWith('dist/test/')), 'no test code in the package');
  const shebang = readFileSync('dist/src/main.js', 'utf8').split('\n')[0]!;
  t.match(shebang, /^#!\/usr\/bin\/env -S node /, 'the bin has a shebang');
  // The drills start the agent with the same node flags as the installed binary.
  const { HAAGENT_NODE_FLAGS } = await import('../netns/agents/haagent.js');
  t.equal(shebang, `#!/usr/bin/env -S node ${HAAGENT_NODE_FLAGS.join(' ')}`, 'drills run the agent with the shebang flags');
});

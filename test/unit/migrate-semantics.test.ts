// What the converted keepalived settings DO under haagent, not just what they are called:
// the notify wrappers run by /bin/sh as haagent runs hooks (GROUP FROM TO VIP appended,
// HAAGENT_TO set) call the keepalived script only on its transition and with keepalived's
// arguments; and track_script weights give the priorities keepalived gave, for every
// combination of passing and failing scripts (haagent's own effect() computes its side).
import t from 'tap';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigText } from '../../src/config/load.js';
import type { GroupConfig } from '../../src/config/types.js';
import { effect } from '../../src/health/scheduler.js';
import type { CheckView } from '../../src/health/types.js';
import { convertKeepalived } from '../../src/migrate/keepalived.js';

/** The first group of a converted keepalived.conf text, loaded with haagent's loader. */
function group(text: string): GroupConfig {
  const r = convertKeepalived(text, { source: 'test' });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  const loaded = parseConfigText(r.yaml, 'test.yaml', { hostname: 'h' });
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.issues));
  return loaded.config.groups[0]!;
}

const instance = (body: string, before = '') =>
  `${before}\nvrrp_instance VI_1 {\n interface eth0\n priority 150\n unicast_peer {\n  192.0.2.12\n }\n virtual_ipaddress {\n  192.0.2.100/24\n }\n${body}\n}\n`;

t.test('notify wrappers: each keepalived script runs on its own transition, with keepalived\'s arguments', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'haagent-ka-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // Records its arguments, one per line, in the file named by its first argument (no argument: in "fault").
  const rec = join(dir, 'rec.sh');
  writeFileSync(rec, `#!/bin/sh\nout=\${1:-${dir}/fault}\n[ $# -gt 0 ] && shift\n: > "$out"\nfor a in "$@"; do printf '%s\\n' "$a" >> "$out"; done\n`);
  chmodSync(rec, 0o755);
  const g = group(instance([
    ` notify_master "${rec} ${dir}/master to-master"`,
    ` notify_backup "${rec} ${dir}/backup 'two words'"`,
    ` notify_fault ${rec}`,
    ` notify "${rec} ${dir}/any"`,
  ].join('\n')));
  const hooks = g.notify ?? [];
  t.equal(hooks.length, 4);
  const fire = (to: string) => {
    for (const f of ['master', 'backup', 'fault', 'any']) rmSync(join(dir, f), { force: true });
    for (const hook of hooks) {
      // As haagent runs a hook: the argv, then GROUP FROM TO VIP; HAAGENT_TO in the environment.
      const r = spawnSync(hook[0]!, [...hook.slice(1), g.name, 'standby', to, '192.0.2.100/24'], { env: { PATH: '/usr/bin:/bin', HAAGENT_TO: to } });
      t.equal(r.status, 0, `${to}: ${r.stderr}`);
    }
    const read = (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8').split('\n').slice(0, -1) : null);
    return { master: read('master'), backup: read('backup'), fault: read('fault'), any: read('any') };
  };
  t.same(fire('active'), { master: ['to-master'], backup: null, fault: null, any: ['INSTANCE', 'VI_1', 'MASTER', '150'] });
  t.same(fire('standby'), { master: null, backup: ['two words'], fault: null, any: ['INSTANCE', 'VI_1', 'BACKUP', '150'] });
  t.same(fire('fault'), { master: null, backup: null, fault: [], any: ['INSTANCE', 'VI_1', 'FAULT', '150'] }, 'notify_fault gets no arguments, as under keepalived');
  t.same(fire('init'), { master: null, backup: null, fault: null, any: null }, 'no keepalived state for init: nothing runs');
});

/** keepalived's effective priority: passing positive weights added, failing negative ones subtracted, within 1..254. */
function keepalivedPriority(base: number, weights: number[], failing: boolean[]): number {
  let p = base;
  weights.forEach((w, i) => {
    if (w > 0 && !failing[i]) p += w;
    if (w < 0 && failing[i]) p += w;
  });
  return Math.min(254, Math.max(1, p));
}

t.test('track_script weights: haagent\'s priority equals keepalived\'s for every pass/fail combination', async (t) => {
  const weights = fc.array(fc.integer({ min: -253, max: 253 }).filter((w) => w !== 0), { minLength: 1, maxLength: 4 });
  const cases = fc.tuple(weights, fc.integer({ min: 1, max: 254 })).filter(([ws, base]) => base + ws.filter((w) => w > 0).reduce((a, b) => a + b, 0) <= 254);
  fc.assert(
    fc.property(cases, ([ws, base]) => {
      const scripts = ws.map((w, i) => `vrrp_script s${i} {\n script /bin/true\n weight ${w}\n}\n`).join('');
      const g = group(instance(` track_script {\n${ws.map((_, i) => `  s${i}`).join('\n')}\n }`, scripts).replace('priority 150', `priority ${base}`));
      for (let mask = 0; mask < 2 ** ws.length; mask++) {
        const failing = ws.map((_, i) => ((mask >> i) & 1) === 1);
        const views: CheckView[] = (g.checks ?? []).map((spec, i) => ({ spec, state: failing[i] ? 'failing' : 'passing', last: null }));
        const e = effect(views, g.priority);
        if (e.fault !== null || e.priority !== keepalivedPriority(base, ws, failing)) return false;
      }
      return true;
    }),
    { numRuns: 60 },
  );
  t.pass('60 random sets of weights and base priorities');
});

t.test('weight 0 is fault, as keepalived\'s FAULT state', async (t) => {
  const g = group(instance(' track_script {\n  chk\n }', 'vrrp_script chk {\n script /bin/true\n}\n'));
  const spec = g.checks![0]!;
  t.equal(spec.weight, 'fault');
  t.not(effect([{ spec, state: 'failing', last: null }], g.priority).fault, null);
  t.equal(effect([{ spec, state: 'passing', last: null }], g.priority).fault, null);
});

/**
 * Sync units with the real agent: two groups, the external VIP and a second address, name the
 * same `sync:` unit on both directors. A failing `weight: fault` check on one member of d0
 * must move both groups to d1, and none may stay behind on d0; when the check passes again, d0
 * (preferred, preempt on) takes both back.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parse, stringify } from 'yaml';
import { HaagentCluster, haagentAvailable, type HaagentNode } from './agents/haagent.js';
import { sleep, waitFor } from './exec.js';
import { Lab } from './lab.js';

if (process.getuid?.() !== 0) t.plan(0, 'network namespaces need root');
else if (!(await haagentAvailable())) t.plan(0, 'dist/src/main.js run is not available: run `npm run build`');

const SECOND = '198.51.100.101/32';
type Cfg = { groups: Record<string, unknown>[] };

/** Where each node sits: the groups it is active for, and which of the two VIPs it holds. */
async function placement(lab: Lab, n: HaagentNode): Promise<string> {
  const st = await n.status();
  const active = (st?.groups ?? []).filter((g) => g.state === 'active').map((g) => g.name).sort();
  const vips = [(await n.vipPresent()) ? 'vip1' : '', (await lab.hasAddress(n.host, SECOND, 'eth0')) ? 'vip2' : ''].filter(Boolean);
  return `${active.join('+') || '-'} [${vips.join(',')}]`;
}

t.test('a fault in one member of a sync unit moves the whole unit, and it comes back whole', async (t) => {
  const lab = await Lab.create({ directors: 2 });
  const cluster = new HaagentCluster(lab);
  const [d0, d1] = cluster.nodes as [HaagentNode, HaagentNode];
  const flag = join(cluster.dir, 'd0-gw-down');
  try {
    for (const n of cluster.nodes) {
      const cfg = parse(readFileSync(n.configPath, 'utf8')) as Cfg;
      const web = cfg.groups[0]!;
      web.sync = 'nat';
      // Only d0's check can fail: the flag file is d0's.
      const probe = n === d0 ? `test ! -e ${flag}` : 'true';
      cfg.groups.push({
        name: 'gw', vip: SECOND, interface: 'eth0', priority: web.priority, sync: 'nat',
        checks: [{ name: 'gw-up', type: 'exec', command: ['/bin/sh', '-c', probe], interval: '100ms', timeout: '1s', rise: 1, fall: 1, weight: 'fault' }],
      });
      writeFileSync(n.configPath, stringify(cfg), { mode: 0o600 });
    }
    await lab.startResponders();
    cluster.startAll();
    const up = await waitFor(async () => (await placement(lab, d0)) === 'gw+web [vip1,vip2]' && (await placement(lab, d1)) === '- []', 15000, 100);
    t.ok(up, 'd0 active for both members, holding both VIPs; d1 for neither', { d0: await placement(lab, d0), d1: await placement(lab, d1), log: d0.logTail(20) });
    const st = await d0.status();
    t.same(st?.groups.map((g) => [g.name, g.sync]), [['web', 'nat'], ['gw', 'nat']], 'status names the unit of each group');

    writeFileSync(flag, '');
    const moved = await waitFor(async () => (await placement(lab, d1)) === 'gw+web [vip1,vip2]' && (await placement(lab, d0)) === '- []', 10000, 50);
    t.ok(moved, 'gw failed on d0: d1 holds both members and both VIPs, d0 neither', { d0: await placement(lab, d0), d1: await placement(lab, d1), log: d0.logTail(30) });
    const d0st = await d0.status();
    t.same(d0st?.groups.map((g) => g.state), ['standby', 'fault'], 'd0: the failing member in fault, its sibling standby');
    t.match(readFileSync(d0.logPath, 'utf8'), /sync unit nat: gw cannot serve here/, 'the log says why the healthy member left');
    // Sampled for a second: never a member left behind.
    const seen = new Set<string>();
    for (let i = 0; i < 10; i++) {
      seen.add(`${await placement(lab, d0)} | ${await placement(lab, d1)}`);
      await sleep(100);
    }
    t.same([...seen], ['- [] | gw+web [vip1,vip2]'], 'no member stays behind on d0');

    rmSync(flag);
    const back = await waitFor(async () => (await placement(lab, d0)) === 'gw+web [vip1,vip2]' && (await placement(lab, d1)) === '- []', 10000, 50);
    t.ok(back, 'the check passes again: d0 (preferred) takes the whole unit back', { d0: await placement(lab, d0), d1: await placement(lab, d1) });
    t.notOk(existsSync(flag));
  } finally {
    await cluster.stopAll();
    await lab.destroy();
    cluster.cleanup();
  }
});

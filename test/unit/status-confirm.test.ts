/**
 * How the announcement check shows: the status record's `confirm` (null without a gateway,
 * idle until active, then pending, confirmed or unconfirmed), the NOTE column of
 * `haagent status`, and the three metrics.
 */
import t from 'tap';
import { Core } from '../../src/core/election.js';
import { formatStatus, statusView } from '../../src/daemon/status-view.js';
import type { DriverStats } from '../../src/daemon/driver.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { group } from '../scenarios/sim.js';

const stats: DriverStats = { sent: 0, probesSent: 0, sendErrors: 0, received: 0, receivedByPeer: new Map(), vipFailures: 0, transitions: 0 };
const GW = '198.51.100.1';

/** web (with the check) and db (without), alone: active at 300, VIPs in place at 304. */
function activeCore(): Core {
  const web = group('web', 150, { confirm: { gateway: GW, attempts: 2 } });
  const db = group('db', 150, { vip: { address: '198.51.100.101', prefix: 32, family: 4 } });
  const core = new Core({ node: 'd0', interval: 50, deadTime: 150, initDead: 300, expectedPeers: 0, groups: [web, db], confirm: { settle: 100, retryBase: 250, retryMax: 1000 } });
  core.step({ kind: 'start', now: 0 });
  for (const g of ['web', 'db']) core.step({ kind: 'vipResult', now: 1, group: g, present: false, ok: true });
  core.step({ kind: 'tick', now: 300 });
  for (const g of ['web', 'db']) core.step({ kind: 'vipResult', now: 304, group: g, present: true, ok: true });
  return core;
}

const view = (core: Core, now: number) => statusView(core, stats, {}, { cluster: 'lb1', pid: 1, now });
const metricLines = async (core: Core, now: number) => (await new Metrics(() => view(core, now), { defaultMetrics: false }).text()).split('\n').filter((l) => /^haagent_vip_confirm/.test(l));

t.test('idle before the takeover; pending, then confirmed; db has none', async (t) => {
  const fresh = new Core({ node: 'd0', interval: 50, deadTime: 150, initDead: 300, expectedPeers: 0, groups: [group('web', 150, { confirm: { gateway: GW, attempts: 2 } })] });
  fresh.step({ kind: 'start', now: 0 });
  t.match(view(fresh, 10).groups[0]!.confirm, { gateway: GW, state: 'idle', attempts: 0, probes: 0 });
  t.same(await metricLines(fresh, 10), ['haagent_vip_confirm_probes_total{group="web"} 0'], 'no confirmed gauge while idle');

  const core = activeCore();
  const probe = core.step({ kind: 'tick', now: 444 }).actions.find((a) => a.kind === 'confirm');
  t.ok(probe, 'probe asked');
  let s = view(core, 500);
  t.match(s.groups[0]!.confirm, { state: 'pending', attempts: 1, probes: 1, confirmedAfterMs: null });
  t.equal(s.groups[1]!.confirm, null, 'a group without a gateway');
  t.match(formatStatus(s), /\nweb +ACTIVE .*confirming with 198\.51\.100\.1 \(1 attempts\)/);
  t.match(await metricLines(core, 500), ['haagent_vip_confirmed{group="web"} 0', 'haagent_vip_confirm_probes_total{group="web"} 1']);

  core.step({ kind: 'confirmResult', now: 446, group: 'web', gid: probe?.kind === 'confirm' ? probe.gid : 0, address: '198.51.100.100', answered: true, latency: 0.5 });
  s = view(core, 600);
  t.same(s.groups[0]!.confirm, { gateway: GW, state: 'confirmed', attempts: 1, lastLatencyMs: 0.5, confirmedAfterMs: 146, lastError: null, probes: 1 });
  t.match(formatStatus(s), /\nweb +ACTIVE .*confirmed by 198\.51\.100\.1/);
  const lines = await metricLines(core, 600);
  t.ok(lines.includes('haagent_vip_confirmed{group="web"} 1'), 'confirmed gauge 1');
  t.ok(lines.includes('haagent_vip_confirm_latency_seconds{group="web"} 0.0005'), 'latency in seconds');
});

t.test('unconfirmed after the attempts: loud in the NOTE column', async (t) => {
  const core = activeCore();
  let gid = 0;
  for (const [ask, done] of [[444, 1444], [1694, 2694]] as const) {
    const a = core.step({ kind: 'tick', now: ask }).actions.find((x) => x.kind === 'confirm');
    if (a?.kind === 'confirm') gid = a.gid;
    core.step({ kind: 'confirmResult', now: done, group: 'web', gid, address: '198.51.100.100', answered: false });
  }
  const s = view(core, 3000);
  t.match(s.groups[0]!.confirm, { state: 'unconfirmed', attempts: 2, probes: 2 });
  t.match(formatStatus(s), /UNCONFIRMED with 198\.51\.100\.1 \(2 attempts\)/);
});

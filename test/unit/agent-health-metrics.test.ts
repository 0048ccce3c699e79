// A reload that drops a health check, or a whole group, takes its series out of /metrics: the
// check's haagent_check_up (AgentHealth.reload), and the group's event-counted series
// (transitions, VIP command failures: Metrics drops a group gone from the status record).
// AgentHealth is never started here, so no check runs and no `ip monitor` is spawned; the
// series are set as a check's result would set them (Metrics.setCheck).
import t from 'tap';
import { AgentHealth, droppedCheckSeries, healthSpecs } from '../../src/daemon/agent-health.js';
import { Metrics } from '../../src/metrics/metrics.js';
import type { StatusRecord } from '../../src/daemon/status-view.js';
import { createLogger } from '../../src/log.js';
import { BASE, parse } from './config-harness.js';

const HTTP = ['      - name: http', '        type: http', '        url: http://127.0.0.1:80/health'];
const TCP = ['      - name: port', '        type: tcp', '        host: 127.0.0.1', '        port: 80'];
const DB = ['  - name: db', '    vip: 198.51.100.101/32', '    interface: eth0'];

/** BASE (group web) with web's checks and, optionally, group db with one check. */
function config(webChecks: string[][], db: boolean) {
  const web = webChecks.length ? ['    checks:', ...webChecks.flat()] : [];
  const dbLines = db ? [...DB, '    checks:', ...TCP] : [];
  return parse([...BASE, ...web, ...dbLines].join('\n') + '\n');
}

/** A status record with the groups named, each in standby. */
function record(groups: string[]): StatusRecord {
  const group = (name: string, i: number): StatusRecord['groups'][number] => ({
    name, state: 'standby', vip: `198.51.100.${100 + i}/32`, interface: 'eth0', priority: 100, advertisedPriority: 100, preempt: true, vipPresent: false, activeNode: null,
    activeSinceMs: null, stateSinceMs: 0, transitions: 0, announcements: 0, faultReason: null, lastVipError: null, operator: null, healthFault: null, healthPending: null,
    reach: 0, checks: [], conflicts: 0, lastConflict: null, sync: null,
  });
  return { node: 'd0', cluster: 'lb1', pid: 1, uptimeMs: 0, maintenance: false, shuttingDown: false, groups: groups.map(group), peers: [], heartbeats: { sent: 0, received: 0, sendErrors: 0 }, dropped: {} };
}

/** The haagent_check_up and group counter lines of the exposition, sorted. */
async function groupLines(m: Metrics): Promise<string[]> {
  const text = await m.text();
  return text
    .split('\n')
    .filter((l) => /^haagent_(check_up|transitions_total|vip_command_failures_total)\{/.test(l))
    .sort();
}

t.test('droppedCheckSeries: the names a reload leaves without a check', async (t) => {
  const before = healthSpecs(config([HTTP, TCP], true));
  t.same(droppedCheckSeries(before, healthSpecs(config([HTTP, TCP], true))), [], 'nothing dropped by an unchanged file');
  t.same(droppedCheckSeries(before, healthSpecs(config([TCP], true))), [{ group: 'web', check: 'http' }]);
  t.same(droppedCheckSeries(before, healthSpecs(config([HTTP, TCP], false))), [
    { group: 'db', check: '(links)' },
    { group: 'db', check: 'port' },
  ]);
  t.same(droppedCheckSeries(healthSpecs(config([], false)), before), [], 'adding drops nothing');
});

t.test('a reload without a check or a group: their series leave /metrics', async (t) => {
  let groups = ['web', 'db'];
  const metrics = new Metrics(() => record(groups), { defaultMetrics: false });
  const health = new AgentHealth(config([HTTP, TCP], true), { log: createLogger('silent', 'd0'), feed: () => {}, metrics: () => metrics });
  t.teardown(() => health.stop());
  metrics.setCheck('web', '(links)', true);
  metrics.setCheck('web', 'http', false);
  metrics.setCheck('web', 'port', true);
  metrics.setCheck('db', '(links)', true);
  metrics.setCheck('db', 'port', true);
  metrics.observeTransition({ group: 'db', from: 'init', to: 'standby' });
  metrics.observeVipFailure('db');
  metrics.observeTransition({ group: 'web', from: 'init', to: 'active' });
  const before = await groupLines(metrics);
  t.ok(before.includes('haagent_check_up{group="web",check="http"} 0'), 'the check is reported before the reload');
  t.ok(before.includes('haagent_transitions_total{group="db",from="init",to="standby"} 1'));

  health.reload(config([TCP], true));
  t.same(
    (await groupLines(metrics)).filter((l) => l.includes('check_up')),
    ['haagent_check_up{group="db",check="(links)"} 1', 'haagent_check_up{group="db",check="port"} 1', 'haagent_check_up{group="web",check="(links)"} 1', 'haagent_check_up{group="web",check="port"} 1'],
    'only the dropped check is gone',
  );

  health.reload(config([TCP], false));
  groups = ['web'];
  t.same(await groupLines(metrics), [
    'haagent_check_up{group="web",check="(links)"} 1',
    'haagent_check_up{group="web",check="port"} 1',
    'haagent_transitions_total{group="web",from="init",to="active"} 1',
    'haagent_vip_command_failures_total{group="web"} 0',
  ], 'nothing of the removed group db is left');

  // The group comes back: its counters start again from the new events, not the old counts.
  groups = ['web', 'db'];
  metrics.observeTransition({ group: 'db', from: 'init', to: 'standby' });
  const back = await groupLines(metrics);
  t.ok(back.includes('haagent_transitions_total{group="db",from="init",to="standby"} 1'));
  t.ok(back.includes('haagent_vip_command_failures_total{group="db"} 0'));
});

// Metrics: scraped over HTTP on 127.0.0.1 (port 0) and read back with a small validating parser
// of the text exposition format, so what is checked is what Prometheus would read: HELP and TYPE
// for every family, our names under haagent_ with _total on counters, and values that follow the
// status snapshot and the observed events.
import t, { type Test } from 'tap';
import { request } from 'node:http';
import { register as globalRegistry } from 'prom-client';
import { packageVersion } from '../../src/version.js';
import { Metrics } from '../../src/metrics/metrics.js';
import type { StatusRecord } from '../../src/daemon/status-view.js';
import { DROP_REASONS } from '../../src/wire/types.js';

// ---- a tiny parser for the Prometheus text format (version 0.0.4) ----

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
interface Family {
  help?: string;
  type?: string;
  samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE_RE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: -?\\d+)?$`);
const LABEL_RE = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/;
const SUFFIXES: Record<string, string[]> = { histogram: ['_bucket', '_sum', '_count'], summary: ['_sum', '_count'] };

/** As Prometheus reads it (Go's ParseFloat): Inf and NaN in any case; prom-client writes "Nan". */
function parseValue(text: string): number {
  if (/^\+?inf$/i.test(text)) return Infinity;
  if (/^-inf$/i.test(text)) return -Infinity;
  if (/^nan$/i.test(text)) return NaN;
  const v = Number(text);
  if (text === '' || Number.isNaN(v)) throw new Error(`bad value ${text}`);
  return v;
}

function parseLabels(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (let rest = text; rest !== ''; ) {
    const m = LABEL_RE.exec(rest);
    if (!m) throw new Error(`bad labels {${text}}`);
    const [all, k = '', v = ''] = m;
    if (k in out) throw new Error(`label ${k} twice`);
    out[k] = v.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    rest = rest.slice(all.length);
  }
  return out;
}

/** The family a sample belongs to: its own name, or a histogram/summary base name. */
function familyOf(name: string, families: Map<string, Family>): Family | undefined {
  if (families.has(name)) return families.get(name);
  for (const [base, f] of families) if ((SUFFIXES[f.type ?? ''] ?? []).some((s) => name === base + s)) return f;
  return undefined;
}

function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const fam = (name: string) => families.get(name) ?? families.set(name, { samples: [] }).get(name)!;
  if (!text.endsWith('\n')) throw new Error('the text must end with a newline');
  for (const line of text.slice(0, -1).split('\n')) {
    if (line === '') continue;
    const meta = new RegExp(`^# (HELP|TYPE) (${NAME}) (.*)$`).exec(line);
    if (meta) {
      const [, kind, name = '', rest = ''] = meta;
      const f = fam(name);
      if (f.samples.length > 0) throw new Error(`${kind} after samples of ${name}`);
      if (kind === 'HELP') f.help = rest;
      else if (['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest)) f.type = rest;
      else throw new Error(`bad TYPE ${rest}`);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = SAMPLE_RE.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const f = familyOf(m[1] ?? '', families);
    if (!f) throw new Error(`sample without HELP/TYPE: ${line}`);
    f.samples.push({ name: m[1] ?? '', labels: parseLabels(m[2] ?? ''), value: parseValue(m[3] ?? '') });
  }
  return families;
}

t.test('the parser refuses what Prometheus would refuse', async (t) => {
  t.throws(() => parseExposition('x 1\n'), /without HELP/);
  t.throws(() => parseExposition('# TYPE x gauge\nx{a="1",a="2"} 1\n'), /twice/);
  t.throws(() => parseExposition('# TYPE x gauge\nx one\n'), /bad value/);
  t.throws(() => parseExposition('# TYPE x gauge\nx{a=1} 1\n'), /bad labels/);
  t.throws(() => parseExposition('# TYPE x gauge\nx 1'), /newline/);
  t.same(parseExposition('# HELP x h\n# TYPE x gauge\nx{a="q\\"b"} +Inf 123\n').get('x'), { help: 'h', type: 'gauge', samples: [{ name: 'x', labels: { a: 'q"b' }, value: Infinity }] });
});

// ---- fixtures ----

function status(over: Partial<StatusRecord> = {}): StatusRecord {
  return {
    node: 'd0',
    cluster: 'lb1',
    pid: 1234,
    uptimeMs: 5000,
    maintenance: false,
    shuttingDown: false,
    groups: [
      { name: 'web', state: 'active', vip: '198.51.100.100/32', interface: 'eth0', priority: 150, advertisedPriority: 150, preempt: true, vipPresent: true, activeNode: 'd0', activeSinceMs: 4000, stateSinceMs: 4000, transitions: 2, announcements: 6, faultReason: null, lastVipError: null, operator: null, healthFault: null, healthPending: null, reach: 0, checks: [], conflicts: 0, lastConflict: null, sync: null },
      { name: 'db', state: 'standby', vip: '198.51.100.101/32', interface: 'eth0', priority: 100, advertisedPriority: 100, preempt: true, vipPresent: null, activeNode: 'd1', activeSinceMs: 4000, stateSinceMs: 4000, transitions: 1, announcements: 0, faultReason: null, lastVipError: null, operator: null, healthFault: null, healthPending: null, reach: 0, checks: [], conflicts: 0, lastConflict: null, sync: null },
    ],
    peers: [{ node: 'd1', address: '198.51.100.11', port: 694, alive: true, lastHeardMsAgo: 250, bootId: '7', received: 40, groups: [], paths: [], icmpRefuted: 0 }],
    heartbeats: { sent: 50, received: 40, sendErrors: 1 },
    dropped: { 'bad-mac': 3 },
    ...over,
  };
}

function scrapeText(port: number, path = '/metrics', method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.setTimeout(5000, () => req.destroy(new Error('scrape timed out')));
    req.on('error', reject).end();
  });
}

/** value of one series, or undefined when the series is absent. */
function value(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  const f = familyOf(name, families);
  return f?.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v) && Object.keys(s.labels).length === Object.keys(labels).length)?.value;
}

async function serving(t: Test, snap: () => StatusRecord) {
  const m = new Metrics(snap);
  const srv = await m.serve('127.0.0.1', 0);
  t.teardown(() => srv.close());
  const scrape = async () => {
    const r = await scrapeText(srv.port);
    t.equal(r.status, 200);
    return parseExposition(r.body);
  };
  return { m, srv, scrape };
}

// ---- tests ----

t.test('GET /metrics: valid exposition, HELP and TYPE everywhere, our names and counters well formed', async (t) => {
  const m = new Metrics(() => status());
  const srv = await m.serve('127.0.0.1', 0);
  t.teardown(() => srv.close());
  t.ok(srv.port > 0, 'port 0 gives a real port back');
  const r = await scrapeText(srv.port);
  t.equal(r.status, 200);
  t.equal(r.type, m.contentType);
  t.match(r.type, /^text\/plain; version=0\.0\.4/);
  const families = parseExposition(r.body);
  const ours = [...families.keys()].filter((n) => n.startsWith('haagent_'));
  t.ok(ours.length >= 14, `${ours.length} haagent_ families`);
  for (const [name, f] of families) {
    t.ok(f.help && f.type, `${name} has HELP and TYPE`);
    if (f.type === 'counter') t.match(name, /_total$/, `counter ${name} ends in _total`);
  }
  for (const name of ours) t.match(name, /^haagent_[a-z0-9_]+$/);
  for (const name of ['haagent_group_state', 'haagent_group_priority', 'haagent_transitions_total', 'haagent_heartbeats_sent_total', 'haagent_heartbeats_received_total', 'haagent_heartbeat_send_errors_total', 'haagent_packets_dropped_total', 'haagent_peer_last_seen_seconds', 'haagent_peer_up', 'haagent_garp_sent_total', 'haagent_vip_command_failures_total', 'haagent_check_up']) {
    t.ok(families.has(name), name);
  }
  t.equal(families.get('haagent_heartbeats_sent_total')?.type, 'counter');
  t.equal(families.get('haagent_group_state')?.type, 'gauge');
  // The standard process metrics keep their standard, unprefixed names.
  t.ok(families.has('process_cpu_seconds_total') && families.has('nodejs_eventloop_lag_seconds'), 'default metrics, unprefixed');
  t.notOk([...families.keys()].some((n) => n.startsWith('haagent_process_')), 'no prefixed duplicates');
});

t.test('values come from the status snapshot', async (t) => {
  const { scrape } = await serving(t, () => status());
  const f = await scrape();
  t.equal(value(f, 'haagent_group_state', { group: 'web', state: 'active' }), 1);
  for (const state of ['init', 'standby', 'fault']) t.equal(value(f, 'haagent_group_state', { group: 'web', state }), 0, `web ${state} is 0`);
  t.equal(value(f, 'haagent_group_state', { group: 'db', state: 'standby' }), 1);
  t.equal(value(f, 'haagent_group_priority', { group: 'web' }), 150);
  t.equal(value(f, 'haagent_vip_present', { group: 'web' }), 1);
  t.equal(value(f, 'haagent_vip_present', { group: 'db' }), undefined, 'unknown VIP presence is no series, not a guess');
  t.equal(value(f, 'haagent_heartbeats_sent_total'), 50);
  t.equal(value(f, 'haagent_heartbeats_received_total', { peer: 'd1' }), 40);
  t.equal(value(f, 'haagent_heartbeat_send_errors_total'), 1);
  t.equal(value(f, 'haagent_peer_up', { peer: 'd1' }), 1);
  t.equal(value(f, 'haagent_peer_last_seen_seconds', { peer: 'd1' }), 0.25, 'seconds, not milliseconds');
  t.equal(value(f, 'haagent_garp_sent_total', { group: 'web' }), 6);
  t.equal(value(f, 'haagent_maintenance'), 0);
  t.same(
    f.get('haagent_packets_dropped_total')?.samples.map((s) => s.labels.reason).sort(),
    [...DROP_REASONS].sort(),
    'every drop reason has a series, zeros included',
  );
  t.equal(value(f, 'haagent_packets_dropped_total', { reason: 'bad-mac' }), 3);
  t.equal(value(f, 'haagent_packets_dropped_total', { reason: 'replay' }), 0);
  t.equal(value(f, 'haagent_vip_command_failures_total', { group: 'db' }), 0, 'failure counters start at zero for every group');
});

t.test('the heartbeat keys: one series per key held, by id and use (a rotation shows two)', async (t) => {
  const keys: StatusRecord['keys'] = [
    { id: '6086242f', use: 'send', authenticated: 500, lastAuthenticatedMsAgo: 20 },
    { id: 'f01baf5e', use: 'accept', authenticated: 35, lastAuthenticatedMsAgo: 2800 },
  ];
  const { scrape } = await serving(t, () => status({ keys }));
  const f = await scrape();
  t.equal(f.get('haagent_heartbeats_authenticated_total')?.type, 'counter');
  t.equal(value(f, 'haagent_heartbeats_authenticated_total', { key: '6086242f', use: 'send' }), 500);
  t.equal(value(f, 'haagent_heartbeats_authenticated_total', { key: 'f01baf5e', use: 'accept' }), 35);
  const none = await serving(t, () => status());
  t.same((await none.scrape()).get('haagent_heartbeats_authenticated_total')?.samples ?? [], [], 'a record without keys: no series');
});

t.test('values move with the snapshot and with observed events', async (t) => {
  let snap = status();
  const { m, scrape } = await serving(t, () => snap);
  const before = await scrape();
  snap = status({
    maintenance: true,
    groups: snap.groups.map((g) => (g.name === 'web' ? { ...g, state: 'standby', advertisedPriority: 0, announcements: 9 } : g)),
    peers: [{ ...snap.peers[0]!, alive: false, lastHeardMsAgo: 1500, received: 41 }],
    heartbeats: { sent: 60, received: 41, sendErrors: 1 },
    dropped: { 'bad-mac': 3, replay: 2 },
  });
  m.observeTransition({ group: 'web', from: 'active', to: 'standby' });
  m.observeStep(
    { transitions: [{ group: 'db', from: 'standby', to: 'active', reason: 'peer dead' }], actions: [], wakeAt: null, notes: [] },
    { kind: 'vipResult', now: 1, group: 'db', present: true, ok: false, error: 'ip: exit 2' },
  );
  m.setCheck('web', 'http', false);
  m.setCheck('web', 'ping', true);
  const after = await scrape();
  t.equal(value(before, 'haagent_transitions_total', { group: 'web', from: 'active', to: 'standby' }), undefined);
  t.equal(value(after, 'haagent_transitions_total', { group: 'web', from: 'active', to: 'standby' }), 1);
  t.equal(value(after, 'haagent_transitions_total', { group: 'db', from: 'standby', to: 'active' }), 1);
  t.equal(value(after, 'haagent_vip_command_failures_total', { group: 'db' }), 1);
  t.equal(value(after, 'haagent_group_state', { group: 'web', state: 'active' }), 0);
  t.equal(value(after, 'haagent_group_state', { group: 'web', state: 'standby' }), 1);
  t.equal(value(after, 'haagent_group_priority', { group: 'web' }), 0);
  t.equal(value(after, 'haagent_heartbeats_sent_total'), 60);
  t.equal(value(after, 'haagent_heartbeats_received_total', { peer: 'd1' }), 41);
  t.equal(value(after, 'haagent_packets_dropped_total', { reason: 'replay' }), 2);
  t.equal(value(after, 'haagent_garp_sent_total', { group: 'web' }), 9);
  t.equal(value(after, 'haagent_peer_up', { peer: 'd1' }), 0);
  t.equal(value(after, 'haagent_peer_last_seen_seconds', { peer: 'd1' }), 1.5);
  t.equal(value(after, 'haagent_maintenance'), 1);
  t.equal(value(after, 'haagent_check_up', { group: 'web', check: 'http' }), 0);
  t.equal(value(after, 'haagent_check_up', { group: 'web', check: 'ping' }), 1);
  m.removeCheck('web', 'ping');
  snap = status({ peers: [] });
  const last = await scrape();
  t.equal(value(last, 'haagent_check_up', { group: 'web', check: 'ping' }), undefined, 'a removed check is gone');
  t.equal(value(last, 'haagent_peer_up', { peer: 'd1' }), undefined, 'a peer gone from the record is gone from the metrics');
  t.equal(value(last, 'haagent_transitions_total', { group: 'web', from: 'active', to: 'standby' }), 1, 'event counters keep their count');
});

t.test('one snapshot per scrape, however many metrics read it', async (t) => {
  let calls = 0;
  const m = new Metrics(() => (calls++, status()), { defaultMetrics: false });
  await m.text();
  t.equal(calls, 1);
  await m.text();
  t.equal(calls, 2);
});

t.test('a state outside the known four still gets its series', async (t) => {
  const m = new Metrics(() => status({ groups: [{ ...status().groups[0]!, state: 'maintenance' }] }), { defaultMetrics: false });
  const f = parseExposition(await m.text());
  t.equal(value(f, 'haagent_group_state', { group: 'web', state: 'maintenance' }), 1);
  t.equal(value(f, 'haagent_group_state', { group: 'web', state: 'active' }), 0);
});

t.test('each Metrics has its own registry; the global one stays empty', async (t) => {
  const a = new Metrics(() => status());
  const b = new Metrics(() => status());
  a.observeTransition({ group: 'web', from: 'standby', to: 'active' });
  const fb = parseExposition(await b.text());
  t.equal(value(fb, 'haagent_transitions_total', { group: 'web', from: 'standby', to: 'active' }), undefined);
  t.equal(globalRegistry.getMetricsAsArray().length, 0);
});

t.test('HTTP: only GET and HEAD /metrics; 404 elsewhere; 500 when collection fails', async (t) => {
  const { srv } = await serving(t, () => status());
  t.match(await scrapeText(srv.port, '/'), { status: 404, body: /\/metrics/ });
  t.match(await scrapeText(srv.port, '/metricsx'), { status: 404 });
  t.match(await scrapeText(srv.port, '/metrics', 'POST'), { status: 405 });
  t.match(await scrapeText(srv.port, '/metrics?x=1', 'HEAD'), { status: 200, body: '' });
  const broken = new Metrics(() => {
    throw new Error('no status yet');
  }, { defaultMetrics: false });
  const bs = await broken.serve('127.0.0.1', 0);
  t.teardown(() => bs.close());
  t.match(await scrapeText(bs.port), { status: 500, body: /no status yet/ });
});

t.test('serve() rejects when the address is taken; close() lets it go', async (t) => {
  const m = new Metrics(() => status(), { defaultMetrics: false });
  const first = await m.serve('127.0.0.1', 0);
  await t.rejects(m.serve('127.0.0.1', first.port), { code: 'EADDRINUSE' });
  await first.close();
  const again = await m.serve('127.0.0.1', first.port);
  t.equal(again.port, first.port);
  await again.close();
});

t.test('LevIP rotation counters come from the status snapshot', async (t) => {
  const levip = [{ group: 'lev', interface: 'eth0', vip: '198.51.100.100/32', period: 2000, guard: 250, repeat: 500, member: true, members: [{ node: 'd0', weight: 1, since: 5 }, { node: 'd1', weight: 2, since: 5 }], slot: 9, owner: 'd0', iOwn: true, answering: true, next: [], slotsOwned: 4, announcements: 13, announceErrors: 0 }];
  const { scrape } = await serving(t, () => status({ levip } as never));
  const f = await scrape();
  t.equal(value(f, 'haagent_levip_slots_owned_total', { group: 'lev' }), 4);
  t.equal(value(f, 'haagent_levip_announcements_total', { group: 'lev' }), 13);
  t.equal(value(f, 'haagent_levip_members', { group: 'lev' }), 2);
});

t.test('bgp readback: 1 announced, 0 not, -1 unknown, per group and VIP', async (t) => {
  const vip = (v: string, announced: string) => ({ vip: v, installed: true, announced, detail: '', checkedMsAgo: 10 });
  const bgp = [{ group: 'svc', style: 'ecmp', device: 'haagent0', daemon: 'bird', vips: [vip('203.0.113.100/32', 'yes'), vip('203.0.113.101/32', 'no'), vip('2001:db8::100/128', 'unknown')] }];
  const { scrape } = await serving(t, () => status({ bgp } as never));
  const f = await scrape();
  t.equal(value(f, 'haagent_bgp_announced', { group: 'svc', vip: '203.0.113.100/32' }), 1);
  t.equal(value(f, 'haagent_bgp_announced', { group: 'svc', vip: '203.0.113.101/32' }), 0);
  t.equal(value(f, 'haagent_bgp_announced', { group: 'svc', vip: '2001:db8::100/128' }), -1);
});

t.test('VIP conflicts, reload results and the build', async (t) => {
  let conflicts = 0;
  const snap = () => status({ groups: status().groups.map((g) => (g.name === 'web' ? { ...g, conflicts } : g)) });
  const m = new Metrics(snap, { defaultMetrics: false, version: '9.8.7' });
  const f0 = parseExposition(await m.text());
  t.equal(value(f0, 'haagent_vip_conflicts_total', { group: 'web' }), 0);
  t.equal(value(f0, 'haagent_reloads_total', { result: 'applied' }), 0, 'both results have a series from the start');
  t.equal(value(f0, 'haagent_reloads_total', { result: 'refused' }), 0);
  t.equal(value(f0, 'haagent_build_info', { version: '9.8.7', nodejs: process.version }), 1);
  conflicts = 2;
  m.observeReload(true);
  m.observeReload(false);
  m.observeReload(false);
  const f1 = parseExposition(await m.text());
  t.equal(value(f1, 'haagent_vip_conflicts_total', { group: 'web' }), 2, 'mirrors the group\'s conflict count');
  t.equal(value(f1, 'haagent_reloads_total', { result: 'applied' }), 1);
  t.equal(value(f1, 'haagent_reloads_total', { result: 'refused' }), 2);
  t.match(parseExposition(await new Metrics(snap, { defaultMetrics: false }).text()).get('haagent_build_info')?.samples[0]?.labels, { version: /^\d+\.\d+\.\d+/ }, 'by default the version of package.json');
});

t.test('packageVersion: "unknown" when no package.json of haagent is found', async (t) => {
  t.equal(packageVersion('file:///nonexistent/dir/x/version.js'), 'unknown');
  t.match(packageVersion(), /^\d+\.\d+\.\d+/);
});

t.test('peer paths and probes: a series per path of a peer, probe rounds by outcome', async (t) => {
  const d1 = status().peers[0]!;
  const paths = [{ address: '198.51.100.11', lastHeardMsAgo: 40, alive: true }, { address: '203.0.113.11', lastHeardMsAgo: 2500, alive: false }];
  let probes: { answered: number; unanswered: number } | undefined = { answered: 4, unanswered: 1 };
  const snap = () => status({ peers: [{ ...d1, paths, ...(probes ? { probes } : {}) }], heartbeats: { sent: 50, received: 40, sendErrors: 1, probesSent: 9 } });
  const m = new Metrics(snap, { defaultMetrics: false });
  const f = parseExposition(await m.text());
  t.equal(value(f, 'haagent_peer_path_up', { peer: 'd1', path: '198.51.100.11' }), 1);
  t.equal(value(f, 'haagent_peer_path_up', { peer: 'd1', path: '203.0.113.11' }), 0);
  t.equal(value(f, 'haagent_peer_path_last_seen_seconds', { peer: 'd1', path: '203.0.113.11' }), 2.5, 'seconds');
  t.equal(value(f, 'haagent_probes_sent_total'), 9);
  t.equal(f.get('haagent_probes_sent_total')?.type, 'counter');
  t.equal(value(f, 'haagent_peer_probe_rounds_total', { peer: 'd1', outcome: 'answered' }), 4);
  t.equal(value(f, 'haagent_peer_probe_rounds_total', { peer: 'd1', outcome: 'unanswered' }), 1);
  probes = undefined;
  const older = parseExposition(await m.text());
  t.equal(value(older, 'haagent_peer_probe_rounds_total', { peer: 'd1', outcome: 'answered' }), 0, 'a record without probes (an older agent\'s): zeros');
});

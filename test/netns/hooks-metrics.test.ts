/**
 * Notify hooks and Prometheus metrics on real agents in namespaces: a hook that never ends
 * does not delay the failover (and got its arguments), and /metrics scraped from the client
 * namespace parses as exposition text and moves when the state changes.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parse, stringify } from 'yaml';
import { HaagentCluster, haagentAvailable } from './agents/haagent.js';
import { epochNow, sleep, waitFor } from './exec.js';
import { Lab, VIP } from './lab.js';

if (process.getuid?.() !== 0) t.plan(0, 'network namespaces need root');
else if (!(await haagentAvailable())) t.plan(0, 'dist/src/main.js run is not available: run `npm run build`');

/** Scrapes http://addr/metrics from the client namespace with node's http client. */
async function scrape(lab: Lab, url: string): Promise<string> {
  const js = `require('http').get(${JSON.stringify(url)},r=>{let s='';r.on('data',d=>s+=d).on('end',()=>process.stdout.write(s))}).on('error',e=>{console.error(e.message);process.exit(1)})`;
  const r = await lab.exec(lab.client, [process.execPath, '-e', js], 5000);
  if (r.code !== 0) throw new Error(`scrape failed: ${r.stderr}`);
  return r.stdout;
}

/** name{labels} value -> value, for one exact series. */
function sample(text: string, series: string): number | null {
  for (const line of text.split('\n')) {
    if (line.startsWith(series + ' ')) return Number(line.slice(series.length + 1));
  }
  return null;
}

t.test('a hanging hook does not delay failover; metrics move with the state', async (t) => {
  const lab = await Lab.create({ directors: 2 });
  const cluster = new HaagentCluster(lab);
  try {
    const [d0, d1] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]];
    const hookOut = join(cluster.dir, 'hook.out');
    const hook = join(cluster.dir, 'hook.sh');
    // Records its arguments and environment, then never ends on its own.
    writeFileSync(hook, `#!/bin/sh\necho "$@ $HAAGENT_TO" >> ${hookOut}\nexec sleep 1000\n`);
    chmodSync(hook, 0o755);
    const cfg = parse(readFileSync(d1.configPath, 'utf8')) as Record<string, unknown>;
    cfg.notify = [[hook]];
    cfg.notifyTimeout = '2s';
    cfg.metrics = { listen: `${d1.host.ip}:9694` };
    writeFileSync(d1.configPath, stringify(cfg), { mode: 0o600 });

    await lab.startResponders();
    cluster.startAll();
    t.ok(await waitFor(async () => (await cluster.activeNodes()).join() === 'd0', 10000, 100), 'd0 active');
    const url = `http://${d1.host.ip}:9694/metrics`;
    const before = await scrape(lab, url);
    t.equal(sample(before, 'haagent_group_state{group="web",state="standby"}'), 1, 'd1 standby in metrics');
    t.equal(sample(before, 'haagent_group_state{group="web",state="active"}'), 0);
    for (const line of before.split('\n').filter((l) => l && !l.startsWith('#'))) {
      if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? -?[0-9.e+-]+|NaN|[+-]Inf$/.test(line)) t.fail(`not exposition text: ${line}`);
    }
    t.match(before, /# TYPE haagent_transitions_total counter/);
    t.match(before, /# TYPE process_resident_memory_bytes gauge/, 'default process metrics');

    // Client traffic to the VIP, so the client has a neighbour entry a gratuitous ARP can move.
    const probe = await lab.startProbe();
    await sleep(200);
    // d1's init->standby hook is hanging (until its 2 s timeout); the failover must not wait for it.
    const at = epochNow();
    await d0.kill();
    const moved = await waitFor(async () => (await lab.neighMac(lab.client, VIP)) === d1.host.mac, 3000, 5);
    t.ok(moved, 'the VIP moved to d1 while its hooks hang');
    t.comment(`client ARP entry moved ${(epochNow() - at).toFixed(0)} ms after the kill (polling every 5 ms)`);
    await d0.release();
    await probe.stop();
    t.equal(await d1.groupState(), 'active');
    // Hooks of one group run in transition order: the second starts when the first is killed.
    const hooked = await waitFor(async () => readFileSync(hookOut, 'utf8').includes('web standby active'), 5000, 100);
    const hookLines = readFileSync(hookOut, 'utf8').trim().split('\n');
    t.ok(hooked, 'the second hook ran after the first hit its timeout');
    t.ok(hookLines.includes('web init standby 198.51.100.100/32 standby'), `first hook got group, from, to, vip and HAAGENT_TO: ${hookLines.join(' | ')}`);
    t.ok(hookLines.includes('web standby active 198.51.100.100/32 active'), 'second hook too');
    const log = readFileSync(d1.logPath, 'utf8');
    t.match(log, /timed out|killed/, 'the hanging hook was killed at its timeout and logged');

    const after = await scrape(lab, url);
    t.equal(sample(after, 'haagent_group_state{group="web",state="active"}'), 1, 'active in metrics');
    t.ok((sample(after, 'haagent_transitions_total{group="web",from="standby",to="active"}') ?? 0) >= 1, 'transition counted');
    t.ok((sample(after, 'haagent_heartbeats_sent_total') ?? 0) > (sample(before, 'haagent_heartbeats_sent_total') ?? 0), 'heartbeats keep flowing');
  } finally {
    await cluster.stopAll();
    await lab.destroy();
    cluster.cleanup();
  }
});

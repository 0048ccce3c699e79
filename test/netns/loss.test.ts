/**
 * The lossy heartbeat path (relay.ts, lossy-path.ts) and the bench's loss row, for real in
 * network namespaces: two haagent directors that hear each other only through the relay at
 * 10 % loss, then the row's code path through the bench CLI. Figures are the bench's job;
 * this checks the machinery: packets really cross the relay and some are really dropped, the
 * pair stays with one holder, and without the relay the directors no longer hear each other.
 * Needs root and `npm run build`.
 */
import t from 'tap';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HaagentCluster, haagentAvailable } from './agents/haagent.js';
import { BENCH, runBench } from './bench-cli.js';
import { sleep, waitFor } from './exec.js';
import { Lab } from './lab.js';
import { dropRatio } from './loss.js';
import { RELAY_ADDRESSES, startLossyPath } from './lossy-path.js';
import { listNamespaces, parseNsName } from './sweep.js';

if (process.getuid?.() !== 0) t.plan(0, 'network namespaces need root');
else if (!(await haagentAvailable()) || !existsSync(BENCH)) t.plan(0, 'dist/ is not built: run `npm run build`');

/** Who holds the VIP right now, by asking each director's interface. */
async function holders(c: HaagentCluster): Promise<string[]> {
  const has = await Promise.all(c.nodes.map((n) => n.vipPresent()));
  return c.nodes.filter((_, i) => has[i]).map((n) => n.name);
}

t.test('relay at 10 % loss between two haagent directors', async (t) => {
  const lab = await Lab.create({ directors: 2 });
  let cluster: HaagentCluster | null = null;
  try {
    const path = await startLossyPath(lab, { seed: 11 });
    t.same(path.peers, [[RELAY_ADDRESSES[0]], [RELAY_ADDRESSES[1]]], 'each director is told its peer is the relay');
    // 20 ms heartbeats: ~200 datagrams a direction in 4 s, enough to see a 10 % drop ratio.
    cluster = new HaagentCluster(lab, { interval: '20ms', deadTime: '200ms', initDead: '400ms', peers: path.peers });
    const c = cluster;
    cluster.startAll();
    t.ok(await waitFor(async () => (await holders(c)).join() === 'd0', 10000, 50), 'd0 alone holds the VIP');
    // A start-up "link state not known yet" fault can hold d1 back for the 1 s fault retry.
    t.ok(await c.node('d1').waitState('standby', 3000), 'd1 hears d0 through the relay and is standby', { log: c.node('d1').logTail(30) });
    path.mark();
    await sleep(4000);
    t.same(await holders(c), ['d0'], 'after 4 s at 10 % loss exactly one director holds the VIP');
    const s = await path.stop();
    for (const [dir, d] of Object.entries(s.directions)) {
      t.ok(d.received >= 100, `${dir}: ${d.received} heartbeats reached the relay`);
      t.ok(d.dropped > 0 && d.forwarded > 0, `${dir}: ${d.dropped} dropped, ${d.forwarded} forwarded`);
      t.equal(d.foreign, 0, `${dir}: nothing from other senders`);
      t.ok(d.delayMinMs !== null && d.delayMinMs >= 0 && (d.delayMaxMs ?? Infinity) <= 10, `${dir}: delays ${d.delayMinMs?.toFixed(2)}..${d.delayMaxMs?.toFixed(2)} ms within 0..10`);
    }
    const ratio = dropRatio(s);
    t.ok(ratio > 0.04 && ratio < 0.18, `measured drop ratio ${ratio.toFixed(3)} is near 0.10`);
    t.ok(s.since > 0 && s.stoppedAt - s.since >= 3900, 'the counters cover the window after mark()');
    // The relay is the only way between them: without it d1 stops hearing d0 and takes the VIP.
    t.ok(await waitFor(async () => (await holders(c)).includes('d1'), 3000, 50), 'relay gone: d1 takes the VIP (the heartbeats went only through it)');
  } finally {
    if (cluster) await Promise.all(cluster.nodes.map((n) => n.kill()));
    const left = await lab.destroy();
    cluster?.cleanup();
    t.same(left, { leftNamespaces: [], leftPids: [] }, 'lab torn down');
  }
});

interface LossJson {
  records: unknown[];
  loss: { records: { cell: string; ok: boolean; spurious: number; received: number; dropped: number; holdersAtEnd: string[] }[] } | null;
}

t.test('bench: the loss row alone, one short run of the target cell', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hatbench-'));
  const json = join(dir, 'bench.json');
  const before = await listNamespaces();
  try {
    const { code, out, pid } = await runBench(['--scenarios', 'loss', '--cells', 'haagent-100-500', '--reps', '1', '--loss-window', '3', '--json', json], 60000);
    t.equal(code, 0, 'bench exits 0', { output: out.slice(-3000) });
    t.match(out, /\| haagent-100-500\s+\|\s+1 \|\s+3 \|/, 'the loss table has the cell, 1 run of 3 s');
    t.match(out, /target: 0 spurious failovers for haagent-100-500 .*: not judged \(\d+ in 1 run/, 'a 3 s run is reported against the target, not judged');
    t.notMatch(out, /Outage per row|Steady state/, '--scenarios loss runs only the loss row');
    t.match(out, /every namespace and process removed/);
    const data = JSON.parse(readFileSync(json, 'utf8')) as LossJson;
    t.same(data.records, [], 'no fault rounds');
    const recs = data.loss?.records ?? [];
    t.equal(recs.length, 1, 'one loss-row record');
    const r = recs[0];
    t.ok(r?.ok, 'the run came up and its window ran');
    t.ok(r && r.received > 0 && r.dropped <= r.received, `the relay counted ${r?.received} heartbeats, ${r?.dropped} dropped`);
    t.equal(r?.holdersAtEnd.length, 1, 'one holder at the end of the window');
    const mine = (await listNamespaces()).filter((n) => !before.includes(n) && parseNsName(n)?.pid === pid);
    t.same(mine, [], 'no namespace of the bench left behind');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

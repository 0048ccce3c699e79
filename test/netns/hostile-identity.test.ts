/**
 * What a recording or a key holder can do to the election, and what it no longer can:
 *
 *   1. replay after the receiver restarts: d0's heartbeats are recorded off the switch, d0 is
 *      killed, d1 takes over and is then killed and restarted while the recording is played
 *      back to it at d0's rate, from d0's address. d1 must take the VIP back from nobody within its start-up
 *      listening time: every replayed datagram is refused, because d1's replay marks live in
 *      its state directory and the recording holds nothing newer than what d1 had seen.
 *   2. a key holder on a host of the segment (r0) speaking as an unconfigured node, and as d1
 *      from r0's address: both dropped as unknown-peer, counted exactly, no transition.
 *   3. a key holder on d0's host sending one heartbeat as d0 with a boot id a year ahead:
 *      d1 must keep accepting d0's real heartbeats, also after d1 restarts (a guard that
 *      adopted the future boot would drop them as old-boot from then on, and both directors
 *      would stay active until a restart: src/wire/replay.ts, the `ahead` slot).
 *
 * Needs root and `npm run build`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { HaagentCluster, haagentAvailable, type HaagentNode } from './agents/haagent.js';
import type { AttackSummary } from './attacker.js';
import { sleep, waitFor } from './exec.js';
import { distScript, Lab, type LabHost } from './lab.js';
import { captureHeartbeats } from '../fixtures/security/pcap.js';
import { dropDelta, fastStatus, groupOf, VipWatch } from '../fixtures/security/watch.js';

const skip = process.getuid?.() !== 0 ? 'network namespaces need root' : !(await haagentAvailable()) ? 'dist/src/main.js is not available: run `npm run build`' : false;
const YEAR_MS = 365 * 24 * 3600 * 1000;

async function attack(lab: Lab, from: LabHost, mode: string, args: string[]): Promise<AttackSummary> {
  const r = await lab.exec(from, [process.execPath, distScript('attacker'), mode, ...args], 60_000);
  if (r.code !== 0) throw new Error(`attacker ${mode}: exit ${r.code}: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout) as AttackSummary;
}

/** "standby x3, active x40": consecutive equal samples folded. */
function runs(xs: readonly (string | undefined)[]): string {
  const out: [string, number][] = [];
  for (const x of xs) {
    const last = out[out.length - 1];
    if (last && last[0] === String(x)) last[1]++;
    else out.push([String(x), 1]);
  }
  return out.map(([x, n]) => `${x} x${n}`).join(', ');
}

const stateOf = async (n: HaagentNode): Promise<string | undefined> => groupOf(await fastStatus(n))?.state;
const peerOf = async (n: HaagentNode, peer: string) => (await fastStatus(n))?.peers.find((p) => p.node === peer);

async function pair(t: Test): Promise<{ lab: Lab; cluster: HaagentCluster; d0: HaagentNode; d1: HaagentNode }> {
  const lab = await Lab.create({ directors: 2, realServers: 1 });
  const cluster = new HaagentCluster(lab);
  const [d0, d1] = cluster.nodes as [HaagentNode, HaagentNode];
  cluster.startAll();
  const up = await waitFor(async () => (await stateOf(d0)) === 'active' && (await stateOf(d1)) === 'standby', 15_000, 50);
  t.ok(up, 'd0 active, d1 standby', { diagnostic: !up, d0: d0.logTail(), d1: d1.logTail() });
  return { lab, cluster, d0, d1 };
}

async function teardown(t: Test, lab: Lab, cluster: HaagentCluster): Promise<void> {
  await cluster.stopAll();
  t.same(await lab.destroy(), { leftNamespaces: [], leftPids: [] }, 'lab torn down');
  cluster.cleanup();
}

t.test('a recording replayed to a restarted receiver keeps nobody alive', { skip }, async (t) => {
  const { lab, cluster, d0, d1 } = await pair(t);
  const cap = await captureHeartbeats(lab, [d0.host]);
  try {
    await sleep(3000); // about 60 of d0's heartbeats to d1, d0 active in each
    const recorded = (await cap.stop()).get('d0') ?? [];
    t.ok(recorded.length >= 20, `recorded ${recorded.length} of d0's heartbeats`);
    const file = join(lab.dir, 'd0-heartbeats.hex');
    writeFileSync(file, recorded.map((p) => p.payload.toString('hex')).join('\n') + '\n');

    await d0.kill();
    t.ok(await d1.waitState('active', 10_000), 'd1 took over from the killed d0');
    await d1.kill(); // the receiver crashes too: nothing is flushed on the way out
    d1.start();
    const answering = await waitFor(async () => (await fastStatus(d1)) !== null, 15_000, 20);
    t.ok(answering, 'd1 runs again', { diagnostic: !answering, log: d1.logTail() });
    // The recording, played back at d0's own rate (50 ms), lasts as long as it took to record.
    // It is sent from d0's address (d0's host is up, its agent dead): from anywhere else d1
    // would drop it as unknown-peer before the replay guard saw it.
    const replay = attack(lab, d0.host, 'replay', ['--to', d1.host.ip, '--port', '694', '--cluster', 'lab', '--file', file, '--rate', '20']);
    // d1's state, sampled until the playback ends: once active, it must stay active.
    const samples: (string | undefined)[] = [];
    const settled = { done: false };
    void replay.finally(() => (settled.done = true));
    await waitFor(async () => {
      samples.push(await stateOf(d1));
      return settled.done;
    }, 30_000, 25);
    const summary = await replay;
    const s = await fastStatus(d1);
    const first = samples.indexOf('active');
    const held = first >= 0 && samples.slice(first).every((x) => x === 'active');
    t.ok(held, `d1 took the VIP while the ${summary.sent} replayed heartbeats arrived and kept it (states sampled: ${runs(samples)})`, { diagnostic: !held, log: d1.logTail(40) });
    t.equal(s?.peers.find((p) => p.node === 'd0')?.received ?? 0, 0, 'd1 accepted none of the recording');
    t.ok((s?.dropped.replay ?? 0) > 0, `and counted it as replay (${s?.dropped.replay ?? 0} of the ${summary.sent} sent; any others arrived before its socket was open)`);
  } finally {
    await cap.stop().catch(() => undefined);
    await teardown(t, lab, cluster);
  }
});

t.test('key holders: unknown names and foreign addresses are dropped, a far-future boot locks nobody out', { skip }, async (t) => {
  const { lab, cluster, d0, d1 } = await pair(t);
  const watch = await VipWatch.start(lab);
  const key = join(cluster.dir, 'key');
  const tr = async (): Promise<number[]> => Promise.all([d0, d1].map(async (n) => groupOf(await fastStatus(n))?.transitions ?? -1));
  try {
    const transitions = await tr();
    const before = (await fastStatus(d0))!;
    const r0 = lab.realServers[0]!;
    const toD0 = ['--to', d0.host.ip, '--port', '694', '--cluster', 'lab', '--key', key, '--state', 'active', '--priority', '255'];
    const invented = await attack(lab, r0, 'holder', [...toD0, '--node', 'd9', '--count', '200', '--rate', '400']);
    const posing = await attack(lab, r0, 'holder', [...toD0, '--node', 'd1', '--count', '200', '--rate', '400']);
    await sleep(500);
    const after = (await fastStatus(d0))!;
    t.same(dropDelta(before, after), { 'unknown-peer': invented.sent + posing.sent }, 'd0 dropped every one as unknown-peer, and nothing else');
    t.same(after.peers.map((p) => p.node), ['d1'], "d0's peer table holds d1 only");

    // From d0's own address (a key holder on d0's host), one heartbeat as d0, a year ahead.
    const ahead = await attack(lab, d0.host, 'holder', ['--to', d1.host.ip, '--port', '694', '--cluster', 'lab', '--key', key, '--node', 'd0', '--state', 'active', '--priority', '150', '--count', '1', '--boot-ahead-ms', String(YEAR_MS)]);
    t.equal(ahead.sent, 1, 'the far-future heartbeat went out');
    const heard = async (): Promise<number> => (await peerOf(d1, 'd0'))?.received ?? 0;
    const r1 = await heard();
    await sleep(1000);
    const r2 = await heard();
    t.ok(r2 - r1 >= 5, `d1 still accepts d0's real heartbeats (${r2 - r1} in 1 s)`);
    t.equal((await fastStatus(d1))?.dropped['old-boot'] ?? 0, 0, 'none of them refused as old-boot');

    await d1.kill();
    d1.start();
    t.ok(await d1.waitState('standby', 15_000), 'd1 restarted (its marks, the far boot included, read back) and is standby');
    const r3 = await heard();
    await sleep(1000);
    t.ok((await heard()) - r3 >= 5, "after the restart d1 still accepts d0's real heartbeats");
    t.equal((await tr())[0], transitions[0], 'no transition on d0 throughout');
    t.same(watch.holders(), ['d0'], 'the VIP is on d0 only');
  } finally {
    watch.stop();
    await teardown(t, lab, cluster);
  }
});

/**
 * Failover drills with the real `haagent run` in network namespaces. Timings are printed,
 * not asserted tightly: the bound below only says "it moved", on a 2-core machine.
 * Needs root and `npm run build`.
 */
import t from 'tap';
import { HaagentCluster, haagentAvailable, type HaagentNode } from './agents/haagent.js';
import { waitFor } from './exec.js';
import { Lab, VIP } from './lab.js';
import { socketFds } from './proc-sockets.js';
import { failoverRound, restorePreferred, type RoundResult } from './round.js';

/** "It moved" within this; generous, not a performance claim (`npm run demo` prints figures). */
const MOVED_WITHIN_MS = 2000;

if (process.getuid?.() !== 0) t.plan(0, 'network namespaces need root');
else if (!(await haagentAvailable())) t.plan(0, 'dist/src/main.js run is not available: run `npm run build`');

/** The assertions these helpers use, on a subtest or on the root. */
type Asserts = Pick<typeof t, 'ok' | 'equal' | 'comment'>;

function describe(r: RoundResult): string {
  const arp = r.arpUpdateMs === null ? '-' : r.arpUpdateMs.toFixed(1);
  return `${r.kind} ${r.from}->${r.to}: outage ${r.outage.outageMs.toFixed(1)} ms (${r.outage.lost} lost), ARP update ${arp} ms, answered by ${r.answeredBy.join(' > ')}, garps ${r.garps ?? '-'}, dual windows ${r.dualWindows}`;
}

/** Starts every agent and waits until d0 (highest priority) is the only active one. */
async function upWithD0Active(t: Asserts, lab: Lab, cluster: HaagentCluster): Promise<HaagentNode> {
  await lab.startResponders();
  cluster.startAll();
  const d0 = cluster.nodes[0];
  const ok = await waitFor(async () => (await cluster.activeNodes()).join() === 'd0', 10000, 100);
  t.ok(ok, 'd0 becomes the only active node', { diagnostic: !ok, log: d0.logTail() });
  t.ok(await d0.vipPresent(), 'VIP on d0 eth0');
  return d0;
}

function checkMoved(t: Asserts, r: RoundResult, to: string): void {
  t.equal(r.answeredBy[r.answeredBy.length - 1], to, `${to} answers the probe at the end`);
  t.ok(r.arpUpdateMs !== null, `client ARP entry moved to ${to}`);
  t.ok(Number.isFinite(r.outage.outageMs), 'outage is finite');
  t.ok(r.outage.outageMs < MOVED_WITHIN_MS && (r.arpUpdateMs ?? Infinity) < MOVED_WITHIN_MS, `moved within ${MOVED_WITHIN_MS} ms`);
  t.comment(describe(r));
}

t.test('2 directors: crash (SIGKILL), release, preempt back, planned stop (SIGTERM), node loss', async (t) => {
  const lab = await Lab.create({ directors: 2 });
  const cluster = new HaagentCluster(lab);
  try {
    const [d0, d1] = cluster.nodes;
    await upWithD0Active(t, lab, cluster);
    // A killed process's sockets are released last fd first, and a packet socket's release
    // waits out an RCU grace period: the heartbeat sockets must come later in the fd table,
    // or they close (and the peer learns of the crash) 8-17 ms late.
    const packet = socketFds(d0.proc!.pid, 'packet');
    const udp = socketFds(d0.proc!.pid, 'udp');
    t.ok(packet.length > 0 && udp.length > 0, 'the agent holds packet and UDP sockets', { packet, udp });
    t.ok(Math.max(...packet) < Math.min(...udp), 'every AF_PACKET fd is below every heartbeat fd', { packet, udp });
    const capture = await lab.startArpCapture();

    const crash = await failoverRound(lab, d0, d1, 'crash', { capture });
    checkMoved(t, crash, 'd1');
    t.equal((await lab.arpEntry(lab.client, VIP))?.mac, d1.host.mac, 'arp-a in the client names d1');
    t.equal(await d1.groupState(), 'active', 'd1 reports active');
    t.ok(crash.garps !== null && crash.garps > 0, 'd1 sent gratuitous ARPs');
    t.ok(await d0.vipPresent(), 'a SIGKILLed agent leaves its VIP behind (why release exists)');
    const rel = await d0.release();
    t.equal(rel.code, 0, 'release exits 0');
    t.notOk(await d0.vipPresent(), 'release removed the VIP from d0 eth0');
    t.ok(await d1.vipPresent(), 'd1 keeps the VIP');

    await restorePreferred(lab, cluster, d0, 'crash');
    t.pass('d0 preempted back after restart');
    t.notOk(await d1.vipPresent(), 'd1 released the VIP on preemption');

    const planned = await failoverRound(lab, d0, d1, 'planned', { capture });
    checkMoved(t, planned, 'd1');
    t.same(await d0.proc?.exited, { code: 0, signal: null }, 'd0 exits 0 on SIGTERM');
    t.notOk(await d0.vipPresent(), 'a planned stop releases the VIP');
    t.equal(planned.dualWindows, 0, 'no answers from two directors after the handover');

    await restorePreferred(lab, cluster, d0, 'planned');
    const loss = await failoverRound(lab, d0, d1, 'node-loss', { capture });
    checkMoved(t, loss, 'd1');
    // d0 is unreachable and d1 must first miss deadTime of heartbeats: some probes go unanswered.
    t.ok(loss.outage.lost > 0, 'node loss costs the client some probes');
    await capture.stop();
  } finally {
    await cluster.stopAll();
    t.same(await lab.destroy(), { leftNamespaces: [], leftPids: [] }, 'lab torn down');
    cluster.cleanup();
  }
});

t.test('3 directors: the next priority takes over, the third stays standby', async (t) => {
  const lab = await Lab.create({ directors: 3 });
  const cluster = new HaagentCluster(lab);
  try {
    const [d0, d1, d2] = cluster.nodes;
    await upWithD0Active(t, lab, cluster);
    const r = await failoverRound(lab, d0, d1, 'crash');
    checkMoved(t, r, 'd1');
    t.same(await cluster.activeNodes(), ['d1'], 'only d1 is active');
    t.equal(await d2.groupState(), 'standby', 'd2 stays standby');
    t.notOk(await d2.vipPresent(), 'd2 does not hold the VIP');
  } finally {
    await cluster.stopAll();
    t.same(await lab.destroy(), { leftNamespaces: [], leftPids: [] }, 'lab torn down');
    cluster.cleanup();
  }
});

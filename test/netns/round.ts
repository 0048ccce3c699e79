/**
 * One failover drill round against haagent, for failover.test.ts and least-privilege.test.ts
 * (the demo and the drill use the bench's agent-neutral rounds, test/bench/rounds.ts):
 * probe running, inject the fault on the active director, wait until the client's ARP
 * entry names the new one, then measure from the probe's records. And the way back:
 * restore the preferred director and wait until it is active again. twoDirectorDrill is the
 * whole 2-director story both tests tell, the agents running as root or as another user.
 */
import type { Test } from 'tap';
import { arpChangeAfter, dualAnswerWindows, garpsFor, outage, parseTcpdumpArp, type OutageReport } from './analyze.js';
import { epochNow, sleep, waitFor } from './exec.js';
import { linkDown, linkUp } from './faults.js';
import { VIP, type ArpCapture, type Lab } from './lab.js';
import { socketFds } from './proc-sockets.js';
import type { HaagentCluster, HaagentNode } from './agents/haagent.js';

/** crash = SIGKILL of the agent (its VIP stays behind); planned = SIGTERM; node-loss = link down + SIGKILL. */
export type FaultKind = 'crash' | 'planned' | 'node-loss';

export interface RoundResult {
  kind: FaultKind;
  from: string;
  to: string;
  outage: OutageReport;
  /** fault -> the client's ARP entry for the VIP names the new active's MAC (probe watcher). */
  arpUpdateMs: number | null;
  /** 10 ms windows with answers from two directors after the new active answered. */
  dualWindows: number;
  /** gratuitous ARPs the new active sent for the VIP during the round (needs a capture). */
  garps: number | null;
  /** responders in answer order, e.g. ['d0', 'd1']. */
  answeredBy: string[];
}

export interface RoundOptions {
  /** probe traffic before the fault. */
  baselineMs?: number;
  /** probe traffic after the switch, to see who keeps answering. */
  settleMs?: number;
  /** give up waiting for the switch after this long. */
  timeoutMs?: number;
  /** a running tcpdump of the client's eth0, to count gratuitous ARPs. */
  capture?: ArpCapture;
}

async function injectFault(kind: FaultKind, node: HaagentNode): Promise<void> {
  if (kind === 'node-loss') {
    await linkDown(node.host);
    await node.kill();
  } else if (kind === 'crash') await node.kill();
  else await node.stop();
}

export async function failoverRound(lab: Lab, from: HaagentNode, to: HaagentNode, kind: FaultKind, opts: RoundOptions = {}): Promise<RoundResult> {
  const probe = await lab.startProbe();
  await sleep(opts.baselineMs ?? 200);
  const garpsBefore = opts.capture ? opts.capture.lines.length : 0;
  const faultAt = epochNow();
  await injectFault(kind, from);
  await waitFor(async () => (await lab.neighMac(lab.client, VIP)) === to.host.mac, opts.timeoutMs ?? 3000, 5);
  await sleep(opts.settleMs ?? 200);
  const result = await probe.stop();
  const o = outage(result.sentAt, result.replies, faultAt, result.intervalMs);
  const change = arpChangeAfter(result.arp, faultAt, to.host.mac);
  let garps: number | null = null;
  if (opts.capture) {
    const frames = opts.capture.lines.slice(garpsBefore).map(parseTcpdumpArp);
    garps = garpsFor(frames.filter((f) => f !== null), VIP).filter((f) => f.srcMac === to.host.mac).length;
  }
  const answeredBy: string[] = [];
  for (const r of [...result.replies].sort((a, b) => a.seq - b.seq)) {
    if (answeredBy[answeredBy.length - 1] !== r.by) answeredBy.push(r.by);
  }
  return {
    kind,
    from: from.name,
    to: to.name,
    outage: o,
    arpUpdateMs: change ? change.at - faultAt : null,
    dualWindows: dualAnswerWindows(result.replies, to.name),
    garps,
    answeredBy,
  };
}

/**
 * Brings the preferred director back after a round: link up, release the VIP a killed
 * agent left behind, start the agent, and wait (bounded) until it is active, every other
 * node is not, and the client's ARP entry names it again. Throws with the log tail if not.
 */
export async function restorePreferred(lab: Lab, cluster: HaagentCluster, preferred: HaagentNode, kind: FaultKind, timeoutMs = 10000): Promise<void> {
  if (kind === 'node-loss') await linkUp(preferred.host);
  if (kind !== 'planned') await preferred.release();
  preferred.start();
  const ok = await waitFor(
    async () => {
      if ((await lab.neighMac(lab.client, VIP)) !== preferred.host.mac) return false;
      const active = await cluster.activeNodes();
      return active.length === 1 && active[0] === preferred.name;
    },
    timeoutMs,
    100,
  );
  if (!ok) throw new Error(`${preferred.name} did not become the only active node again:\n${preferred.logTail()}`);
}

/** "It moved" within this; generous, not a performance claim (`npm run demo` prints figures). */
export const MOVED_WITHIN_MS = 2000;

export function describeRound(r: RoundResult): string {
  const arp = r.arpUpdateMs === null ? '-' : r.arpUpdateMs.toFixed(1);
  return `${r.kind} ${r.from}->${r.to}: outage ${r.outage.outageMs.toFixed(1)} ms (${r.outage.lost} lost), ARP update ${arp} ms, answered by ${r.answeredBy.join(' > ')}, garps ${r.garps ?? '-'}, dual windows ${r.dualWindows}`;
}

/** Starts every agent and waits until d0 (highest priority) is the only active one. */
export async function upWithD0Active(t: Test, lab: Lab, cluster: HaagentCluster): Promise<HaagentNode> {
  await lab.startResponders();
  cluster.startAll();
  const d0 = cluster.nodes[0];
  const ok = await waitFor(async () => (await cluster.activeNodes()).join() === 'd0', 10000, 100);
  const logs = ok ? {} : Object.fromEntries(cluster.nodes.map((n) => [n.name, n.logTail()]));
  t.ok(ok, 'd0 becomes the only active node', { diagnostic: !ok, active: ok ? [] : await cluster.activeNodes(), ...logs });
  t.ok(await d0.vipPresent(), 'VIP on d0 eth0');
  const cli = await d0.cliStatus();
  t.equal(cli?.groups[0]?.state, 'active', '`haagent status --json` (the CLI, inside the namespace) says active');
  return d0;
}

export function checkMoved(t: Test, r: RoundResult, to: string): void {
  t.equal(r.answeredBy[r.answeredBy.length - 1], to, `${to} answers the probe at the end`);
  t.ok(r.arpUpdateMs !== null, `client ARP entry moved to ${to}`);
  t.ok(Number.isFinite(r.outage.outageMs), 'outage is finite');
  t.ok(r.outage.outageMs < MOVED_WITHIN_MS && (r.arpUpdateMs ?? Infinity) < MOVED_WITHIN_MS, `moved within ${MOVED_WITHIN_MS} ms`);
  t.comment(describeRound(r));
}

/**
 * Two directors, d0 preferred: up, then a crash (SIGKILL) of d0 and `haagent release` of the
 * VIP it left, d0 back by preemption, a planned stop (SIGTERM), d0 back, and node loss (link
 * down). afterUp runs once d0 is the only active node, before the first round.
 */
export async function twoDirectorDrill(t: Test, lab: Lab, cluster: HaagentCluster, afterUp?: (d0: HaagentNode, d1: HaagentNode) => Promise<void>): Promise<void> {
  const [d0, d1] = cluster.nodes as [HaagentNode, HaagentNode];
  await upWithD0Active(t, lab, cluster);
  await afterUp?.(d0, d1);
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
  t.equal(planned.dualWindows, 0, 'no request sent after the handover is answered by d0', { round: describeRound(planned) });

  await restorePreferred(lab, cluster, d0, 'planned');
  const loss = await failoverRound(lab, d0, d1, 'node-loss', { capture });
  checkMoved(t, loss, 'd1');
  // d0 is unreachable and d1 must first miss deadTime of heartbeats: some probes go unanswered.
  t.ok(loss.outage.lost > 0, 'node loss costs the client some probes');
  await capture.stop();
}

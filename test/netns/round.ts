/**
 * One failover drill round against haagent, for failover.test.ts (the demo and the drill use
 * the bench's agent-neutral rounds, test/bench/rounds.ts):
 * probe running, inject the fault on the active director, wait until the client's ARP
 * entry names the new one, then measure from the probe's records. And the way back:
 * restore the preferred director and wait until it is active again.
 */
import { arpChangeAfter, dualAnswerWindows, garpsFor, outage, parseTcpdumpArp, type OutageReport } from './analyze.js';
import { epochNow, sleep, waitFor } from './exec.js';
import { linkDown, linkUp } from './faults.js';
import { VIP, type ArpCapture, type Lab } from './lab.js';
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

/**
 * One fault round against any agent (AgentCluster), shared by `npm run bench` and
 * `npm run drill`: the probe runs, the fault hits the active director d0, the client's ARP
 * entry must come to name d1, then (hang, partition) the fault is undone while the probe
 * still runs, and the round ends once one director holds the VIP and the client's ARP entry
 * names it. Everything is measured from the client's probe records and the VIP timeline.
 *
 * Faults (the active director is d0, preferred, preempting):
 *   crash      SIGKILL of the agent, then the supervisor's cleanup right away (haagent:
 *              `haagent release` = systemd ExecStopPost; others: `ip addr del` of the VIP,
 *              what an operator's ExecStopPost would run). Without it every agent leaves its
 *              VIP on the dead director, which keeps answering: no outage to see.
 *   crash-svc  the agent and the director's service (its responder) SIGKILLed together (a box
 *              going down, an OOM kill of the whole cgroup; the kernel stays up), then the
 *              same cleanup: the outage is what a client sees until the standby takes over.
 *   planned    the agent's own graceful stop (SIGTERM).
 *   node-loss  d0's link goes down, then its agent is SIGKILLed.
 *   link-down  d0's link goes down; the agent keeps running.
 *   hang       every process of the agent SIGSTOPped for 3 x its dead time, then SIGCONT.
 *   partition  the directors stop hearing each other (bridge port isolation, faults.ts; it stops
 *              multicast too) for 3 x the dead time, then heal.
 */
import { arpChangeAfter, dualAnswerWindows, outage } from '../netns/analyze.js';
import type { AgentCluster, AgentNode } from '../netns/agents/common.js';
import { epochNow, sleep, waitFor } from '../netns/exec.js';
import { isolateDirectors, linkDown } from '../netns/faults.js';
import { VIP, type ArpCapture, type Lab, type LabHost } from '../netns/lab.js';
import { garpFigures, type GarpFigures } from './garp.js';
import { overlapMs, singleHolderSince } from './timeline.js';
import type { VipWatch } from './vipwatch.js';

export type Scenario = 'crash' | 'crash-svc' | 'planned' | 'node-loss' | 'link-down' | 'hang' | 'partition';
/** failback: the preferred director restarted after a round takes its VIP back. */
export type RowId = Scenario | 'failback';

export const SCENARIOS: Scenario[] = ['crash', 'crash-svc', 'hang', 'link-down', 'planned', 'partition', 'node-loss'];
/** The bench's rows (node-loss is link-down plus crash; the drill runs it, the bench does not). */
export const BENCH_SCENARIOS: Scenario[] = ['crash', 'crash-svc', 'hang', 'link-down', 'planned', 'partition'];

export interface RoundRecord extends GarpFigures {
  cell: string;
  row: RowId;
  rep: number;
  /** longest client-visible gap after the event, ms; Infinity when answers never resumed. */
  outageMs: number;
  lost: number;
  /** event -> the client's ARP entry names the taker (d1; d0 for failback); null: never. */
  arpMs: number | null;
  /** 10 ms windows in which two directors answered the probe. */
  dualAnswerWindows: number;
  /** ms during which both directors held the VIP (ip monitor). */
  dualVipMs: number;
  /** hang: thaw -> one holder again; partition: heal -> one holder again (ms). */
  resolveMs: number | null;
  /** crash, crash-svc: the killed agent's VIP was still on its director before the cleanup ran. */
  vipLeft: boolean | null;
  /** crash, crash-svc: the VIP was still there after the cleanup (should be false). */
  vipAfterCleanup: boolean | null;
  /** who held the VIP at the end of the round. */
  holder: string | null;
  /** the round ended with one holder that the client's ARP entry names. */
  ok: boolean;
  note: string;
}

export interface RoundContext {
  lab: Lab;
  cluster: AgentCluster;
  watch: VipWatch;
  /** tcpdump of ARP at the client, for the taker's first gratuitous ARP. */
  capture: ArpCapture;
  cell: string;
  /** UDP probe interval (ms). */
  probeMs: number;
}

/** Waits, sized from the agent's dead time, so a 30 s Heartbeat and a 30 ms haagent both fit. */
export function timings(detectMs: number): { takeover: number; hold: number; settle: number; stable: number } {
  return {
    takeover: Math.max(3000, 3 * detectMs + 3000),
    hold: 3 * detectMs,
    settle: Math.max(200, Math.min(1000, detectMs)),
    stable: Math.max(10000, 4 * detectMs + 8000),
  };
}

const nodeByName = (c: AgentCluster, name: string): AgentNode | undefined => c.nodes.find((n) => n.name === name);

/** Waits (bounded) until exactly one director holds the VIP and the client's ARP names it. */
export async function waitConsistent(ctx: RoundContext, timeoutMs: number, want?: string, ignore?: string): Promise<string | null> {
  const hit = await waitFor(
    async () => {
      const h = ctx.watch.holders().filter((x) => x !== ignore);
      if (h.length !== 1 || (want !== undefined && h[0] !== want)) return null;
      const mac = await ctx.lab.neighMac(ctx.lab.client, VIP);
      return mac === ctx.lab.host(h[0]).mac ? h[0] : null;
    },
    timeoutMs,
    10,
  );
  return hit ?? null;
}

/** The first-GARP figures of a round whose taker is `taker`, counted from `from`. */
export function garpsOf(ctx: RoundContext, taker: LabHost, from: number): GarpFigures {
  return garpFigures(ctx.capture.frames(), ctx.watch.events, { vip: VIP, mac: taker.mac, host: taker.name, from });
}

async function inject(ctx: RoundContext, s: Scenario, a: AgentNode): Promise<{ vipLeft: boolean | null; vipAfterCleanup: boolean | null; stopping?: Promise<void> }> {
  const none = { vipLeft: null, vipAfterCleanup: null };
  if (s === 'crash' || s === 'crash-svc') {
    // Both SIGKILLs leave before either wait: the service and the agent die in the same instant.
    await Promise.all([s === 'crash-svc' ? ctx.lab.killResponder(a.host) : null, a.kill()]);
    const vipLeft = await a.vipPresent();
    await a.cleanup();
    return { vipLeft, vipAfterCleanup: await a.vipPresent() };
  }
  if (s === 'planned') return { ...none, stopping: a.stop() };
  if (s === 'node-loss' || s === 'link-down') await linkDown(a.host);
  if (s === 'node-loss') await a.kill();
  if (s === 'hang') a.freeze();
  if (s === 'partition') await isolateDirectors(ctx.lab);
  return none;
}

/** hang and partition: keep the fault for `hold` ms after it began, then undo it. */
async function undo(ctx: RoundContext, s: Scenario, a: AgentNode, faultAt: number, holdMs: number): Promise<number | null> {
  if (s !== 'hang' && s !== 'partition') return null;
  const left = faultAt + holdMs - epochNow();
  if (left > 0) await sleep(left);
  if (s === 'hang') a.thaw();
  else await isolateDirectors(ctx.lab, false);
  return epochNow();
}

export async function runRound(ctx: RoundContext, s: Scenario, rep: number): Promise<RoundRecord> {
  const [a, b] = ctx.cluster.nodes;
  const t = timings(ctx.cluster.detectMs);
  const probe = await ctx.lab.startProbe({ intervalMs: ctx.probeMs });
  await sleep(200);
  const faultAt = epochNow();
  const injected = await inject(ctx, s, a);
  await waitFor(async () => (await ctx.lab.neighMac(ctx.lab.client, VIP)) === b.host.mac, t.takeover, 5);
  const undoneAt = await undo(ctx, s, a, faultAt, t.hold);
  await injected.stopping?.catch(() => undefined);
  await sleep(t.settle);
  // A director whose link is down may keep its VIP: nobody can reach it, so it does not count.
  const cutOff = s === 'link-down' || s === 'node-loss' ? a.name : undefined;
  const holder = await waitConsistent(ctx, t.stable, undefined, cutOff);
  const endAt = epochNow();
  const result = await probe.stop();
  const single = undoneAt === null ? null : singleHolderSince(ctx.watch.events, undoneAt);
  const change = arpChangeAfter(result.arp, faultAt, b.host.mac);
  const o = outage(result.sentAt, result.replies, faultAt, result.intervalMs);
  return {
    cell: ctx.cell,
    row: s,
    rep,
    outageMs: o.outageMs,
    lost: o.lost,
    arpMs: change ? change.at - faultAt : null,
    dualAnswerWindows: dualAnswerWindows(result.replies, b.name),
    dualVipMs: overlapMs(ctx.watch.events.filter((e) => e.host !== cutOff), faultAt, endAt),
    resolveMs: single === null || undoneAt === null ? null : single - undoneAt,
    vipLeft: injected.vipLeft,
    vipAfterCleanup: injected.vipAfterCleanup,
    ...garpsOf(ctx, b.host, faultAt),
    holder,
    ok: holder !== null && change !== null,
    note: holder === null ? `no single holder known to the client after ${t.stable} ms` : change === null ? 'the client never moved to d1' : '',
  };
}

export { nodeByName };

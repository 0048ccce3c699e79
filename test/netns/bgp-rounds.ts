/**
 * The measured rounds of the BGP drill (bgp.test.ts) and the bench's bgp rows: each one
 * sets up its fault against haagent in the BGP lab while the client's flows run, and returns
 * the figures as the client saw them. The caller asserts; these only measure.
 *
 * Active/standby (d0 preferred, d1 standby):
 *   planned    d0's agent gets SIGTERM (it removes the VIP, its route is withdrawn).
 *   crash      d0's agent and service SIGKILLed together, then `haagent release` at once
 *              (systemd's ExecStopPost), which removes the VIP the dead agent left.
 *   link-down  d0's uplink goes down; its agent, BIRD and service keep running.
 * ECMP (every director a member): the spread of many flows, and a director whose health
 * check fails withdrawing while the others keep serving.
 */
import { outage } from './analyze.js';
import type { HaagentNode } from './agents/haagent.js';
import type { BgpAgents } from './bgp-agents.js';
import { answeredByAfter, firstElsewhere, flowSpread, lastAnsweredBy, lastLoss, type Spread } from './bgp-analyze.js';
import type { BgpLab } from './bgp-lab.js';
import { epochNow, sleep, waitFor } from './exec.js';

export type BgpScenario = 'planned' | 'crash' | 'link-down';
export const BGP_SCENARIOS: BgpScenario[] = ['planned', 'crash', 'link-down'];

export interface FailoverFigures {
  scenario: BgpScenario;
  /** fault -> the send time of the first probe another director answered; null: none did. */
  toOtherMs: number | null;
  /** fault -> the send time of the last probe nobody answered: every flow served again after it. */
  allServedMs: number;
  /** the longest client-visible gap after the fault (analyze.ts outage()). */
  outageMs: number;
  lost: number;
  /** fault -> the router's only next hop is the standby (polled every 5 ms). */
  routerMs: number | null;
}

/** Waits (bounded) for the steady active/standby state: d0 active and the router's only next hop. */
export async function waitPreferred(bgp: BgpLab, agents: BgpAgents, timeoutMs = 15_000): Promise<boolean> {
  const [d0] = agents.nodes;
  const ok = await waitFor(async () => (await d0!.groupState()) === 'active', timeoutMs, 50);
  return !!ok && (await bgp.waitNextHops([d0!.host.ip], timeoutMs));
}

async function fault(bgp: BgpLab, s: BgpScenario, a: HaagentNode): Promise<void> {
  if (s === 'planned') await a.stop();
  else if (s === 'crash') {
    await Promise.all([bgp.lab.killResponder(a.host), a.kill()]);
    const r = await a.release();
    if (r.code !== 0) throw new Error(`haagent release on ${a.name}: exit ${r.code}: ${r.stderr.trim()}`);
  } else await bgp.linkDown(a.host);
}

/** One active/standby round: fault on d0 while 16 flows run; d1 must take the traffic. */
export async function failoverRound(bgp: BgpLab, agents: BgpAgents, s: BgpScenario): Promise<FailoverFigures> {
  const [d0, d1] = agents.nodes as [HaagentNode, HaagentNode];
  const flows = await bgp.startFlows({ flows: 16, intervalMs: 1 });
  await sleep(300);
  const faultAt = epochNow();
  await fault(bgp, s, d0);
  const moved = await bgp.waitNextHops([d1.host.ip], 10_000, 5);
  const routerMs = moved ? epochNow() - faultAt : null;
  await sleep(400);
  const r = await flows.stop();
  const o = outage(r.sentAt, r.replies, faultAt, r.intervalMs);
  return { scenario: s, toOtherMs: firstElsewhere(r, d0.name, faultAt), allServedMs: lastLoss(r, faultAt), outageMs: o.outageMs, lost: o.lost, routerMs };
}

/** Brings d0 back after planned or crash (service, agent) and waits for the steady state. */
export async function restorePreferred(bgp: BgpLab, agents: BgpAgents): Promise<boolean> {
  const d0 = agents.nodes[0]!;
  await bgp.lab.ensureResponder(d0.host);
  if (!d0.proc?.alive()) d0.start();
  return waitPreferred(bgp, agents);
}

export interface EcmpFigures {
  spread: Spread;
  /** check failed (flag written) -> the router no longer lists the victim. */
  withdrawMs: number | null;
  /** check failed -> the send time of the last probe the victim answered. */
  lastAnswerMs: number | null;
  /** probes the victim answered that were sent later than failAt + boundMs. */
  lateAnswers: number;
  boundMs: number;
}

/**
 * ECMP: every director announces; `flows` flows run for spreadMs, then the last director's
 * check fails. boundMs: the documented withdrawal bound (check period + the daemons' delay).
 */
export async function ecmpRound(bgp: BgpLab, agents: BgpAgents, o: { flows: number; spreadMs: number; boundMs: number }): Promise<EcmpFigures> {
  const victim = agents.nodes[agents.nodes.length - 1]!;
  const rest = agents.nodes.filter((n) => n !== victim).map((n) => n.host.ip);
  const flows = await bgp.startFlows({ flows: o.flows, intervalMs: 1 });
  const from = epochNow() + 200;
  await sleep(o.spreadMs + 200);
  const failAt = epochNow();
  agents.failCheck(victim);
  const gone = await bgp.waitNextHops(rest, 10_000, 5);
  const withdrawMs = gone ? epochNow() - failAt : null;
  await sleep(Math.max(500, o.boundMs));
  const r = await flows.stop();
  const last = lastAnsweredBy(r, victim.name);
  return {
    spread: flowSpread(r, from, failAt),
    withdrawMs,
    lastAnswerMs: last === null ? null : last - failAt,
    lateAnswers: answeredByAfter(r, victim.name, failAt + o.boundMs),
    boundMs: o.boundMs,
  };
}

/** "planned: first flow on another director after 4 ms, every flow served after 30 ms (...)" */
export function formatFailover(f: FailoverFigures): string {
  const ms = (v: number | null): string => (v === null || !Number.isFinite(v) ? 'never' : `${v.toFixed(0)} ms`);
  return `${f.scenario}: first flow on another director after ${ms(f.toOtherMs)}, every flow served again after ${ms(f.allServedMs)} ` +
    `(longest gap ${ms(f.outageMs)}, ${f.lost} lost in it), router's only next hop the standby after ${ms(f.routerMs)}`;
}

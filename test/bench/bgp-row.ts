/**
 * The bench's bgp row (issue 17): haagent's bgp mode in the BGP lab (test/netns/bgp-lab.ts,
 * BIRD on the router and on each director). Two labs, one after the other:
 *   active/standby, 2 directors: `reps` rounds of planned, crash and link down, each timed
 *     from the fault to the first client probe another director answered (bgp-rounds.ts);
 *   ECMP, 3 directors: `reps` rounds of the spread of 600 flows and of a failed health check
 *     withdrawing the third director (time to the router's withdrawal, late answers).
 * Needs bird and birdc (scripts/bench-setup.sh); skipped with the reason otherwise.
 */
import { BgpAgents } from '../netns/bgp-agents.js';
import { BgpLab, birdSkipReason } from '../netns/bgp-lab.js';
import { BGP_SCENARIOS, ecmpRound, failoverRound, restorePreferred, waitPreferred, type EcmpFigures, type FailoverFigures } from '../netns/bgp-rounds.js';
import { fmt, summarize, table } from './report.js';

/** The ECMP drill's check period and the daemons' allowance (docs/bgp.md). */
export const BGP_CHECK_MS = 200;
export const BGP_DAEMON_DELAY_MS = 1000;

export interface BgpRowResult {
  skipped: string | null;
  failover: FailoverFigures[];
  ecmp: EcmpFigures[];
  /** rounds whose state could not be restored (the row stopped there). */
  notes: string[];
}

async function activeStandby(reps: number, stopping: () => boolean, out: BgpRowResult, log: (l: string) => void): Promise<void> {
  const bgp = await BgpLab.create({ directors: 2 });
  const agents = new BgpAgents(bgp, { style: 'active-standby' });
  try {
    await bgp.lab.startResponders();
    await bgp.startRouting();
    agents.cluster.startAll();
    if (!(await bgp.waitEstablished(bgp.directors)) || !(await waitPreferred(bgp, agents))) throw new Error('bgp row: the active/standby lab did not settle');
    for (let rep = 0; rep < reps && !stopping(); rep++) {
      for (const s of BGP_SCENARIOS) {
        const f = await failoverRound(bgp, agents, s);
        out.failover.push(f);
        log(`  bgp ${s} #${rep + 1}: every flow served after ${fmt(f.allServedMs)} ms`);
        if (s === 'link-down') await bgp.linkUp(bgp.directors[0]!);
        if (!(await restorePreferred(bgp, agents))) {
          out.notes.push(`after ${s} #${rep + 1}: d0 did not come back as the only next hop; the row stopped`);
          return;
        }
      }
    }
  } finally {
    await agents.stopAll();
    await bgp.destroy();
    agents.cleanup();
  }
}

async function ecmp(reps: number, stopping: () => boolean, out: BgpRowResult, log: (l: string) => void): Promise<void> {
  const bgp = await BgpLab.create({ directors: 3 });
  const agents = new BgpAgents(bgp, { style: 'ecmp', checkInterval: `${BGP_CHECK_MS}ms` });
  const all = bgp.directors.map((d) => d.ip);
  try {
    await bgp.lab.startResponders();
    await bgp.startRouting();
    agents.cluster.startAll();
    for (let rep = 0; rep < reps && !stopping(); rep++) {
      if (!(await bgp.waitNextHops(all, 15_000))) {
        out.notes.push(`ecmp #${rep + 1}: the router never had three next hops; the row stopped`);
        return;
      }
      const e = await ecmpRound(bgp, agents, { flows: 600, spreadMs: 1500, boundMs: BGP_CHECK_MS + BGP_DAEMON_DELAY_MS });
      out.ecmp.push(e);
      log(`  bgp ecmp #${rep + 1}: withdraw ${fmt(e.withdrawMs ?? Infinity)} ms`);
      agents.healCheck(agents.nodes[2]!);
    }
  } finally {
    await agents.stopAll();
    await bgp.destroy();
    agents.cleanup();
  }
}

export async function runBgpRow(o: { reps: number; stopping: () => boolean; log: (l: string) => void }): Promise<BgpRowResult> {
  const out: BgpRowResult = { skipped: await birdSkipReason(), failover: [], ecmp: [], notes: [] };
  if (out.skipped) return out;
  await activeStandby(o.reps, o.stopping, out, o.log);
  if (!o.stopping()) await ecmp(o.reps, o.stopping, out, o.log);
  return out;
}

const triple = (xs: number[]): string => {
  const s = summarize(xs);
  return `${fmt(s.median)} / ${fmt(s.p90)} / ${fmt(s.max)}`;
};

/** The row as Markdown: failover times per scenario, then the ECMP figures. */
export function bgpRowText(r: BgpRowResult): string {
  if (r.skipped) return `## bgp row\n\nskipped: ${r.skipped}\n`;
  const rows = BGP_SCENARIOS.map((s) => {
    const fs = r.failover.filter((f) => f.scenario === s);
    return [s, String(fs.length), triple(fs.map((f) => f.toOtherMs ?? Infinity)), triple(fs.map((f) => f.allServedMs)), triple(fs.map((f) => f.routerMs ?? Infinity))];
  });
  const names = [...new Set(r.ecmp.flatMap((e) => Object.keys(e.spread.share)))].sort();
  const share = names.map((n) => {
    const xs = r.ecmp.map((e) => (e.spread.share[n] ?? 0) * 100);
    return `${n} ${fmt(Math.min(...xs))}-${fmt(Math.max(...xs))}%`;
  });
  return [
    '## bgp row (haagent bgp mode, BIRD router and directors, BFD 50 ms x 3)',
    '',
    'active/standby, ms, median / p90 / max:',
    '',
    table(['fault', 'n', 'first flow elsewhere', 'every flow served', 'router switched'], rows),
    '',
    `ECMP, 3 directors, 600 flows, ${r.ecmp.length} round(s): flow share per director (min-max over rounds): ${share.join(', ') || '-'}`,
    `failed check (period ${BGP_CHECK_MS} ms) -> router withdrew the director, ms: ${triple(r.ecmp.map((e) => e.withdrawMs ?? Infinity))}; ` +
      `probes it answered after the bound (${BGP_CHECK_MS + BGP_DAEMON_DELAY_MS} ms): ${r.ecmp.reduce((n, e) => n + e.lateAnswers, 0)}`,
    ...r.notes.map((n) => `- ${n}`),
    '',
  ].join('\n');
}

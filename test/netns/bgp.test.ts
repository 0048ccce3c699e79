/**
 * haagent's bgp mode against real routing daemons (docs/bgp.md): BIRD on a router with ECMP
 * and BFD, BIRD on each director exporting the VIP haagent puts on haagent0, a client behind
 * the router. Active/standby: a planned stop, a crash and a link down on the active each
 * move the client's traffic to the standby (times printed). ECMP: three directors share the
 * flows (each within 10 points of a third), and one whose health check fails withdraws within
 * the documented bound, after which none of the client's traffic reaches it. Status reads the
 * announcement back from BIRD. The lab does not create haagent0: each agent creates it
 * (a dummy link, or ifb where the kernel has no dummy driver) before its first VIP.
 */
import t from 'tap';
import { haagentAvailable } from './agents/haagent.js';
import { epochNow } from './exec.js';
import { formatShare } from './bgp-analyze.js';
import { BgpAgents } from './bgp-agents.js';
import { BgpLab, birdSkipReason } from './bgp-lab.js';
import { BGP_SCENARIOS, type BgpScenario, ecmpRound, failoverRound, formatFailover, restorePreferred, waitPreferred } from './bgp-rounds.js';

const skip = (await birdSkipReason()) ?? ((await haagentAvailable()) ? null : 'dist/src/main.js run is not available: run `npm run build`');
if (skip) t.plan(0, skip);

/** The check's period (one failure is enough: fall 1) plus what BIRD and the router may take. */
const CHECK_MS = 200;
const DAEMON_DELAY_MS = 1000;
/**
 * Loose bounds on "every flow served again": a crash waits for `haagent release` to remove the
 * dead agent's VIP, and that process's start-up took up to 2.7 s on a loaded 2-core machine.
 */
const BOUND_MS: Record<BgpScenario, number> = { planned: 3000, crash: 8000, 'link-down': 3000 };

/** "12.3 s" since t0: where a drill spends its time (it must stay well under a minute). */
function clock(): () => string {
  const t0 = epochNow();
  return () => `${((epochNow() - t0) / 1000).toFixed(1)} s`;
}

t.test('active/standby: planned stop, crash and link down move the client to the standby', async (t) => {
  const since = clock();
  const bgp = await BgpLab.create({ directors: 2, device: false });
  const agents = new BgpAgents(bgp, { style: 'active-standby' });
  try {
    const [d0, d1] = agents.nodes;
    await bgp.lab.startResponders();
    await bgp.startRouting();
    t.ok(await bgp.waitEstablished(bgp.directors), 'router: both sessions established', { log: bgp.birdLog(bgp.router) });
    t.comment(`lab and sessions up after ${since()}`);
    agents.cluster.startAll();
    t.ok(await waitPreferred(bgp, agents), 'd0 active; the router routes the VIP to d0 only', { hops: await bgp.nextHops(), log: d0!.logTail() });
    t.notOk(await agents.holds(d1!), 'the standby does not hold the VIP');
    t.ok(await agents.waitAnnounced(d0!, 'yes'), 'haagent status on d0: announced yes (read back from BIRD)', { status: await agents.cliStatus(d0!) });
    t.equal(await agents.announced(d1!), 'no', 'haagent status on d1: announced no');
    for (const s of BGP_SCENARIOS) {
      const f = await failoverRound(bgp, agents, s);
      t.comment(`${formatFailover(f)} [${since()}]`);
      const bound = BOUND_MS[s];
      t.ok(f.toOtherMs !== null && f.allServedMs < bound, `${s}: all the client's flows reach d1 within ${bound / 1000} s`, { ...f, d1: d1!.logTail(10) });
      t.ok(f.routerMs !== null, `${s}: the router's only next hop is d1`, { hops: await bgp.nextHops() });
      // The link-down round comes last: its director is not brought back.
      if (s !== 'link-down') t.ok(await restorePreferred(bgp, agents), `after ${s}: d0 back, active, sole next hop`, { hops: await bgp.nextHops(), log: d0!.logTail() });
      t.comment(`restored after ${since()}`);
    }
  } finally {
    await agents.stopAll();
    await bgp.destroy();
    agents.cleanup();
  }
});

t.test('ECMP: three directors share the flows; a failed health check withdraws one', async (t) => {
  const since = clock();
  const bgp = await BgpLab.create({ directors: 3, device: false });
  const agents = new BgpAgents(bgp, { style: 'ecmp', checkInterval: `${CHECK_MS}ms` });
  try {
    const [d0, , d2] = agents.nodes;
    await bgp.lab.startResponders();
    await bgp.startRouting();
    t.ok(await bgp.waitEstablished(bgp.directors), 'router: three sessions established', { log: bgp.birdLog(bgp.router) });
    t.comment(`lab and sessions up after ${since()}`);
    agents.cluster.startAll();
    t.ok(await bgp.waitStableNextHops(bgp.directors.map((d) => d.ip), 1000), 'the router has had three next hops for a second', { hops: await bgp.nextHops(), log: d0!.logTail() });
    t.ok(await agents.waitAnnounced(d2!, 'yes'), 'haagent status on d2: announced yes', { status: await agents.cliStatus(d2!) });
    const boundMs = CHECK_MS + DAEMON_DELAY_MS;
    t.comment(`agents up after ${since()}`);
    const e = await ecmpRound(bgp, agents, { flows: 600, spreadMs: 1500, boundMs });
    t.comment(`spread over ${e.spread.flows} flows: ${formatShare(e.spread)} (${e.spread.split} flows split)`);
    t.ok(e.spread.flows >= 500, 'most flows answered in the spread window', e.spread);
    // On failure, what moved the flows: each agent's and the router's last lines.
    const why = async (): Promise<Record<string, string>> => ({ ...Object.fromEntries(agents.nodes.map((n) => [n.name, n.logTail(8)])), router: bgp.birdLog(bgp.router, 10) });
    for (const d of bgp.directors) {
      const ok = Math.abs((e.spread.share[d.name] ?? 0) - 1 / 3) <= 0.1;
      t.ok(ok, `${d.name} carries a third of the flows, within 10 points`, ok ? {} : { spread: e.spread, ...(await why()) });
    }
    t.comment(`check failed on d2: router withdrew it after ${e.withdrawMs?.toFixed(0)} ms; its last answer was to a probe sent ${e.lastAnswerMs?.toFixed(0)} ms after; bound ${boundMs} ms`);
    t.ok(e.withdrawMs !== null && e.withdrawMs <= boundMs, `d2 withdrawn within one check period + the daemons' delay (${boundMs} ms)`, e);
    t.equal(e.lateAnswers, 0, 'no client traffic reaches d2 after the bound', e);
    t.notOk(await agents.holds(d2!), 'd2 no longer holds the VIP');
    t.ok(await agents.waitAnnounced(d2!, 'no'), 'haagent status on d2: announced no', { status: await agents.cliStatus(d2!) });
  } finally {
    await agents.stopAll();
    await bgp.destroy();
    agents.cleanup();
  }
});

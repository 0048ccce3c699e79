/**
 * Getting a cell back to its starting point (d0 active, d1 standby, the client's ARP entry
 * naming d0) between rounds. When d0's agent had to be restarted, the way back is itself a
 * measurement: the failback row (the preferred director, restarted, takes its VIP back).
 */
import { arpChangeAfter, dualAnswerWindows, outage } from '../netns/analyze.js';
import { epochNow, run, sleep, waitFor } from '../netns/exec.js';
import { isolateDirectors, linkUp } from '../netns/faults.js';
import { distScript, VIP } from '../netns/lab.js';
import { garpsOf, timings, waitConsistent, type RoundContext, type RoundRecord, type Scenario } from './rounds.js';
import { overlapMs } from './timeline.js';

/** Forgets the client's neighbour entry for the VIP and sends it a few probes to learn it anew. */
export async function primeClient(ctx: RoundContext): Promise<void> {
  const { lab } = ctx;
  await run(['ip', '-n', lab.client.ns, 'neigh', 'del', VIP, 'dev', 'eth0']);
  await lab.exec(lab.client, [process.execPath, distScript('probe'), 'ping', '--to', VIP, '--count', '3', '--timeout', '200']);
}

/**
 * Starts the cell's agents and waits (bounded) for d0 to be the only holder, the client
 * pointing at it. Heartbeat's first start of a pair takes about 10 s, hence the long bound.
 */
export async function bringUp(ctx: RoundContext, timeoutMs = 40000): Promise<void> {
  const [a] = ctx.cluster.nodes;
  await ctx.cluster.startAll();
  const held = await waitFor(() => ctx.watch.holders().join() === a.name, timeoutMs, 20);
  if (!held) throw new Error(`${ctx.cell}: ${a.name} did not become the only VIP holder in ${timeoutMs} ms:\n${a.logTail()}`);
  await primeClient(ctx);
  if ((await waitConsistent(ctx, 5000, a.name)) === null) throw new Error(`${ctx.cell}: the client does not reach ${a.name}`);
  // Let the standby settle in (hear a few adverts) before the first fault.
  await sleep(Math.max(300, Math.min(3000, 2 * ctx.cluster.detectMs)));
}

/** Stops everything, removes both VIPs and starts over: the last resort between rounds. */
export async function hardReset(ctx: RoundContext): Promise<void> {
  await Promise.all(ctx.cluster.nodes.map((n) => n.kill()));
  for (const n of ctx.cluster.nodes) await n.cleanup();
  for (const d of ctx.lab.directors) {
    await linkUp(d);
    await ctx.lab.ensureResponder(d);
  }
  await isolateDirectors(ctx.lab, false);
  await bringUp(ctx);
}

/** d0 restarted while d1 serves: the probe measures the handover back to d0. */
async function failback(ctx: RoundContext, rep: number): Promise<RoundRecord> {
  const [a, b] = ctx.cluster.nodes;
  const t = timings(ctx.cluster.detectMs);
  const probe = await ctx.lab.startProbe({ intervalMs: ctx.probeMs });
  await sleep(200);
  const startAt = epochNow();
  await a.start();
  const holder = await waitConsistent(ctx, t.stable + 10000, a.name);
  await sleep(t.settle);
  const endAt = epochNow();
  const result = await probe.stop();
  const change = arpChangeAfter(result.arp, startAt, a.host.mac);
  const o = outage(result.sentAt, result.replies, startAt, result.intervalMs);
  return {
    cell: ctx.cell, row: 'failback', rep,
    outageMs: o.outageMs, lost: o.lost,
    arpMs: change ? change.at - startAt : null,
    dualAnswerWindows: dualAnswerWindows(result.replies, a.name),
    dualVipMs: overlapMs(ctx.watch.events, startAt, endAt),
    resolveMs: null, vipLeft: null, vipAfterCleanup: null,
    ...garpsOf(ctx, a.host, startAt),
    holder,
    ok: holder === a.name,
    note: holder === a.name ? '' : `${a.name} did not take the VIP back from ${b.name}`,
  };
}

/**
 * Undoes what a round left: link up, d0's service running again (crash-svc killed it), and
 * when d0's agent is gone, its leftover VIP removed and the agent restarted (measured as a
 * failback record, with the service already back). Falls back to hardReset when the cell does
 * not come back to d0 by itself; the note says so.
 */
export async function restore(ctx: RoundContext, s: Scenario, rep: number): Promise<{ failback: RoundRecord | null; note: string }> {
  const [a] = ctx.cluster.nodes;
  const t = timings(ctx.cluster.detectMs);
  if (s === 'link-down' || s === 'node-loss') await linkUp(a.host);
  await ctx.lab.ensureResponder(a.host);
  let fb: RoundRecord | null = null;
  if (!a.alive()) {
    if (await a.vipPresent()) await a.cleanup();
    fb = await failback(ctx, rep);
  }
  if ((await waitConsistent(ctx, fb ? 1000 : t.takeover, a.name)) !== null) {
    await sleep(Math.min(1000, Math.max(100, ctx.cluster.detectMs)));
    return { failback: fb, note: '' };
  }
  // The agents agree but the client still points at the director that gave the VIP up
  // (nobody announced the way back): that was measured; now let the client learn it anew.
  if (ctx.watch.holders().join() === a.name) {
    await primeClient(ctx);
    if ((await waitConsistent(ctx, 2000, a.name)) !== null) return { failback: fb, note: `client re-primed after ${s}` };
  }
  const why = `after ${s}: ${ctx.watch.holders().join('+') || 'nobody'} held the VIP, not ${a.name} alone (or the client pointed elsewhere)`;
  if (await restartPreferred(ctx)) return { failback: fb, note: `${a.name} restarted ${why}` };
  await hardReset(ctx);
  return { failback: fb, note: `both restarted ${why}` };
}

/** The cheaper way back when the agents do not settle by themselves: restart d0 only. */
async function restartPreferred(ctx: RoundContext): Promise<boolean> {
  const [a] = ctx.cluster.nodes;
  await a.kill();
  await a.cleanup();
  await primeClient(ctx);
  await a.start();
  return (await waitConsistent(ctx, timings(ctx.cluster.detectMs).takeover + 5000, a.name)) !== null;
}

/**
 * The routing half of the BGP lab, with VIPs added by hand (no haagent): BIRD on three
 * directors exports the /32 on haagent0, the router (BIRD, multipath, BFD) installs one next
 * hop per announcing director, the client's flows spread over them, and a removed address,
 * a killed daemon or a downed link takes the director out of the route.
 */
import t from 'tap';
import { answeredByAfter, flowSpread, formatShare, lastAnsweredBy } from './bgp-analyze.js';
import { BgpLab, birdSkipReason } from './bgp-lab.js';
import { epochNow, sleep } from './exec.js';

const skip = await birdSkipReason();
if (skip) t.plan(0, skip);

t.test('router learns 1, 2, 3 next hops; flows spread; withdrawals are seen by the client', async (t) => {
  const bgp = await BgpLab.create({ directors: 3 });
  try {
    const [d0, d1, d2] = bgp.directors;
    await bgp.lab.startResponders();
    await bgp.startRouting();
    t.ok(await bgp.waitEstablished(bgp.directors), 'three sessions established', { log: bgp.birdLog(bgp.router) });
    for (const [i, d] of [d0!, d1!, d2!].entries()) {
      const t0 = epochNow();
      await bgp.addVip(d);
      const ok = await bgp.waitNextHops(bgp.directors.slice(0, i + 1).map((x) => x.ip));
      t.ok(ok, `router has ${i + 1} next hop(s) after ${d.name} added the VIP (${(epochNow() - t0).toFixed(0)} ms)`, { hops: await bgp.nextHops() });
    }
    const flows = await bgp.startFlows({ flows: 600 });
    await sleep(1100);
    const cut = epochNow();
    await bgp.delVip(d2!);
    await bgp.waitNextHops([d0!.ip, d1!.ip], 5000, 5);
    t.comment(`address removed: router down to 2 next hops after ${(epochNow() - cut).toFixed(0)} ms`);
    await sleep(300);
    const kill = epochNow();
    await bgp.killBird(d1!);
    await bgp.waitNextHops([d0!.ip], 5000, 5);
    t.comment(`bird killed: router down to 1 next hop after ${(epochNow() - kill).toFixed(0)} ms`);
    await sleep(1100);
    const r = await flows.stop();
    const s = flowSpread(r, cut - 1000, cut);
    t.comment(`spread over ${s.flows} flows: ${formatShare(s)} (split ${s.split})`);
    for (const d of bgp.directors) t.ok(Math.abs((s.share[d.name] ?? 0) - 1 / 3) <= 0.1, `${d.name} within 10 points of a third`);
    t.comment(`d2 last answered ${((lastAnsweredBy(r, 'd2') ?? 0) - cut).toFixed(0)} ms after removal; d1 ${((lastAnsweredBy(r, 'd1') ?? 0) - kill).toFixed(0)} ms after kill`);
    t.equal(answeredByAfter(r, 'd2', cut + 1000), 0, 'nothing reaches d2 a second after its address went');
  } finally {
    await bgp.destroy();
  }
});

/**
 * The FRR snippets of docs/bgp.md, run: FRR as the upstream router (bgpd with maximum-paths,
 * bfdd) in front of one FRR director (redistribute connected through the VIP prefix list) and
 * one BIRD director. Both announce the VIP added by hand; the router installs two next hops;
 * a removed address and a downed link take each director out (times printed). Then the same
 * with haagent (ecmp) placing the VIP, its status read back from FRR through vtysh on d0.
 */
import t from 'tap';
import { LAB_BFD } from './bgp-conf.js';
import { frrBfdd, frrDirectorBgpd, frrRouterBgpd, startFrr, VTYSH, vtysh } from './bgp-frr.js';
import { haagentAvailable } from './agents/haagent.js';
import { BgpAgents } from './bgp-agents.js';
import { BGP_VIP_CIDR, BgpLab, birdSkipReason } from './bgp-lab.js';
import { epochNow, run, waitFor } from './exec.js';

const skip = (await birdSkipReason()) ?? ((await run(['test', '-x', VTYSH])).code !== 0 ? 'FRR is not installed (scripts/setup.sh installs Debian\'s frr)' : null);
if (skip) t.plan(0, skip);

t.test('FRR router and FRR director: sessions, BFD, ECMP, withdrawal', async (t) => {
  const bgp = await BgpLab.create({ directors: 2 });
  try {
    const [d0, d1] = bgp.directors as [typeof bgp.router, typeof bgp.router];
    const router = await startFrr(bgp, bgp.router, { bgpd: frrRouterBgpd({ routerId: bgp.router.ip, neighbors: bgp.directors.map((d) => d.ip), bfd: true }), bfdd: frrBfdd(LAB_BFD) });
    const frrD0 = await startFrr(bgp, d0, { bgpd: frrDirectorBgpd({ routerId: d0.ip, neighbor: bgp.router.ip, bfd: true }), bfdd: frrBfdd(LAB_BFD) });
    await bgp.startDirectorBird(d1);
    const established = await waitFor(async () => {
      const r = await vtysh(bgp, router, ['show bgp ipv4 unicast summary json']);
      try {
        const peers = (JSON.parse(r.stdout) as { peers?: Record<string, { state?: string }> }).peers ?? {};
        return bgp.directors.every((d) => peers[d.ip]?.state === 'Established');
      } catch {
        return false;
      }
    }, 20_000, 200);
    t.ok(established, 'FRR router: both sessions Established', { summary: (await vtysh(bgp, router, ['show bgp summary'])).stdout });
    await bgp.addVip(d0);
    await bgp.addVip(d1);
    t.ok(await bgp.waitNextHops([d0.ip, d1.ip], 10_000), 'router installs two next hops for the VIP', { hops: await bgp.nextHops(), rib: (await vtysh(bgp, router, ['show bgp ipv4 unicast'])).stdout });
    const adv = await vtysh(bgp, frrD0, [`show bgp ipv4 unicast neighbors ${bgp.router.ip} advertised-routes json`]);
    t.match(adv.stdout, BGP_VIP_CIDR, 'FRR director advertises the VIP (read back from vtysh)');
    t.notMatch(adv.stdout, '198.51.100.0/24', 'and not its connected subnet');
    const bfd = await waitFor(async () => {
      const r = await vtysh(bgp, router, ['show bfd peers json']);
      return (r.stdout.match(/"status":"up"/g) ?? []).length >= 2;
    }, 10_000, 200);
    t.ok(bfd, 'BFD up toward both directors (FRR and BIRD)', { bfd: (await vtysh(bgp, router, ['show bfd peers brief'])).stdout });
    const cut = epochNow();
    await bgp.delVip(d0);
    t.ok(await bgp.waitNextHops([d1.ip], 10_000, 5), 'FRR director withdraws when the address goes');
    t.comment(`FRR director: address removed -> router at one next hop after ${(epochNow() - cut).toFixed(0)} ms`);
    await bgp.addVip(d0);
    t.ok(await bgp.waitNextHops([d0.ip, d1.ip], 10_000), 'and announces again when it comes back');
    const down = epochNow();
    await bgp.linkDown(d1);
    t.ok(await bgp.waitNextHops([d0.ip], 10_000, 5), 'BIRD director link down: the FRR router drops it');
    t.comment(`link down -> FRR router at one next hop after ${(epochNow() - down).toFixed(0)} ms (BFD ${LAB_BFD.intervalMs} ms x ${LAB_BFD.multiplier})`);
  } finally {
    await bgp.destroy();
  }
});

const noAgent = (await haagentAvailable()) ? false : 'dist/src/main.js run is not available: run `npm run build`';

t.test('haagent on an FRR director: ECMP with a BIRD director, status read back from FRR', { skip: noAgent }, async (t) => {
  const bgp = await BgpLab.create({ directors: 2, device: false });
  const frrDir = bgp.dirOf(bgp.directors[0]!, 'frr');
  const agents = new BgpAgents(bgp, {
    style: 'ecmp', checkInterval: '200ms',
    daemon: (n) => (n.name === 'd0' ? { kind: 'frr', vtysh: VTYSH, socketDir: frrDir } : { kind: 'bird', socket: bgp.socketOf(n.host), protocol: 'upstream' }),
  });
  try {
    const [a0, a1] = agents.nodes as [(typeof agents.nodes)[0], (typeof agents.nodes)[0]];
    const [d0, d1] = bgp.directors as [typeof bgp.router, typeof bgp.router];
    await bgp.lab.startResponders();
    await startFrr(bgp, bgp.router, { bgpd: frrRouterBgpd({ routerId: bgp.router.ip, neighbors: bgp.directors.map((d) => d.ip), bfd: true }), bfdd: frrBfdd(LAB_BFD) });
    await startFrr(bgp, d0, { bgpd: frrDirectorBgpd({ routerId: d0.ip, neighbor: bgp.router.ip, bfd: true }), bfdd: frrBfdd(LAB_BFD) });
    await bgp.startDirectorBird(d1);
    agents.cluster.startAll();
    t.ok(await bgp.waitNextHops([d0.ip, d1.ip], 20_000), 'the FRR router has both directors as next hops', { hops: await bgp.nextHops(), log: a0.logTail() });
    t.ok(await agents.waitAnnounced(a0, 'yes'), 'status on the FRR director: announced yes (vtysh readback)', { status: await agents.cliStatus(a0) });
    t.ok(await agents.waitAnnounced(a1, 'yes'), 'status on the BIRD director: announced yes');
    const failAt = epochNow();
    agents.failCheck(a0);
    t.ok(await bgp.waitNextHops([d1.ip], 10_000, 5), 'the FRR director withdraws when its check fails');
    t.comment(`check failed on the FRR director: the router dropped it after ${(epochNow() - failAt).toFixed(0)} ms`);
    t.ok(await agents.waitAnnounced(a0, 'no'), 'status on the FRR director: announced no', { status: await agents.cliStatus(a0) });
  } finally {
    await agents.stopAll();
    await bgp.destroy();
    agents.cleanup();
  }
});

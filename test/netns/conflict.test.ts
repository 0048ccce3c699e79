/**
 * VIP conflict detection: a rogue host on the segment claims the VIP (adds it and sends a
 * gratuitous ARP, pulling the client to itself). The active director's duplicate-address
 * probes see the other MAC, log it loudly, count it in status, and re-announce, so the
 * client's ARP entry comes back to the director.
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import { HaagentCluster, haagentAvailable } from './agents/haagent.js';
import { epochNow, run, sleep, waitFor } from './exec.js';
import { Lab, VIP, VIP_CIDR } from './lab.js';

if (process.getuid?.() !== 0) t.plan(0, 'network namespaces need root');
else if (!(await haagentAvailable())) t.plan(0, 'dist/src/main.js run is not available: run `npm run build`');

t.test('a rogue claim of the VIP is detected, counted and answered', async (t) => {
  const lab = await Lab.create({ directors: 2, realServers: 1 });
  const cluster = new HaagentCluster(lab);
  try {
    const [d0] = cluster.nodes;
    const rogue = lab.realServers[0]!;
    await lab.startResponders();
    cluster.startAll();
    t.ok(await waitFor(async () => (await cluster.activeNodes()).join() === 'd0', 10000, 100), 'd0 active');
    const probe = await lab.startProbe({ durationMs: 20000 });
    await sleep(7000); // past the fast probes after takeover: steady state
    t.equal((await d0!.status())?.groups[0]?.conflicts, 0, 'no conflict in steady state');

    const at = epochNow();
    await run(['ip', '-n', rogue.ns, 'addr', 'add', VIP_CIDR, 'dev', 'eth0']);
    // The client's kernel ignores an ARP update that comes within neigh locktime (1 s) of the
    // last one (d0's answer to the client's own reachability probe can be that one), so the
    // rogue repeats its claim, as a real rogue would, until the client follows: at most 8 x 300 ms.
    let garp = await run(['ip', 'netns', 'exec', rogue.ns, 'arping', '-U', '-c', '1', '-I', 'eth0', VIP]);
    let pulled = false;
    for (let i = 0; i < 8 && !pulled; i++) {
      pulled = (await waitFor(async () => (await lab.neighMac(lab.client, VIP)) === rogue.mac, 300, 5)) === true;
      if (!pulled) garp = await run(['ip', 'netns', 'exec', rogue.ns, 'arping', '-U', '-c', '1', '-I', 'eth0', VIP]);
    }
    t.ok(pulled, 'the rogue pulled the client', { garp, neigh: (await run(['ip', '-n', lab.client.ns, 'neigh', 'show'])).stdout, d0: d0!.logTail(15) });
    const seen = await waitFor(async () => ((await d0!.status())?.groups[0]?.conflicts ?? 0) > 0, 8000, 100);
    t.ok(seen, 'd0 counted the conflict');
    t.comment(`conflict seen ${(epochNow() - at).toFixed(0)} ms after the rogue claim (steady probe every 5 s)`);
    const st = await d0!.status();
    t.same(st?.groups[0]?.lastConflict?.macs, [rogue.mac], 'status names the rogue MAC');
    t.match(readFileSync(d0!.logPath, 'utf8'), /VIP CONFLICT: 198\.51\.100\.100 is also answered by/, 'logged loudly');
    t.ok(await waitFor(async () => (await lab.neighMac(lab.client, VIP)) === d0!.host.mac, 3000, 5), 're-announced: the client is back on d0');
    t.equal(st?.groups[0]?.state, 'active', 'd0 stays active');
    await run(['ip', '-n', rogue.ns, 'addr', 'del', VIP_CIDR, 'dev', 'eth0']);
    await probe.stop();
  } finally {
    await cluster.stopAll();
    await lab.destroy();
    cluster.cleanup();
  }
});

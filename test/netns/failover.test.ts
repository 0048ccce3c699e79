/**
 * Failover drills with the real `haagent run` in network namespaces. Timings are printed,
 * not asserted tightly: the bound below only says "it moved", on a 2-core machine.
 * Needs root and `npm run build`.
 */
import t from 'tap';
import { HaagentCluster, haagentAvailable } from './agents/haagent.js';
import { Lab } from './lab.js';
import { checkMoved, failoverRound, twoDirectorDrill, upWithD0Active } from './round.js';

if (process.getuid?.() !== 0) t.plan(0, 'network namespaces need root');
else if (!(await haagentAvailable())) t.plan(0, 'dist/src/main.js run is not available: run `npm run build`');

t.test('2 directors: crash (SIGKILL), release, preempt back, planned stop (SIGTERM), node loss', async (t) => {
  const lab = await Lab.create({ directors: 2 });
  const cluster = new HaagentCluster(lab);
  try {
    await twoDirectorDrill(t, lab, cluster);
  } finally {
    await cluster.stopAll();
    t.same(await lab.destroy(), { leftNamespaces: [], leftPids: [] }, 'lab torn down');
    cluster.cleanup();
  }
});

t.test('3 directors: the next priority takes over, the third stays standby', async (t) => {
  const lab = await Lab.create({ directors: 3 });
  const cluster = new HaagentCluster(lab);
  try {
    const [d0, d1, d2] = cluster.nodes;
    await upWithD0Active(t, lab, cluster);
    const r = await failoverRound(lab, d0, d1, 'crash');
    checkMoved(t, r, 'd1');
    t.same(await cluster.activeNodes(), ['d1'], 'only d1 is active');
    t.equal(await d2.groupState(), 'standby', 'd2 stays standby');
    t.notOk(await d2.vipPresent(), 'd2 does not hold the VIP');
  } finally {
    await cluster.stopAll();
    t.same(await lab.destroy(), { leftNamespaces: [], leftPids: [] }, 'lab torn down');
    cluster.cleanup();
  }
});

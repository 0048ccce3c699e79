/**
 * The driver performs the core's conflict probes on the ConflictDetector port and feeds the
 * outcome back: answers become a counted conflict and a re-announcement in both forms; a
 * rejected or failing probe becomes an error result, never a crash or a conflict.
 */
import t from 'tap';
import type { GarpConfig, Vip } from '../../src/config/types.js';
import type { DetectOutcome } from '../../src/ports/index.js';
import { advanceBy, rig, settle } from './driver-rig.js';


t.test('a probe answered by another MAC: counted, logged as a conflict, re-announced in both forms', async (t) => {
  const probes: { vip: Vip; iface: string }[] = [];
  const announced: { reason?: string; garp: GarpConfig }[] = [];
  const answers: DetectOutcome[] = [{ macs: [] }, { macs: ['02:00:00:00:00:99'] }];
  const { loop, driver } = rig(undefined, {
    detector: { detect: async (vip, iface) => (probes.push({ vip, iface }), answers.shift() ?? { macs: [] }) },
    announcer: { announce: async (_v, _i, garp) => (announced.push({ garp }), { sent: 1, errors: [] }), close: () => undefined },
  });
  driver.start();
  await settle();
  await advanceBy(loop, 3000);
  const g = driver.view().groups[0]!;
  t.equal(g.state, 'active', 'alone: active');
  t.ok(probes.length >= 2, `the core asked for probes (${probes.length})`);
  t.equal(probes[0]?.vip.address, g.cfg.vip.address, 'for the group\'s VIP');
  t.equal(probes[0]?.iface, g.cfg.interface, 'on its interface');
  t.equal(g.conflicts, 1, 'the answered probe is one conflict');
  t.same(g.lastConflict?.macs, ['02:00:00:00:00:99']);
  t.ok(announced.some((a) => a.garp.form === 'both'), 'a re-announcement in both forms');
  driver.stop();
});

t.test('a probe that rejects or fails is no conflict, and probing goes on', async (t) => {
  let calls = 0;
  const { loop, driver } = rig(undefined, {
    detector: {
      detect: async () => {
        calls++;
        if (calls === 1) throw new Error('spawn arping ENOENT');
        return { macs: [], error: 'arping -D: exit 2: bad interface' };
      },
    },
  });
  driver.start();
  await settle();
  await advanceBy(loop, 3000);
  const g = driver.view().groups[0]!;
  t.equal(g.state, 'active', 'stays active');
  t.equal(g.conflicts, 0, 'no conflict');
  t.ok(calls >= 3, `probing went on after the failures (${calls} calls)`);
  driver.stop();
});

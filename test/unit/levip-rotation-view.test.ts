// What the rotation reads off the election (src/levip/view.ts) and where the core puts the
// shared IP of a LevIP group (lo, src/config/vip-device.ts). Members are nodes that ADVERTISE the group
// active with a priority above 0, ourselves judged by the very record our peers receive.
import t from 'tap';
import { Core } from '../../src/core/election.js';
import type { Action } from '../../src/core/types.js';
import { isLevipGroup, vipDevice } from '../../src/config/vip-device.js';
import { levipViews, weightOf } from '../../src/levip/view.js';
import { Sim, group } from '../scenarios/sim.js';

const levip = (weight: number) => group('lev', 100, { mode: 'levip', levip: { period: 2000, guard: 200, repeat: 500, weight } });

t.test('vipDevice: lo for a levip group, the interface otherwise', async (t) => {
  t.equal(vipDevice(levip(1)), 'lo');
  t.ok(isLevipGroup(levip(1)));
  t.equal(vipDevice(group('web', 100)), 'eth0');
  t.equal(vipDevice(group('web', 100, { mode: 'failover' })), 'eth0');
  t.notOk(isLevipGroup(group('web', 100, { mode: 'levip' })), 'levip mode without settings is not a levip group');
});

t.test('the core adds and removes a levip VIP on lo, a failover VIP on its interface', async (t) => {
  const core = new Core({ node: 'l0', interval: 50, deadTime: 150, initDead: 0, expectedPeers: 0, groups: [levip(1), group('web', 100, { vip: { address: '198.51.100.101', prefix: 32, family: 4 } })] });
  const ensure = (as: Action[]) => as.filter((a) => a.kind === 'ensureVip').map((a) => (a.kind === 'ensureVip' ? `${a.group} ${a.present ? '+' : '-'} ${a.iface}` : ''));
  t.same(ensure(core.step({ kind: 'start', now: 0 }).actions), ['lev - lo', 'web - eth0'], 'reconciling at start');
  const a1 = core.step({ kind: 'vipResult', now: 1, group: 'lev', present: false, ok: true }).actions;
  const a2 = core.step({ kind: 'vipResult', now: 1, group: 'web', present: false, ok: true }).actions;
  t.same(ensure([...a1, ...a2]), ['lev + lo', 'web + eth0']);
});

t.test('members: every active member with its weight; self only once its IP is there', async (t) => {
  const sim = new Sim();
  sim.add('l0', [levip(1)]);
  sim.add('l1', [levip(3)]);
  sim.add('l2', [levip(1)]);
  for (const n of ['l0', 'l1', 'l2']) sim.start(n);
  t.same(levipViews(sim.node('l1').core, sim.now)[0]!.self, null, 'not a member before it holds the IP');
  sim.run(1000);
  const v = levipViews(sim.node('l1').core, sim.now);
  t.equal(v.length, 1);
  t.equal(v[0]!.cfg.name, 'lev');
  t.same(v[0]!.self, { node: 'l1', weight: 3 });
  t.match(v[0]!.peers.sort((a, b) => a.node.localeCompare(b.node)), [{ node: 'l0', weight: 1, boot: String }, { node: 'l2', weight: 1, boot: String }]);
  t.same(v[0]!.others, []);
  const fromL0 = levipViews(sim.node('l0').core, sim.now)[0]!;
  t.match(fromL0.peers.find((p) => p.node === 'l1'), { node: 'l1', weight: 3 }, 'peers see the weight we see for ourselves');

  sim.kill('l2');
  sim.run(sim.o.deadTime + 10);
  t.same(levipViews(sim.node('l1').core, sim.now)[0]!.peers.map((p) => p.node), ['l0'], 'a dead member leaves');

  sim.command('l0', { op: 'maintenance', on: true });
  sim.run(100);
  t.same(levipViews(sim.node('l0').core, sim.now)[0]!.self, null, 'maintenance: not a member');
  t.same(levipViews(sim.node('l1').core, sim.now)[0]!.peers, [], 'and the others see it leave');
  t.same(levipViews(sim.node('l1').core, sim.now)[0]!.others, ['l0'], 'on purpose: heard, but not a member');
});

t.test('a failover group has no view', async (t) => {
  const sim = new Sim();
  sim.add('d0', [group('web', 100)]);
  sim.start('d0');
  sim.run(500);
  t.same(levipViews(sim.node('d0').core, sim.now), []);
});

t.test('weightOf clamps an advertised priority into the schedule range', async (t) => {
  t.equal(weightOf(255), 100, 'operator takeover');
  t.equal(weightOf(0.4), 1);
  t.equal(weightOf(7), 7);
});

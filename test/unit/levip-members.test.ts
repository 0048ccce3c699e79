// Who the core's LevIP mode counts as members (src/core/levip/members.ts) and where the core
// puts the shared IP of a LevIP group (lo, src/config/vip-device.ts). Members are nodes that
// ADVERTISE the group active with a priority above 0, ourselves judged by the very record our
// peers receive.
import t from 'tap';
import { Core } from '../../src/core/election.js';
import type { Action } from '../../src/core/types.js';
import { isLevipGroup, vipDevice } from '../../src/config/vip-device.js';
import type { CoreView } from '../../src/core/read-view.js';
import { weightOf } from '../../src/core/levip/members.js';
import { Sim, group } from '../scenarios/sim.js';

const levip = (weight: number) => group('lev', 100, { mode: 'levip', levip: { period: 2000, guard: 200, repeat: 500, weight } });
/** The members of the first LevIP group as `core` keeps them: node/weight, by node id. */
const members = (core: CoreView) => core.levip.groups()[0]?.members.map((m) => `${m.node}/${m.weight}`) ?? [];
const isMember = (core: CoreView) => core.levip.groups()[0]?.member ?? false;

t.test('vipDevice: lo for a levip group, the interface otherwise', async (t) => {
  t.equal(vipDevice(levip(1)), 'lo');
  t.ok(isLevipGroup(levip(1)));
  t.equal(vipDevice(group('web', 100)), 'eth0');
  t.equal(vipDevice(group('web', 100, { mode: 'failover' })), 'eth0');
  t.notOk(isLevipGroup(group('web', 100, { mode: 'levip' })), 'levip mode without settings is not a levip group');
});

t.test('the core adds and removes a levip VIP on lo, a failover VIP on its interface', async (t) => {
  const core = new Core({ node: 'l0', interval: 50, deadTime: 150, initDead: 0, expectedPeers: 0, groups: [levip(1), group('web', 100, { vip: { address: '198.51.100.101', prefix: 32, family: 4 } })] });
  const ensure = (as: Action[]) => as.filter((a) => a.kind === 'ensureVip').map((a) => (a.kind === 'ensureVip' ? `${a.group} ${a.present ? '+' : '-'} ${a.vips.map((p) => p.iface).join()}` : ''));
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
  t.notOk(isMember(sim.node('l1').core), 'not a member before it holds the IP');
  t.notOk(members(sim.node('l1').core).includes('l1/3'));
  sim.run(1000);
  const l1 = sim.node('l1').core;
  t.equal(l1.levip.groups().length, 1);
  t.equal(l1.levip.groups()[0]!.cfg.name, 'lev');
  t.ok(isMember(l1));
  t.same(members(l1), ['l0/1', 'l1/3', 'l2/1']);
  t.ok(members(sim.node('l0').core).includes('l1/3'), 'peers see the weight we see for ourselves');

  sim.kill('l2');
  sim.run(sim.o.deadTime + 10);
  t.same(members(sim.node('l1').core), ['l0/1', 'l1/3'], 'a dead member leaves');

  sim.command('l0', { op: 'maintenance', on: true });
  sim.run(100);
  t.notOk(isMember(sim.node('l0').core), 'maintenance: not a member');
  t.same(members(sim.node('l1').core), ['l1/3'], 'and the others see it leave');
});

t.test('a failover group has no rotation, and asks nothing of LevIP', async (t) => {
  const sim = new Sim();
  sim.add('d0', [group('web', 100)]);
  sim.start('d0');
  sim.run(500);
  t.same(sim.node('d0').core.levip.groups(), []);
  t.equal(sim.node('d0').core.levip.wakeAt, Infinity, 'no LevIP wake-ups');
});

t.test('weightOf clamps an advertised priority into the schedule range', async (t) => {
  t.equal(weightOf(255), 100, 'operator takeover');
  t.equal(weightOf(0.4), 1);
  t.equal(weightOf(7), 7);
});

/**
 * Live reload in the simulator: unchanged groups keep their VIP with no flap, a priority
 * change moves only its own group, removed groups release, new groups join.
 */
import t from 'tap';
import { Sim, group } from './sim.js';

const VIP2 = { address: '198.51.100.101', prefix: 32, family: 4 as const };

function twoGroups(): Sim {
  const sim = new Sim();
  sim.add('d0', [group('web', 150), group('db', 150, { vip: VIP2 })]);
  sim.add('d1', [group('web', 100), group('db', 100, { vip: VIP2 })]);
  sim.start('d0');
  sim.start('d1');
  sim.run(1000);
  return sim;
}

t.test('a priority change on one group moves only that group', async (t) => {
  const sim = twoGroups();
  t.same(sim.actives('web'), ['d0']);
  t.same(sim.actives('db'), ['d0']);
  const before = sim.vipLog.length;
  sim.reconfigure('d0', [group('web', 150), group('db', 50, { vip: VIP2 })]);
  sim.run(500);
  t.same(sim.actives('db'), ['d1'], 'db moved to the now higher d1');
  t.same(sim.actives('web'), ['d0']);
  t.same(sim.vipLog.slice(before).filter((l) => l.includes(' web ')), [], 'web never touched');
});

t.test('an identical reload changes nothing', async (t) => {
  const sim = twoGroups();
  const before = sim.transcript.length;
  const vips = sim.vipLog.length;
  sim.reconfigure('d0', [group('web', 150), group('db', 150, { vip: VIP2 })]);
  sim.run(500);
  t.same(sim.transcript.slice(before), []);
  t.equal(sim.vipLog.length, vips);
});

t.test('a removed group releases its VIP; the peer takes it', async (t) => {
  const sim = twoGroups();
  sim.reconfigure('d0', [group('web', 150)]);
  sim.run(500);
  t.equal(sim.node('d0').vip.get('db'), false);
  t.same(sim.actives('db'), ['d1']);
  t.same(sim.node('d0').core.retired, [], 'retired group forgotten once released');
});

t.test('a new group joins after listening, and a changed VIP replaces the group', async (t) => {
  const sim = twoGroups();
  sim.reconfigure('d0', [group('web', 150), group('db', 150, { vip: VIP2 }), group('api', 150, { vip: { address: '198.51.100.102', prefix: 32, family: 4 } })]);
  sim.run(500);
  t.same(sim.actives('api'), ['d0']);
  const moved = { address: '198.51.100.103', prefix: 32, family: 4 as const };
  sim.reconfigure('d0', [group('web', 150, { vip: moved }), group('db', 150, { vip: VIP2 }), group('api', 150, { vip: { address: '198.51.100.102', prefix: 32, family: 4 } })]);
  sim.run(1000);
  t.same(sim.actives('web'), ['d0'], 'replaced group wins again (d1 still has the old VIP config; both are "web")');
  t.ok(sim.vipLog.includes('d0 web -'), 'old VIP released on the way');
});

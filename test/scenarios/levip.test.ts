/**
 * LevIP groups in the election: every eligible member is active; the rotation (the core's LevIP
 * mode, src/core/levip/mode.ts, through each driver) announces.
 */
import t from 'tap';
import { Sim, group } from './sim.js';

const levip = (weight: number) => group('lev', 100, { mode: 'levip', levip: { period: 2000, guard: 200, repeat: 500, weight } });

t.test('every member becomes active, none announces on its own, a stopped one leaves', async (t) => {
  const sim = new Sim();
  sim.add('l0', [levip(1)]);
  sim.add('l1', [levip(2)]);
  sim.add('l2', [levip(1)]);
  for (const n of ['l0', 'l1', 'l2']) sim.start(n);
  sim.run(1000);
  t.same(sim.actives('lev').sort(), ['l0', 'l1', 'l2']);
  t.same(sim.holders('lev').sort(), ['l0', 'l1', 'l2']);
  t.notOk(sim.arpLog.some((l) => l.endsWith(' burst')), 'no takeover burst: the schedule owns announcements');
  t.equal(sim.node('l1').core.advertised(sim.node('l1').core.groups[0]!).priority, 2, 'weight advertised');
  sim.stop('l2');
  sim.run(500);
  t.ok(sim.node('l2').exited);
  t.same(sim.actives('lev').sort(), ['l0', 'l1']);
  t.same(sim.holders('lev').sort(), ['l0', 'l1']);
});

t.test("the router follows the rotation: each member's share of slots is its weight", async (t) => {
  const sim = new Sim();
  sim.add('l0', [levip(1)]);
  sim.add('l1', [levip(2)]);
  sim.start('l0');
  sim.start('l1');
  sim.run(3000); // members from slot 2 (two slots after they were first seen)
  const owners: string[] = [];
  for (let slot = 2; slot < 14; slot++) {
    sim.run(2000); // the middle of each 2 s slot, past its owner's first reply
    owners.push(sim.router.get('lev') ?? '-');
  }
  t.equal(owners.filter((o) => o === 'l0').length, 4, owners.join(' '));
  t.equal(owners.filter((o) => o === 'l1').length, 8, owners.join(' '));
  t.notOk(sim.arpLog.some((l) => l.endsWith(' burst')));
});

/** Two members of weight 1, started and settled. */
function twoMembers(): Sim {
  const sim = new Sim();
  sim.add('l0', [levip(1)]);
  sim.add('l1', [levip(1)]);
  sim.start('l0');
  sim.start('l1');
  sim.run(1000);
  return sim;
}

t.test('maintenance takes a member out', async (t) => {
  const sim = twoMembers();
  sim.command('l0', { op: 'maintenance', on: true });
  sim.run(200);
  t.same(sim.actives('lev'), ['l1']);
  t.same(sim.holders('lev'), ['l1']);
});

t.test('takeover and standby do not apply to LevIP members', async (t) => {
  const sim = new Sim();
  sim.add('l0', [levip(1)]);
  sim.start('l0');
  sim.run(1000);
  t.match(sim.command('l0', { op: 'standby' }), /^refused: .*maintenance on/);
  t.match(sim.command('l0', { op: 'takeover' }), /^refused: .*already active/);
  t.same(sim.actives('lev'), ['l0']);
});

t.test('a member back from a link fault with no live peer rejoins without spinning (listenUntil cleared)', async (t) => {
  const sim = twoMembers();
  sim.kill('l1');
  sim.release('l1');
  sim.run(500);
  sim.linkDown('l0');
  sim.run(500);
  sim.linkUp('l0');
  sim.run(1000); // before the fix: a deadline in the past for ever, the simulator's event cap
  t.same(sim.actives('lev'), ['l0']);
  t.equal(sim.node('l0').core.group('lev')!.listenUntil, null);
});

/**
 * bgp groups in the election, on the simulator: the VIP goes on bgp.device and nothing is
 * sent by ARP (the routing daemon announces). ecmp: every eligible member holds the VIP, and
 * a stopped, crashed or cut-off member no longer does while the others keep it. active-standby:
 * one holder at a time, handed over as in failover.
 */
import t from 'tap';
import { Sim, group } from './sim.js';
import type { BgpStyle } from '../../src/config/types.js';

const VIP = { address: '203.0.113.100', prefix: 32, family: 4 as const };
const bgp = (style: BgpStyle, priority = 100) => group('svc', priority, { mode: 'bgp', vip: VIP, bgp: { style, device: 'haagent0', daemon: null, poll: 2000 } });

function cluster(style: BgpStyle, names: string[], priorities: number[] = names.map(() => 100)): Sim {
  const sim = new Sim();
  names.forEach((n, i) => sim.add(n, [bgp(style, priorities[i])]));
  for (const n of names) sim.start(n);
  sim.run(1000);
  return sim;
}

t.test('ecmp: every member holds the VIP, no ARP; a stopped, a crashed and a cut-off member withdraw', async (t) => {
  const sim = cluster('ecmp', ['d0', 'd1', 'd2']);
  t.same(sim.actives('svc').sort(), ['d0', 'd1', 'd2']);
  t.same(sim.holders('svc').sort(), ['d0', 'd1', 'd2']);
  t.same(sim.arpLog, [], 'no ARP at all');
  t.equal(sim.node('d0').core.group('svc')!.cfg.bgp?.device, 'haagent0');
  sim.stop('d2');
  sim.run(500);
  t.same(sim.holders('svc').sort(), ['d0', 'd1'], 'planned stop: withdrawn');
  sim.kill('d1');
  sim.release('d1');
  sim.run(500);
  t.same(sim.holders('svc'), ['d0'], 'crash + release: withdrawn, d0 keeps serving');
  t.equal(sim.node('d0').core.group('svc')!.state, 'active');
  sim.linkDown('d0');
  sim.run(500);
  t.same(sim.holders('svc'), [], 'link toward the router down: fault, withdrawn');
  sim.linkUp('d0');
  sim.run(1000);
  t.same(sim.holders('svc'), ['d0'], 'link back: installed again');
  t.same(sim.arpLog, []);
});

t.test('ecmp: operator standby withdraws one member only; takeover brings it back', async (t) => {
  const sim = cluster('ecmp', ['d0', 'd1']);
  t.match(sim.command('d1', { op: 'standby', group: 'svc' }), /ok|handing over/);
  sim.run(500);
  t.same(sim.holders('svc'), ['d0']);
  sim.command('d1', { op: 'takeover', group: 'svc' });
  sim.run(500);
  t.same(sim.holders('svc').sort(), ['d0', 'd1']);
});

t.test('active-standby: one holder, no ARP; the standby takes over when the active crashes', async (t) => {
  const sim = cluster('active-standby', ['d0', 'd1'], [150, 100]);
  t.same(sim.actives('svc'), ['d0']);
  t.same(sim.holders('svc'), ['d0']);
  sim.kill('d0');
  sim.release('d0');
  sim.run(1000);
  t.same(sim.holders('svc'), ['d1']);
  t.same(sim.arpLog, [], 'no ARP in a bgp group');
});

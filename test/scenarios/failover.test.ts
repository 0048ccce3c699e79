/**
 * Multi-node failover stories on the simulator: the same stories the netns drills run
 * for real, here with exact virtual time so every bound can be asserted.
 */
import t from 'tap';
import { Sim, group, measureOutage } from './sim.js';

function pair(opts: ConstructorParameters<typeof Sim>[0] = {}, g1 = {}, g2 = {}): Sim {
  const sim = new Sim(opts);
  sim.add('d0', [group('web', 150, g1)]);
  sim.add('d1', [group('web', 100, g2)]);
  sim.start('d0');
  sim.start('d1');
  sim.run(1000);
  return sim;
}

t.test('start-up: the higher priority node wins once every configured peer is heard, exactly once', async (t) => {
  const sim = pair();
  t.ok(sim.transcript.some((l) => / d0 web init -> standby \(heard every peer\)/.test(l)), 'no init-dead wait: both peers are configured and heard');
  t.same(sim.actives('web'), ['d0']);
  t.same(sim.holders('web'), ['d0']);
  t.equal(sim.serving('web'), 'd0');
  t.equal(sim.node('d1').core.group('web')!.state, 'standby');
  t.equal(sim.transcript.filter((l) => l.includes('-> active')).length, 1, sim.transcript.join('\n'));
});

t.test('crash of the agent on a live host: ICMP unreachable beats the dead time', async (t) => {
  const sim = pair();
  sim.kill('d0');
  sim.release('d0'); // systemd ExecStopPost
  const { outage } = measureOutage(sim, 'web', 1000);
  t.same(sim.actives('web'), ['d1']);
  t.equal(sim.serving('web'), 'd1');
  // next heartbeat (<= interval) + ICMP + ip add + garp, well below the 150 ms dead time
  t.ok(outage <= 50 + 2 + 4 + 4 + 2, `outage ${outage} ms`);
});

t.test('host gone (no ICMP): failover after the dead time', async (t) => {
  const sim = pair();
  sim.node('d0').hostUp = false;
  sim.kill('d0');
  const { outage } = measureOutage(sim, 'web', 1000);
  t.equal(sim.serving('web'), 'd1');
  t.ok(outage >= 100 && outage <= 150 + 1 + 4 + 4 + 2, `outage ${outage} ms`);
});

t.test('link down on the active: fault at once, the peer takes over after the dead time; link up: back', async (t) => {
  const sim = pair();
  sim.linkDown('d0');
  const down = measureOutage(sim, 'web', 1000);
  t.equal(sim.node('d0').core.group('web')!.state, 'fault');
  t.same(sim.holders('web'), ['d1'], 'd0 released the VIP on its dead link');
  t.equal(sim.serving('web'), 'd1');
  // d1 hears nothing from the cut-off d0: dead time (150) + ip add + garp
  t.ok(down.outage >= 100 && down.outage <= 150 + 50 + 4 + 4 + 2, `outage ${down.outage} ms`);
  sim.linkUp('d0');
  const up = measureOutage(sim, 'web', 1000);
  t.same(sim.actives('web'), ['d0'], 'preempts back');
  t.equal(up.outage, 0);
});

t.test('planned stop: resign, hand over, no client-visible gap, exit', async (t) => {
  const sim = pair();
  sim.stop('d0');
  const { outage, dualMs } = measureOutage(sim, 'web', 500);
  t.equal(outage, 0);
  t.ok(sim.node('d0').exited, 'd0 exited');
  t.same(sim.holders('web'), ['d1']);
  t.equal(sim.serving('web'), 'd1');
  t.ok(dualMs <= 50, `both active for ${dualMs} ms (bound: one interval)`);
});

t.test('planned stop of the only node releases at once', async (t) => {
  const sim = new Sim();
  sim.add('d0', [group('web', 150)]);
  sim.start('d0');
  sim.run(1000);
  sim.stop('d0');
  sim.run(20);
  t.ok(sim.node('d0').exited);
  t.same(sim.holders('web'), []);
});

t.test('preempt on: a returning higher-priority node takes the VIP back without a gap', async (t) => {
  const sim = pair();
  sim.kill('d0');
  sim.release('d0');
  sim.run(1000);
  t.equal(sim.serving('web'), 'd1');
  sim.start('d0');
  const { outage, dualMs } = measureOutage(sim, 'web', 1000);
  t.equal(sim.serving('web'), 'd0');
  t.same(sim.holders('web'), ['d0']);
  t.equal(outage, 0);
  t.ok(dualMs <= 50);
});

t.test('preempt off: the current active keeps the VIP while it lives', async (t) => {
  const sim = pair({}, { preempt: false }, { preempt: false });
  sim.kill('d0');
  sim.release('d0');
  sim.run(1000);
  sim.start('d0');
  sim.run(2000);
  t.same(sim.actives('web'), ['d1']);
  t.equal(sim.node('d0').core.group('web')!.state, 'standby');
});

t.test('preempt delay: the higher node waits the delay before taking over', async (t) => {
  const sim = pair({}, { preemptDelay: 500 });
  sim.kill('d0');
  sim.release('d0');
  sim.run(1000);
  sim.start('d0');
  sim.run(400); // learned d1 active within one interval, then waits the 500 ms delay
  t.same(sim.actives('web'), ['d1']);
  sim.run(300);
  t.same(sim.actives('web'), ['d0']);
});

t.test('ties break deterministically by node name: the smaller wins', async (t) => {
  const sim = new Sim();
  sim.add('b', [group('web', 100)]);
  sim.add('a', [group('web', 100)]);
  sim.start('b');
  sim.start('a');
  sim.run(1000);
  t.same(sim.actives('web'), ['a']);
});

t.test('partition then heal: one active within one interval, router ends on the winner', async (t) => {
  const sim = pair();
  sim.partition('d0', 'd1');
  sim.run(1000);
  t.same(sim.actives('web').sort(), ['d0', 'd1'], 'both active while cut (expected: they cannot tell)');
  // make the router point at the loser, as a partition can leave it
  sim.router.set('web', 'd1');
  sim.heal();
  const healedAt = sim.now;
  let resolvedAt = -1;
  for (let i = 0; i < 500 && resolvedAt < 0; i++) {
    sim.run(1);
    if (sim.actives('web').length === 1) resolvedAt = sim.now;
  }
  t.ok(resolvedAt >= 0 && resolvedAt - healedAt <= 50, `resolved after ${resolvedAt - healedAt} ms`);
  sim.run(200);
  t.same(sim.actives('web'), ['d0']);
  t.equal(sim.router.get('web'), 'd0', 'winner re-announced');
  t.same(sim.holders('web'), ['d0']);
});

t.test('three nodes: the second best takes over, the third stays standby', async (t) => {
  const sim = new Sim();
  sim.add('d0', [group('web', 150)]);
  sim.add('d1', [group('web', 100)]);
  sim.add('d2', [group('web', 50)]);
  for (const n of ['d0', 'd1', 'd2']) sim.start(n);
  sim.run(1000);
  sim.kill('d0');
  sim.release('d0');
  sim.run(1000);
  t.same(sim.actives('web'), ['d1']);
  t.equal(sim.node('d2').core.group('web')!.state, 'standby');
});

t.test('10% loss, interval 100 ms, dead time 500 ms: no spurious failover in 60 s', async (t) => {
  const sim = new Sim({ interval: 100, deadTime: 500, initDead: 1000, lossPct: 10, seed: 7 });
  sim.add('d0', [group('web', 150)]);
  sim.add('d1', [group('web', 100)]);
  sim.start('d0');
  sim.start('d1');
  sim.run(2000);
  const before = sim.transcript.length;
  sim.run(60_000);
  t.same(sim.transcript.slice(before), []);
});

t.test('10% loss at 100/500 over 100 seeds x 60 s: probes turn loss bursts into 0 spurious failovers', async (t) => {
  // Without probes a burst of 4-5 lost heartbeats (10^-4 per position at 10 % loss) silences
  // the active for the whole dead time; with them the standby asks twice per interval and
  // the active answers at once, so the burst must also swallow every probe round trip.
  const spurious = (probes: boolean) => {
    let moves = 0;
    for (let seed = 1; seed <= 100; seed++) {
      const sim = new Sim({ interval: 100, deadTime: 500, initDead: 1000, lossPct: 10, seed });
      sim.add('d0', [group('web', 150)], { probes });
      sim.add('d1', [group('web', 100)], { probes });
      sim.start('d0');
      sim.start('d1');
      sim.run(2000);
      const before = sim.transcript.length;
      sim.run(60_000);
      moves += sim.transcript.slice(before).filter((l) => l.includes('-> active')).length;
    }
    return moves;
  };
  const off = spurious(false);
  const on = spurious(true);
  t.comment(`spurious takeovers in 100 x 60 s at 10 % loss: ${off} without probes, ${on} with`);
  t.ok(off > 0, `the loss is enough to fail over without probes (${off})`);
  t.equal(on, 0, 'none with probes');
});

t.test('operator standby hands over with no gap and does not preempt back', async (t) => {
  const sim = pair();
  t.match(sim.command('d0', { op: 'standby' }), /^ok/);
  const { outage } = measureOutage(sim, 'web', 1000);
  t.equal(outage, 0);
  t.same(sim.actives('web'), ['d1']);
  t.equal(sim.node('d0').core.group('web')!.state, 'standby');
  t.match(sim.command('d0', { op: 'takeover' }), /^ok/);
  const r = measureOutage(sim, 'web', 500);
  t.equal(r.outage, 0);
  t.same(sim.actives('web'), ['d0']);
});

t.test('operator standby is refused when no peer could take the VIP', async (t) => {
  const sim = new Sim();
  sim.add('d0', [group('web', 150)]);
  sim.start('d0');
  sim.run(1000);
  t.match(sim.command('d0', { op: 'standby' }), /^refused: .*no live peer/);
  t.same(sim.actives('web'), ['d0']);
});

t.test('maintenance on leaves every election, off comes back', async (t) => {
  const sim = pair();
  sim.command('d0', { op: 'maintenance', on: true });
  sim.run(500);
  t.same(sim.actives('web'), ['d1']);
  sim.kill('d1');
  sim.release('d1');
  sim.run(1000);
  t.same(sim.actives('web'), [], 'a node in maintenance never claims');
  sim.command('d0', { op: 'maintenance', on: false });
  sim.run(100);
  t.same(sim.actives('web'), ['d0']);
});

/**
 * Golden transcripts of the classic scenarios, of live reloads and of the operator commands
 * (their replies are in the transcript): each runs on the simulator with `record` and
 * its transcript (every driver step that mattered, the world's events, the steady state
 * compressed; test/scenarios/transcript.ts) must equal test/scenarios/golden/NAME.txt. A
 * behaviour change of the core (LevIP included), the driver or the health monitor shows up
 * as a diff of those files. When the change is meant:
 *   HAAGENT_UPDATE_GOLDEN=1 npx tap test/scenarios/golden.test.ts
 * rewrites them; review their diff like code. Each scenario also checks its outcome, so a
 * transcript is never blessed for a story that went wrong.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import type { OperatorCommand } from '../../src/core/types.js';
import { Sim, group, type SimOptions } from './sim.js';

const DIR = fileURLToPath(new URL('./golden/', import.meta.url));
const UPDATE = process.env.HAAGENT_UPDATE_GOLDEN === '1';

interface Scenario {
  name: string;
  about: string;
  opts?: SimOptions;
  run(sim: Sim): void;
  /** the outcome, checked before the transcript is compared or written. */
  outcome(sim: Sim): { ok: boolean; what: string };
}

/** d0 (150) and d1 (100) on `web`, both started at 0, settled for a second. */
function pair(sim: Sim): void {
  sim.add('d0', [group('web', 150)]);
  sim.add('d1', [group('web', 100)]);
  sim.start('d0');
  sim.start('d1');
  sim.run(1000);
}

const levip = (weight: number) => group('lev', 100, { mode: 'levip', levip: { period: 1000, guard: 100, repeat: 500, weight } });

const serving = (sim: Sim, g: string, node: string) => ({ ok: sim.serving(g) === node && sim.actives(g).join() === node, what: `${node} alone active and serving ${g}` });

const VIP2 = { address: '198.51.100.101', prefix: 32, family: 4 as const };
const BGP_VIP = { address: '203.0.113.100', prefix: 32, family: 4 as const };
const VIP3 = { address: '198.51.100.102', prefix: 32, family: 4 as const };

/** d0 (150) and d1 (100) on `web` and `db`, d0 active on both, settled for a second. */
function twoGroups(sim: Sim): void {
  sim.add('d0', [group('web', 150), group('db', 150, { vip: VIP2 })]);
  sim.add('d1', [group('web', 100), group('db', 100, { vip: VIP2 })]);
  sim.start('d0');
  sim.start('d1');
  sim.run(1000);
}

/** The reply of an operator command, which must have been accepted. */
function accepted(sim: Sim, node: string, command: OperatorCommand): void {
  const reply = sim.command(node, command);
  if (!reply.startsWith('ok')) throw new Error(`${node} refused ${command.op}: ${reply}`);
}

/** The NAT director's two VIPs: the service address on eth0, the real servers' gateway on eth1. */
const NAT_VIPS = [
  { vip: { address: '198.51.100.100', prefix: 32, family: 4 as const }, iface: 'eth0' },
  { vip: { address: '203.0.113.1', prefix: 24, family: 4 as const }, iface: 'eth1' },
];
const nat = (priority: number) => group('nat', priority, { vips: NAT_VIPS });

/** Both VIPs of `nat` held and served by `node` alone (the second is tracked as "nat 203.0.113.1"). */
function natServedBy(sim: Sim, node: string) {
  const both = ['nat', `nat ${NAT_VIPS[1]!.vip.address}`];
  const ok = both.every((k) => sim.serving(k) === node && sim.holders(k).join() === node) && sim.actives('nat').join() === node;
  return { ok, what: `${node} alone active, holding and serving both VIPs of nat` };
}

const SCENARIOS: Scenario[] = [
  {
    name: 'two-vips-crash',
    about: 'a group of two VIPs (198.51.100.100 on eth0, 203.0.113.1/24 on eth1): the agent on d0 (active) is killed, systemd releases both; d1 claims and announces both',
    run(sim) {
      sim.add('d0', [nat(150)]);
      sim.add('d1', [nat(100)]);
      sim.start('d0');
      sim.start('d1');
      sim.run(1000);
      if (!natServedBy(sim, 'd0').ok) throw new Error('d0 did not hold both VIPs before the crash');
      sim.kill('d0');
      sim.release('d0');
      sim.run(600);
    },
    outcome: (sim) => natServedBy(sim, 'd1'),
  },
  {
    name: 'crash',
    about: 'the agent on d0 (active) is killed, its host stays up; systemd releases the VIP',
    run(sim) {
      pair(sim);
      sim.kill('d0');
      sim.release('d0');
      sim.run(600);
    },
    outcome: (sim) => serving(sim, 'web', 'd1'),
  },
  {
    name: 'link-down',
    about: "d0's interface goes down for a second (heartbeats and VIP on it), then comes back",
    run(sim) {
      pair(sim);
      sim.linkDown('d0');
      sim.run(1000);
      sim.linkUp('d0');
      sim.run(1000);
    },
    outcome: (sim) => serving(sim, 'web', 'd0'),
  },
  {
    name: 'planned-stop',
    about: 'd0 (active) is stopped: it hands over to d1, releases and exits',
    run(sim) {
      pair(sim);
      sim.stop('d0');
      sim.run(500);
    },
    outcome: (sim) => ({ ok: sim.node('d0').exited && sim.serving('web') === 'd1', what: 'd0 exited, d1 serving' }),
  },
  {
    name: 'partition-heal',
    about: 'd0 and d1 cannot hear each other for a second (both go active), then the cut heals',
    run(sim) {
      pair(sim);
      sim.partition('d0', 'd1');
      sim.run(1000);
      sim.heal();
      sim.run(500);
    },
    outcome: (sim) => serving(sim, 'web', 'd0'),
  },
  {
    name: 'preempt',
    about: 'd0 crashes and is released, d1 takes over; d0 comes back and takes the VIP back (preempt)',
    run(sim) {
      pair(sim);
      sim.kill('d0');
      sim.release('d0');
      sim.run(600);
      sim.start('d0');
      sim.run(1000);
    },
    outcome: (sim) => serving(sim, 'web', 'd0'),
  },
  {
    name: 'levip-join-leave',
    about: 'LevIP group lev (period 1000, guard 100, repeat 500): l0 (weight 1) and l1 (2) rotate, l2 (1) joins (its host comes up), l1 leaves (stop)',
    run(sim) {
      sim.add('l0', [levip(1)]);
      sim.add('l1', [levip(2)]);
      sim.add('l2', [levip(1)]);
      sim.power('l2', false);
      sim.start('l0');
      sim.start('l1');
      sim.run(5000);
      sim.power('l2', true);
      sim.start('l2');
      sim.run(5000);
      sim.stop('l1');
      sim.run(4000);
    },
    outcome: (sim) => ({ ok: sim.actives('lev').sort().join() === 'l0,l2' && sim.node('l1').exited && ['l0', 'l2'].includes(sim.serving('lev') ?? ''), what: 'l0 and l2 active, l1 gone, the router on one of them' }),
  },
  {
    name: 'bgp-ecmp',
    about: 'bgp group svc (style ecmp, device haagent0): e0, e1, e2 all install the VIP; e1 loses its link and comes back, e2 stops',
    run(sim) {
      for (const n of ['e0', 'e1', 'e2']) sim.add(n, [group('svc', 100, { mode: 'bgp', vip: BGP_VIP, bgp: { style: 'ecmp', device: 'haagent0', daemon: null, poll: 2000 } })]);
      for (const n of ['e0', 'e1', 'e2']) sim.start(n);
      sim.run(1000);
      sim.linkDown('e1');
      sim.run(1000);
      sim.linkUp('e1');
      sim.run(1000);
      sim.stop('e2');
      sim.run(1000);
    },
    outcome: (sim) => ({ ok: sim.holders('svc').sort().join() === 'e0,e1' && sim.node('e2').exited && sim.arpLog.length === 0, what: 'e0 and e1 hold the VIP, e2 gone, no ARP sent' }),
  },
  {
    name: 'reload-priority',
    about: "d0 (active, 150) reloads with web at 50: d1 (100, preempt) takes web, db stays on d0 untouched",
    run(sim) {
      twoGroups(sim);
      sim.reconfigure('d0', [group('web', 50), group('db', 150, { vip: VIP2 })]);
      sim.run(500);
    },
    outcome: (sim) => ({ ok: serving(sim, 'web', 'd1').ok && serving(sim, 'db', 'd0').ok && !sim.vipLog.includes('d0 db -'), what: 'd1 serving web, d0 still serving db, its VIP never removed' }),
  },
  {
    name: 'reload-add-remove',
    about: 'd0 (active on web and db) reloads with db removed and api added, then d1 reloads the same file',
    run(sim) {
      twoGroups(sim);
      const next = (priority: number) => [group('web', priority), group('api', priority, { vip: VIP3 })];
      sim.reconfigure('d0', next(150));
      sim.run(1000);
      sim.reconfigure('d1', next(100));
      sim.run(1000);
    },
    outcome: (sim) => ({
      ok: serving(sim, 'web', 'd0').ok && serving(sim, 'api', 'd0').ok && sim.holders('db').length === 0 && sim.node('d0').core.retired.length === 0,
      what: 'd0 serving web and api, nobody holding db, the removed group forgotten',
    }),
  },
  {
    name: 'operator-standby-takeover',
    about: 'haagent standby on d0 (active): d1 takes web, d0 stays standby despite preempt; then haagent takeover on d0',
    run(sim) {
      pair(sim);
      accepted(sim, 'd0', { op: 'standby' });
      sim.run(1000);
      accepted(sim, 'd0', { op: 'takeover' });
      sim.run(500);
    },
    outcome: (sim) => {
      // standby: d0 lets the VIP go only after d1's host holds it (docs/operations.md, Maintenance).
      const handover = sim.vipLog.indexOf('d1 web +') >= 0 && sim.vipLog.indexOf('d1 web +') < sim.vipLog.indexOf('d0 web -');
      return { ok: handover && serving(sim, 'web', 'd0').ok, what: 'd1 held the VIP before d0 released it; d0 alone active and serving web at the end' };
    },
  },
  {
    name: 'operator-maintenance',
    about: 'haagent maintenance on on d0 (active): d1 takes web; maintenance off: d0 takes it back (preempt)',
    run(sim) {
      pair(sim);
      accepted(sim, 'd0', { op: 'maintenance', on: true });
      sim.run(1000);
      accepted(sim, 'd0', { op: 'maintenance', on: false });
      sim.run(1000);
    },
    outcome: (sim) => serving(sim, 'web', 'd0'),
  },
];

function settings(o: Sim['o']): string {
  return `interval ${o.interval}, dead time ${o.deadTime}, init-dead ${o.initDead}, latency ${o.latencyMs}, vip ${o.vipMs}, garp ${o.garpMs}, link ${o.linkMs} ms; loss ${o.lossPct} %, seed ${o.seed}`;
}

for (const s of SCENARIOS) {
  t.test(s.name, async (t) => {
    const sim = new Sim({ ...s.opts, record: true });
    sim.golden!.header(`${s.name}: ${s.about}`);
    sim.golden!.header(settings(sim.o));
    s.run(sim);
    const text = sim.golden!.text();
    const { ok, what } = s.outcome(sim);
    t.ok(ok, `outcome: ${what}`, { transcript: sim.transcript.join('\n') });
    const file = `${DIR}${s.name}.txt`;
    if (UPDATE) {
      mkdirSync(DIR, { recursive: true });
      writeFileSync(file, text);
      t.comment(`rewrote ${file}`);
      return;
    }
    if (!existsSync(file)) return void t.fail(`no golden transcript ${file}: run HAAGENT_UPDATE_GOLDEN=1 npx tap test/scenarios/golden.test.ts`);
    t.equal(text, readFileSync(file, 'utf8'), `transcript equals golden/${s.name}.txt (if the change is meant: HAAGENT_UPDATE_GOLDEN=1 npx tap test/scenarios/golden.test.ts)`);
  });
}

t.test('the same seed gives the same transcript, another seed under loss does not', async (t) => {
  const lossy = (seed: number): string => {
    const sim = new Sim({ record: true, lossPct: 20, seed });
    pair(sim);
    sim.kill('d0');
    sim.release('d0');
    sim.run(600);
    return sim.golden!.text();
  };
  t.equal(lossy(3), lossy(3));
  t.not(lossy(3), lossy(4));
});

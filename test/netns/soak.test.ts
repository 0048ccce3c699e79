/**
 * The soak in the suite: 60 s of random faults against three real agents (the
 * 30-minute version is `node dist/test/bench/soak.js 30`). Asserted: the VIP never on two
 * directors for longer than the dead time outside fault and starvation windows, no agent
 * died on its own, and the cluster ends with one active node holding the VIP. Outages,
 * heartbeat gaps, transitions and RSS slopes are reported, not asserted (2-core machine).
 * The timeline analysis it relies on is checked first, without root.
 * Needs root and `npm run build`.
 */
import t from 'tap';
import { haagentAvailable } from './agents/haagent.js';
import { formatSoak, runSoak } from '../bench/soak.js';
import { monitorTime } from '../fixtures/security/watch.js';
import { dualPresence, maxGapOutside, merge, outside, overlaps, silences, slopePerMinute } from '../fixtures/security/timeline.js';

const skip = process.getuid?.() !== 0 ? 'network namespaces need root' : !(await haagentAvailable()) ? 'dist/src/main.js is not available: run `npm run build`' : false;
const SOAK_MS = Number(process.env.HAAGENT_SOAK_S ?? '60') * 1000;

t.test('timeline analysis', async (t) => {
  const ev = (at: number, node: string, present: boolean) => ({ at, node, present });
  const events = [ev(0, 'a', true), ev(100, 'b', true), ev(130, 'a', false), ev(500, 'c', true), ev(520, 'b', false), ev(900, 'a', true)];
  t.same(overlaps(events, 1000), [{ from: 100, to: 130, nodes: ['a', 'b'] }, { from: 500, to: 520, nodes: ['b', 'c'] }, { from: 900, to: 1000, nodes: ['a', 'c'] }], 'overlap windows, one still open at the end');
  t.same(overlaps([ev(0, 'a', true), ev(5, 'b', true), ev(5, 'a', false)], 10), [], 'same instant: the delete goes first, no overlap');
  t.same(merge([{ from: 5, to: 9, why: 'x' }, { from: 0, to: 6, why: 'y' }, { from: 20, to: 30, why: 'z' }]), [{ from: 0, to: 9, why: 'y+x' }, { from: 20, to: 30, why: 'z' }]);
  t.same(outside(0, 100, [{ from: 10, to: 20, why: '' }, { from: 50, to: 200, why: '' }]), [{ from: 0, to: 10 }, { from: 20, to: 50 }]);
  const faults = [{ from: 880, to: 950, why: 'hang a' }];
  const d = dualPresence(events, 1000, faults, 40);
  t.equal(d.maxInContactMs, 50, 'the longest overlap piece outside faults');
  t.same(d.violations, [{ from: 950, to: 1000, nodes: ['a', 'c'] }], 'only the piece past the tolerance is a violation');
  const starved = new Map([['c', [{ from: 940, to: 1000, why: 'c silent' }]]]);
  t.same(dualPresence(events, 1000, faults, 40, starved).violations, [], 'a starved holder excuses its overlaps');
  t.same(dualPresence(events, 1000, [], 40, new Map([['x', [{ from: 0, to: 1000, why: '' }]]])).violations.length, 1, 'another node\'s silence excuses nothing');
  t.same(silences([10, 20, 200, 230], 100, 0, 400), [{ from: 20, to: 200, why: 'silent' }, { from: 230, to: 400, why: 'silent' }], 'silences, up to the edge');
  t.same(maxGapOutside([0, 50, 300, 340, 700], [{ from: 320, to: 500, why: '' }]), { gapMs: 250, at: 50 }, 'gaps touching a fault are the fault\'s');
  t.equal(Math.round(slopePerMinute([{ at: 0, v: 100 }, { at: 30_000, v: 110 }, { at: 60_000, v: 120 }])), 20, 'slope per minute');
  t.ok(Number.isNaN(slopePerMinute([{ at: 0, v: 1 }])), 'no slope from one point');
  const at = monitorTime('[2026-11-23T13:17:24.410664] Deleted 2: eth0    inet 198.51.100.100/32 scope global eth0');
  t.equal(at !== null && Math.round((at - Date.parse('2026-11-23T13:17:24')) * 1000), 410_664, 'ip -ts monitor time, to the microsecond');
  t.equal(monitorTime('2: eth0    inet 198.51.100.100/32'), null, 'no stamp, no time');
});

t.test(`soak: ${SOAK_MS / 1000} s of random faults on three agents`, { skip, timeout: SOAK_MS + 120_000 }, async (t) => {
  const report = await runSoak({ durationMs: SOAK_MS, seed: Number(process.env.HAAGENT_SOAK_SEED ?? '1'), log: (l) => t.comment(l) });
  for (const line of formatSoak(report)) t.comment(line);
  t.ok(report.faults.length >= SOAK_MS / 8000, `${report.faults.length} faults injected`);
  t.same(report.dual.violations, [], 'the VIP never on two directors past the dead time outside fault and starvation windows');
  t.same(report.unexpectedExits, [], 'no agent died on its own');
  t.equal(report.final.active.length, 1, `one active node at the end (${report.final.active.join(',')})`);
  t.same(report.final.holders, report.final.active, 'and the VIP is on that node only');
});

// HealthMonitor with a hand-driven clock and hand-finished check runs: scheduling, no overlap,
// timeouts, summaries, links, ping nodes, stop. Nothing sleeps and nothing is spawned.
import t from 'tap';
import { HealthMonitor, GUARD_GRACE_MS, type CheckChange, type Checker } from '../../src/health/monitor.js';
import { DEFAULTS } from '../../src/config/defaults.js';
import type { CheckResult, CheckSpec, GroupHealthSpec, HealthSummary } from '../../src/health/types.js';
import { FakeTime, deferred } from './health-fakes.js';

const OK: CheckResult = { ok: true, detail: 'ok', ms: 1 };
const KO: CheckResult = { ok: false, detail: 'down', ms: 1 };

function check(name: string, over: Partial<CheckSpec> = {}): CheckSpec {
  return {
    type: 'tcp',
    name,
    host: '127.0.0.1',
    port: 80,
    interval: 1000,
    timeout: 500,
    rise: 2,
    fall: 2,
    weight: 'fault',
    holdDown: 0,
    ...over,
  } as CheckSpec;
}

function group(name: string, checks: CheckSpec[], over: Partial<GroupHealthSpec> = {}): GroupHealthSpec {
  return { group: name, basePriority: 100, interfaces: [], checks, pingNodes: [], ...over };
}

/** A monitor whose checker answers from `answer(spec)` at once, and records what it saw. */
function harness(groups: GroupHealthSpec[], answer: (spec: CheckSpec, signal: AbortSignal) => Promise<CheckResult>) {
  const time = new FakeTime();
  const calls: { name: string; at: number }[] = [];
  const changes: { group: string; at: number; s: HealthSummary }[] = [];
  const checkChanges: CheckChange[] = [];
  const checker: Checker = (spec, signal) => {
    calls.push({ name: spec.name, at: time.now() });
    return answer(spec, signal);
  };
  const monitor = new HealthMonitor(groups, {
    clock: time,
    timers: time,
    checker,
    onChange: (g, s) => changes.push({ group: g, at: time.now(), s }),
    onCheckChange: (c) => checkChanges.push(c),
    pingNode: { interval: 1000, timeout: 1000, rise: 1, fall: 1, holdDown: 0 },
  });
  return { time, calls, changes, checkChanges, monitor };
}

/** The group's summary as last reported through onChange. */
function lastReport(h: { changes: { group: string; s: HealthSummary }[] }, group: string): HealthSummary | undefined {
  return h.changes.filter((c) => c.group === group).at(-1)?.s;
}

t.test('runs every interval; reports the start and each summary change once', async (t) => {
  let healthy = true;
  const h = harness([group('g', [check('a')])], async () => (healthy ? OK : KO));
  h.monitor.start();
  t.same(h.changes.map((c) => [c.s.fault, c.s.pending]), [[null, 'check a has not passed yet']], 'start: the fault check must pass first (pending, not a fault)');
  await h.time.advance(3500);
  t.same(h.calls.map((c) => c.at), [0, 1000, 2000, 3000], 'one run per interval, the first at once');
  t.same(h.changes.map((c) => [c.at, c.s.pending]), [[0, 'check a has not passed yet'], [1000, null]], 'passing after rise=2');
  healthy = false;
  await h.time.advance(2000);
  t.same(h.changes.at(-1), { group: 'g', at: 5000, s: { ...h.changes[1].s, fault: 'check a failing', failing: ['a'] } });
  t.same(h.checkChanges.map((c) => `${c.check}:${c.from}->${c.to}:${c.detail}`), ['a:unknown->passing:ok', 'a:passing->failing:down']);
  t.same(h.monitor.checks('g').map((c) => [c.spec.name, c.state, c.last]), [['a', 'failing', KO]]);
  h.monitor.stop();
});

t.test('a run slower than its interval never overlaps the next one', async (t) => {
  let inFlight = 0;
  let maxInFlight = 0;
  const time = { ref: null as FakeTime | null };
  const h = harness([group('g', [check('slow', { timeout: 5000 })])], () => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const d = deferred<CheckResult>();
    // finishes 1500 ms later: longer than the 1000 ms interval
    time.ref?.setTimeout(() => {
      inFlight--;
      d.resolve(OK);
    }, 1500);
    return d.promise;
  });
  time.ref = h.time;
  h.monitor.start();
  await h.time.advance(6000);
  t.equal(maxInFlight, 1, 'never two runs of the same check at once');
  t.same(h.calls.map((c) => c.at), [0, 1500, 3000, 4500, 6000], 'the next run starts when the slow one ends');
  h.monitor.stop();
});

t.test('a hanging check is bounded: counted failed at timeout, aborted, never run twice at once', async (t) => {
  const signals: AbortSignal[] = [];
  const h = harness([group('g', [check('hang', { timeout: 300, fall: 2 })])], (_spec, signal) => {
    signals.push(signal);
    return new Promise<CheckResult>(() => undefined);
  });
  h.monitor.start();
  await h.time.advance(300 + GUARD_GRACE_MS - 1);
  t.equal(signals[0].aborted, false, 'not before timeout + grace');
  await h.time.advance(1);
  t.equal(signals[0].aborted, true, 'aborted at timeout + grace');
  t.match(h.monitor.checks('g')[0].last, { ok: false, detail: 'timed out after 300 ms' });
  await h.time.advance(2000);
  t.equal(h.calls.length, 1, 'the hung run is never joined by a second one');
  t.match(h.monitor.checks('g')[0], { state: 'failing', last: { detail: 'previous run still has not finished' } });
  t.equal(h.changes.at(-1)?.s.fault, 'check hang failing');
  h.monitor.stop();
});

t.test('a check that rejects or throws counts as a failure', async (t) => {
  const h = harness(
    [group('g', [check('rejects', { fall: 1 }), check('throws', { fall: 1 })])],
    (spec) => {
      if (spec.name === 'throws') throw new Error('boom');
      return Promise.reject(new Error('nope'));
    },
  );
  h.monitor.start();
  await h.time.advance(0);
  t.same(
    h.monitor.checks('g').map((c) => [c.spec.name, c.state, c.last?.detail]),
    [['rejects', 'failing', 'nope'], ['throws', 'failing', 'boom']],
  );
  h.monitor.stop();
});

t.test('weights lower the priority; links and ping nodes join the summary', async (t) => {
  const answers = new Map<string, CheckResult>([['w', OK], ['ping-node 198.51.100.1', OK], ['ping-node 203.0.113.1', KO]]);
  const g1 = group('g1', [check('w', { weight: 30, rise: 1, fall: 1 })], {
    interfaces: ['eth0', 'eth1'],
    pingNodes: ['198.51.100.1', '203.0.113.1'],
  });
  const g2 = group('g2', [], { interfaces: ['eth0'], pingNodes: ['198.51.100.1'] });
  const h = harness([g1, g2], async (spec) => answers.get(spec.name) ?? KO);
  h.monitor.start();
  t.match(lastReport(h, 'g1'), { priority: 100, fault: null, pending: 'link eth0 state not known yet; link eth1 state not known yet', pingReachable: 0, pingTotal: 2 });
  h.monitor.setLink('eth0', true);
  h.monitor.setLink('eth1', true);
  await h.time.advance(0);
  t.match(lastReport(h, 'g1'), { priority: 100, fault: null, linksDown: [], pingReachable: 1 });
  t.match(lastReport(h, 'g2'), { fault: null, pingReachable: 1, pingTotal: 1 });
  t.equal(h.calls.filter((c) => c.name === 'ping-node 198.51.100.1').length, 1, 'a ping node shared by two groups is run once');
  answers.set('w', KO);
  await h.time.advance(1000);
  t.match(lastReport(h, 'g1'), { priority: 70, failing: ['w'] });
  const before = h.changes.length;
  h.monitor.setLink('eth1', false);
  t.equal(h.changes.length, before + 1, 'only the group tracking eth1 is reported');
  t.match(h.changes.at(-1), { group: 'g1', s: { fault: 'link eth1 down', linksDown: ['eth1'] } });
  h.monitor.setLink('eth1', false);
  t.equal(h.changes.length, before + 1, 'a repeated link state reports nothing');
  answers.set('ping-node 198.51.100.1', KO);
  await h.time.advance(1000);
  t.match(lastReport(h, 'g2'), { pingReachable: 0 });
  t.match(h.checkChanges.at(-1), { group: null, check: 'ping-node 198.51.100.1', to: 'failing' });
  h.monitor.stop();
});

t.test('stop clears every timer and drops results that arrive later', async (t) => {
  const pending: ((r: CheckResult) => void)[] = [];
  const h = harness([group('g', [check('a', { rise: 1 })], { pingNodes: ['198.51.100.1'] })], () => {
    const d = deferred<CheckResult>();
    pending.push(d.resolve);
    return d.promise;
  });
  h.monitor.start();
  await h.time.advance(0);
  t.equal(pending.length, 2, 'the check and the ping node are running');
  h.monitor.stop();
  t.equal(h.time.pending(), 0, 'no timer left');
  const reported = h.changes.length;
  for (const resolve of pending) resolve(OK);
  await h.time.advance(10_000);
  t.equal(h.changes.length, reported, 'nothing reported after stop');
  t.equal(h.calls.length, 2, 'nothing run after stop');
  t.equal(h.monitor.checks('g')[0].state, 'unknown');
});

t.test('defaults: the default ping-node options are used when none are given', async (t) => {
  const time = new FakeTime();
  const calls: CheckSpec[] = [];
  const m = new HealthMonitor([group('g', [], { pingNodes: ['198.51.100.1'] })], {
    clock: time,
    timers: time,
    checker: async (spec) => {
      calls.push(spec);
      return OK;
    },
    onChange: () => undefined,
  });
  m.start();
  await time.advance(0);
  t.match(calls[0], { type: 'ping', host: '198.51.100.1', ...DEFAULTS.health.pingNode });
  m.stop();
});

t.test('update (reload): unchanged checks keep state and schedule; new ones start, dropped ones stop', async (t) => {
  const answers = new Map<string, CheckResult>([['a', OK], ['b', KO], ['c', OK]]);
  const h = harness([group('web', [check('a')]), group('db', [check('b', { weight: 10 })])], async (spec) => answers.get(spec.name) ?? OK);
  h.monitor.start();
  await h.time.advance(2500);
  t.equal(lastReport(h, 'web')?.fault, null, 'web passing');
  const before = h.changes.length;
  const callsBefore = h.calls.length;

  // web unchanged, db loses its check, api is new with check c and a ping node.
  h.monitor.update([group('web', [check('a')]), group('db', []), group('api', [check('c')], { pingNodes: ['198.51.100.1'] })]);
  const reported = h.changes.slice(before);
  t.same(reported.map((c) => c.group).sort(), ['api', 'db'], 'web not reported again: no flap');
  t.match(reported.find((c) => c.group === 'db')?.s, { fault: null, priority: 100 }, 'db: no check, no penalty');
  t.match(reported.find((c) => c.group === 'api')?.s, { pending: /has not passed yet/ }, 'api starts as a new group would');
  await h.time.advance(0);
  t.same(h.calls.slice(callsBefore).map((c) => c.name).sort(), ['c', 'ping-node 198.51.100.1'], 'new check and ping node run at once');
  t.same(h.monitor.checks('web').map((c) => c.state), ['passing'], 'web kept its tracker');

  await h.time.advance(3000);
  const runs = (name: string) => h.calls.filter((c) => c.name === name).map((c) => c.at);
  t.same(runs('a'), [0, 1000, 2000, 3000, 4000, 5000], 'a kept its schedule across the reload');
  t.same(runs('b'), [0, 1000, 2000], 'b stopped');
  t.equal(lastReport(h, 'api')?.fault, null, 'api passing after rise');

  // a changed spec is a new check (fresh state); a removed group is forgotten.
  h.monitor.update([group('web', [check('a', { interval: 500 })])]);
  t.same(h.monitor.checks('web').map((c) => c.state), ['unknown'], 'changed spec: a new tracker');
  const apiRuns = runs('c').length;
  await h.time.advance(2000);
  t.equal(runs('c').length, apiRuns, 'the removed group runs no more');

  // A removed group is forgotten: back with the very same summary, it is reported as new.
  const web = group('web', [check('a', { interval: 500 })]);
  h.monitor.update([web, group('x', [])]);
  h.monitor.update([web]);
  const n = h.changes.length;
  h.monitor.update([web, group('x', [])]);
  t.same(h.changes.slice(n).map((c) => c.group), ['x'], 'removed group forgotten');
});

t.test('update drops a result that arrives for a dropped check', async (t) => {
  const d = deferred<CheckResult>();
  const h = harness([group('web', [check('a', { weight: 10 })])], () => d.promise);
  h.monitor.start();
  await h.time.advance(10);
  h.monitor.update([group('web', [])]);
  const n = h.checkChanges.length;
  d.resolve(KO);
  await h.time.advance(3000);
  t.equal(h.checkChanges.length, n, 'no state change recorded for it');
  t.match(lastReport(h, 'web'), { fault: null, priority: 100 });
});

/**
 * The announcement check decided in the core (src/core/confirm.ts): when `confirm` probes
 * are asked for after a takeover, what an answer, a silence and an error do, the backoff and
 * the bound, several VIPs, and when no probe is asked for at all.
 */
import t from 'tap';
import { Core } from '../../src/core/election.js';
import type { Action, ConfirmTiming, CoreOptions, Input, StepResult } from '../../src/core/types.js';
import type { GroupConfig } from '../../src/config/types.js';
import { group } from '../scenarios/sim.js';

const TIMING: ConfirmTiming = { settle: 100, retryBase: 250, retryMax: 1000 };
const GW = '198.51.100.1';

function core(g: Partial<GroupConfig> = {}, extra: Partial<CoreOptions> = {}): Core {
  return new Core({ node: 'd0', interval: 50, deadTime: 150, initDead: 300, expectedPeers: 0, groups: [group('web', 150, { confirm: { gateway: GW, attempts: 3 }, ...g })], confirm: TIMING, ...extra });
}

type ConfirmAction = Extract<Action, { kind: 'confirm' }>;
const probes = (r: StepResult): ConfirmAction[] => r.actions.filter((a): a is ConfirmAction => a.kind === 'confirm');
const announces = (r: StepResult) => r.actions.filter((a) => a.kind === 'announce');
const answer = (now: number, gid: number, address = '198.51.100.100', answered = true, error?: string): Input => ({ kind: 'confirmResult', now, group: 'web', gid, address, answered, ...(answered ? { latency: 0.5 } : {}), ...(error !== undefined ? { error } : {}) });

/** Alone, init-dead over, VIP added at 304: active with the VIP in place (burst 3 x 20 ms). */
function activeAt304(c: Core): StepResult {
  c.step({ kind: 'start', now: 0 });
  c.step({ kind: 'vipResult', now: 1, group: 'web', present: false, ok: true });
  c.step({ kind: 'tick', now: 300 });
  return c.step({ kind: 'vipResult', now: 304, group: 'web', present: true, ok: true });
}

/** The first round: due settle after the burst's last frame, 304 + 40 + 100. */
const FIRST = 444;

t.test('the first probe after the burst and the settle; an answer confirms and ends the term', async (t) => {
  const c = core();
  const up = activeAt304(c);
  t.same(probes(up), [], 'not with the takeover: the burst goes first');
  t.ok(up.wakeAt !== null && up.wakeAt <= FIRST, `woken by ${FIRST} (wakeAt ${up.wakeAt})`);
  t.same(probes(c.step({ kind: 'tick', now: FIRST - 1 })), [], 'not before it is due');
  const first = probes(c.step({ kind: 'tick', now: FIRST }));
  t.match(first, [{ kind: 'confirm', group: 'web', vip: { address: '198.51.100.100' }, iface: 'eth0', gateway: GW }], 'one probe per IPv4 VIP');
  t.same(probes(c.step({ kind: 'tick', now: FIRST + 500 })), [], 'never a second while one runs');
  t.match(c.groups[0]!.confirm, { state: 'pending', attempts: 1 });
  const r = c.step(answer(FIRST + 2, first[0]!.gid));
  t.match(c.groups[0]!.confirm, { state: 'confirmed', attempts: 1, confirmedAt: FIRST + 2, lastLatency: 0.5, since: 300 });
  t.match(r.notes, [{ level: 'info', msg: /announcement confirmed: gateway 198\.51\.100\.1 answered every VIP after 1 attempt/ }]);
  t.same(announces(r), [], 'nothing re-announced');
  for (const now of [FIRST + 1000, FIRST + 10_000, FIRST + 60_000]) t.same(probes(c.step({ kind: 'tick', now })), [], `no probe at ${now}: the term is confirmed`);
  t.equal(c.groups[0]!.confirmProbes, 1);
});

t.test('silence re-announces in both forms and asks again with a doubling wait, up to the bound', async (t) => {
  const c = core();
  activeAt304(c);
  let gid = probes(c.step({ kind: 'tick', now: FIRST }))[0]!.gid;
  let now = FIRST + 1000; // the probe's one-second deadline
  const waits: number[] = [];
  for (const wait of [250, 500]) {
    const r = c.step(answer(now, gid, '198.51.100.100', false));
    t.match(announces(r), [{ reason: 'unconfirmed', garp: { form: 'both' }, vips: [{ vip: { address: '198.51.100.100' } }] }], 'the VIP announced again');
    t.match(r.notes, [{ level: 'warn', msg: new RegExp(`not confirmed yet.*asking again in ${wait} ms`) }]);
    t.same(probes(c.step({ kind: 'tick', now: now + wait - 1 })), [], `not ${wait - 1} ms after`);
    const next = probes(c.step({ kind: 'tick', now: now + wait }));
    if (next.length === 1) waits.push(wait);
    gid = next[0]?.gid ?? gid;
    now += wait + 1000;
  }
  t.same(waits, [250, 500], 'the wait doubles');
  t.match(c.groups[0]!.confirm, { state: 'pending', attempts: 3 });
  const last = c.step(answer(now, gid, '198.51.100.100', false));
  t.match(c.groups[0]!.confirm, { state: 'unconfirmed', attempts: 3, confirmedAt: null });
  t.match(last.notes, [{ level: 'error', msg: /announcement UNCONFIRMED: gateway 198\.51\.100\.1 did not answer for 198\.51\.100\.100 in 3 attempts/ }]);
  t.same(announces(last), [], 'given up: no more announcing for it');
  t.same(probes(c.step({ kind: 'tick', now: now + 60_000 })), [], 'and no more probes');
  t.equal(c.groups[0]!.confirmProbes, 3);
});

t.test('an answer on a later attempt confirms; a probe that could not run counts as unanswered, with its error', async (t) => {
  const c = core();
  activeAt304(c);
  const gid = probes(c.step({ kind: 'tick', now: FIRST }))[0]!.gid;
  c.step(answer(FIRST + 5, gid, '198.51.100.100', false, 'arping: exit 2: bind: Cannot assign requested address'));
  t.match(c.groups[0]!.confirm, { state: 'pending', lastError: /exit 2/ });
  const again = probes(c.step({ kind: 'tick', now: FIRST + 255 }));
  t.equal(again.length, 1, 'asked again after the first wait');
  c.step(answer(FIRST + 260, gid));
  t.match(c.groups[0]!.confirm, { state: 'confirmed', attempts: 2, confirmedAt: FIRST + 260 });
});

t.test('several VIPs: one probe each, only the unanswered ones asked again, confirmed when all answered', async (t) => {
  const vips = ['198.51.100.100', '198.51.100.101', '2001:db8::100'].map((a) => ({ vip: { address: a, prefix: a.includes(':') ? 128 : 32, family: (a.includes(':') ? 6 : 4) as 4 | 6 }, iface: 'eth0' }));
  const c = core({ vips });
  activeAt304(c);
  const first = probes(c.step({ kind: 'tick', now: FIRST }));
  t.same(first.map((p) => p.vip.address), ['198.51.100.100', '198.51.100.101'], 'the IPv4 VIPs only');
  const gid = first[0]!.gid;
  t.same(announces(c.step(answer(FIRST + 1, gid, '198.51.100.100'))), [], 'nothing decided with one result out');
  const r = c.step(answer(FIRST + 1000, gid, '198.51.100.101', false));
  t.match(announces(r), [{ vips: [{ vip: { address: '198.51.100.101' } }] }], 'the silent one announced again, alone');
  const second = probes(c.step({ kind: 'tick', now: FIRST + 1250 }));
  t.same(second.map((p) => p.vip.address), ['198.51.100.101'], 'and asked again, alone');
  c.step(answer(FIRST + 1251, gid, '198.51.100.101'));
  t.equal(c.groups[0]!.confirm?.state, 'confirmed');
});

t.test('no probes: without a gateway, without a confirmer, in standby; a new term starts again', async (t) => {
  const none = core({ confirm: null });
  activeAt304(none);
  t.same(probes(none.step({ kind: 'tick', now: 5000 })), [], 'no gateway named');
  t.equal(none.groups[0]!.confirm, null);
  const off = core({}, { confirm: null });
  activeAt304(off);
  t.same(probes(off.step({ kind: 'tick', now: 5000 })), [], 'no confirmer (timing null)');

  const c = core({}, { expectedPeers: 1 });
  activeAt304(c);
  const gid = probes(c.step({ kind: 'tick', now: FIRST }))[0]!.gid;
  c.step(answer(FIRST + 1, gid));
  t.equal(c.groups[0]!.confirm?.state, 'confirmed');
  // A better peer takes over: we hand over and leave active; the check is about the current term.
  const hb = { type: 'heartbeat' as const, cluster: 'c', node: 'd1', bootId: 1n, seq: 1n, intervalMs: 50, groups: [{ name: 'web', state: 'active' as const, priority: 200, reach: 0 }] };
  c.step({ kind: 'message', now: 600, msg: hb, address: '198.51.100.11', port: 694 });
  let r = c.step({ kind: 'tick', now: 700 });
  for (const a of r.actions) if (a.kind === 'ensureVip' && !a.present) r = c.step({ kind: 'vipResult', now: 701, group: 'web', gid: a.gid, present: false, ok: true });
  t.not(c.groups[0]!.state, 'active', 'no longer active');
  t.same(probes(c.step({ kind: 'tick', now: 800 })), [], 'no probe out of active');
  t.equal(c.groups[0]!.confirm, null, 'no term shown');
});

t.test('a reload that adds confirm to an active group starts a check; one that removes it stops it', async (t) => {
  const c = core({ confirm: null });
  activeAt304(c);
  t.same(probes(c.step({ kind: 'tick', now: 1000 })), [], 'none configured');
  const options = { interval: 50, deadTime: 150, initDead: 300, expectedPeers: 0 };
  c.step({ kind: 'reconfigure', now: 2000, options: { ...options, groups: [group('web', 150, { confirm: { gateway: GW, attempts: 3 } })] } });
  t.equal(c.groups[0]!.state, 'active', 'the group kept');
  const first = probes(c.step({ kind: 'tick', now: 2140 }));
  t.equal(first.length, 1, 'asked 140 ms after the reload (burst 40 + settle 100)');
  c.step({ kind: 'reconfigure', now: 2500, options: { ...options, groups: [group('web', 150)] } });
  c.step(answer(3140, first[0]!.gid, '198.51.100.100', false));
  t.same(probes(c.step({ kind: 'tick', now: 10_000 })), [], 'removed: no more rounds');
});

t.test('a result for an address the round did not ask from decides nothing', async (t) => {
  const c = core();
  activeAt304(c);
  const gid = probes(c.step({ kind: 'tick', now: FIRST }))[0]!.gid;
  c.step(answer(FIRST + 1, gid, '198.51.100.222'));
  t.match(c.groups[0]!.confirm, { state: 'pending' }, 'still waiting for the real one');
  c.step(answer(FIRST + 2, gid));
  t.match(c.groups[0]!.confirm, { state: 'confirmed' });
});

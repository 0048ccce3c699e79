/**
 * Sync units (src/core/sync.ts, src/config/sync.ts): groups naming the same `sync:` unit rank
 * alike and move together; a fault in one makes the others ineligible; an operator command
 * naming one member acts on the unit; and the configuration checks.
 */
import t from 'tap';
import { Core } from '../../src/core/election.js';
import type { CoreOptions, Input, StepResult } from '../../src/core/types.js';
import type { Message } from '../../src/wire/types.js';
import { group } from '../scenarios/sim.js';
import { parseConfigText } from '../../src/config/load.js';
import { withLines } from './config-harness.js';

const ext = group('ext', 150, { sync: 'nat' });
const int = group('int', 150, { sync: 'nat', vip: { address: '203.0.113.1', prefix: 32, family: 4 } });
const other = group('other', 150, { vip: { address: '198.51.100.101', prefix: 32, family: 4 } });

function core(extra: Partial<CoreOptions> = {}): Core {
  return new Core({ node: 'd0', interval: 50, deadTime: 150, initDead: 300, expectedPeers: 1, groups: [ext, int, other], ...extra });
}

function peer(now: number, seq: bigint, state: 'standby' | 'active', priority = 100): Input {
  const msg: Message = { type: 'heartbeat', cluster: 'c', node: 'd1', bootId: 1n, seq, intervalMs: 50, groups: ['ext', 'int', 'other'].map((name) => ({ name, state, priority, reach: 0 })) };
  return { kind: 'message', now, msg, address: '198.51.100.11', port: 694 };
}

/** d0 active for all three (d1 standby at 100), every VIP in place. */
function allActive(c: Core): void {
  c.step({ kind: 'start', now: 0 });
  for (const g of ['ext', 'int', 'other']) c.step({ kind: 'vipResult', now: 1, group: g, present: false, ok: true });
  c.step(peer(10, 1n, 'standby'));
  for (const g of ['ext', 'int', 'other']) c.step({ kind: 'vipResult', now: 20, group: g, present: true, ok: true });
}

const state = (c: Core): string => c.groups.map((g) => `${g.name}=${g.state}${g.release ? '(releasing)' : ''}`).join(' ');

t.test('a failing check on one member releases the whole unit, and only the unit', async (t) => {
  const c = core();
  allActive(c);
  t.equal(state(c), 'ext=active int=active other=active');
  const r: StepResult = c.step({ kind: 'health', now: 30, group: 'int', penalty: 0, fault: 'check gw failed', reach: 0 });
  t.equal(c.groups[1]!.state, 'fault', 'the member whose check failed: fault');
  t.ok(c.groups[0]!.release !== null, 'its unit sibling hands over');
  t.match(c.groups[0]!.release?.reason, /sync unit nat: int cannot serve here/);
  t.equal(c.groups[2]!.state, 'active', 'a group outside the unit stays');
  const send = r.actions.find((a) => a.kind === 'send');
  t.match(send, { kind: 'send', groups: [{ name: 'ext', priority: 0 }, { name: 'int', priority: 0 }, { name: 'other', priority: 150 }] }, 'peers are told at once: the whole unit at priority 0');
  // d1 takes both: the sibling completes its handover.
  c.step(peer(40, 2n, 'active', 100));
  c.step({ kind: 'tick', now: 80 });
  t.equal(c.groups[0]!.state, 'standby', 'ext handed over');
  t.ok(c.step({ kind: 'tick', now: 81 }).actions.every((a) => a.kind !== 'ensureVip' || !a.present), 'nothing claimed back');
});

t.test('members rank by the unit\'s weakest: a lower priority on one lowers the other', async (t) => {
  const c = core({ groups: [group('ext', 150, { sync: 'nat' }), group('int', 90, { sync: 'nat', vip: { address: '203.0.113.1', prefix: 32, family: 4 } })] });
  c.step({ kind: 'start', now: 0 });
  for (const g of ['ext', 'int']) c.step({ kind: 'vipResult', now: 1, group: g, present: false, ok: true });
  t.same(c.groups.map((g) => c.selfCandidate(g).priority), [90, 90]);
  // d1 advertises 100 for both: it outranks the unit (90), so d0 claims neither.
  c.step(peer(10, 1n, 'standby', 100));
  c.step(peer(60, 2n, 'standby', 100));
  t.same(c.groups.map((g) => g.state), ['standby', 'standby'], 'd1 ranks best for the unit: neither member is claimed here');
});

t.test('an operator command naming one member acts on its unit', async (t) => {
  const c = core();
  allActive(c);
  const r = c.step({ kind: 'command', now: 30, command: { op: 'standby', group: 'ext' } });
  t.match(r.reply?.message, /ext: handing over to the best peer; int: handing over to the best peer/);
  t.ok(c.groups[0]!.release !== null && c.groups[1]!.release !== null, 'both members hand over');
  t.equal(c.groups[2]!.release, null, 'the group outside the unit stays');
});

t.test('configuration: a unit needs two members, no LevIP, a name', async (t) => {
  const two = withLines('    sync: nat').replace(/groups:\n/, 'groups:\n  - name: int\n    vip: 203.0.113.1\n    interface: eth1\n    sync: nat\n');
  const ok = parseConfigText(two, 'haagent.yaml', { hostname: 'd0' });
  t.ok(ok.ok, 'two members', ok.ok ? {} : { issues: ok.issues });
  if (ok.ok) t.same(ok.config.groups.map((g) => g.sync), ['nat', 'nat']);
  const one = parseConfigText(withLines('    sync: nat'), 'haagent.yaml', { hostname: 'd0' });
  t.notOk(one.ok);
  if (!one.ok) t.match(one.issues, [{ path: 'groups[0].sync', expected: /a sync unit another group names too \("nat" has this group only\)/ }]);
  const bad = parseConfigText(withLines('    sync: "n a t"'), 'haagent.yaml', { hostname: 'd0' });
  t.notOk(bad.ok, 'not a name');
});

// The core's LevIP mode (src/core/levip/mode.ts) driven by inputs that carry both clocks: it
// must ask for a reply exactly at the schedule's instants of the slots it owns (docs/levip.md
// "The rotation"), keep the owner's ARP answering on for [slot start, slotEnd - guard) only,
// apply the join rule (slot + 2) and take over a dead owner's slot at once.
import t from 'tap';
import { MAX_SLEEP_MS } from '../../src/core/levip/clock.js';
import { ONE_REPLY } from '../../src/core/levip/mode.js';
import { joinSlot, plan, slotOf, type Member } from '../../src/core/levip/schedule.js';
import { ownerOf } from '../../src/core/levip/sequence.js';
import { formatLevipStatus, levipStatus } from '../../src/levip/status.js';
import { cfg, GUARD, K0, LevRig, PERIOD, REPEAT, T0 } from './levip-rig.js';

/** The instants self should announce at over slots [from, to), from the pure schedule. */
function expectedAnnouncements(self: string, members: Member[], from: number, to: number): number[] {
  const out: number[] = [];
  for (let k = from; k < to; k++) out.push(...plan(k * PERIOD, self, members, { period: PERIOD, guard: GUARD, repeat: REPEAT }).announceAt);
  return out;
}

const members = (rig: LevRig, group = 0) => rig.core.levip.groups()[group]!.members;
const since = (rig: LevRig, node: string) => members(rig).find((m) => m.node === node)?.since;

t.test('a lone member joins two slots later, then announces at every instant of every slot', async (t) => {
  const rig = new LevRig('b');
  rig.start(T0 + 10);
  t.equal(joinSlot(T0 + 10, PERIOD), K0 + 2);
  t.same(members(rig), [{ node: 'b', weight: 1, since: K0 + 2 }], 'a member once its IP is on lo');
  rig.advance(T0 + 5 * PERIOD - 1);
  const expected = expectedAnnouncements('b', members(rig), K0, K0 + 5);
  t.same(rig.replies(), expected, 'exactly the schedule');
  t.equal(expected.length, 3 * 4, 'offsets 0, 125, 250, 375 in slots K0+2..K0+4');
  t.ok(rig.of('announce').every((d) => d.action.vips.length === 1 && d.action.vips[0]!.iface === 'eth0' && d.action.vips[0]!.vip.address === '198.51.100.100' && d.action.garp === ONE_REPLY && d.action.group === 'web'));
  t.same(ONE_REPLY, { count: 1, spacing: 0, form: 'reply', refresh: 0 }, 'one unsolicited reply per instant');
  t.same(rig.switches(), ['10:off', '1000:on', '1450:off', '1500:on', '1950:off', '2000:on', '2450:off'], 'answering only in [slot start, slot end - guard)');
  const g = rig.core.levip.groups()[0]!;
  t.equal(g.slotsOwned, 3);
  t.equal(g.announcements, 12, 'the results came back as inputs');
  t.ok(rig.results.every((r) => r.wakeAt === null || r.wakeAt - rig.offset <= T0 + 5 * PERIOD + MAX_SLEEP_MS), 'never a deadline past the next instant');
});

t.test('wakeAt: the next instant that matters, converted to the monotonic clock, never more than MAX_SLEEP_MS away', async (t) => {
  const rig = new LevRig('b', [cfg('web', 'eth0', { period: 4000, guard: 400, repeat: 1000 })]);
  rig.offset = T0 - 123_456; // the two clocks far apart
  rig.start(T0 + 10);
  t.equal(rig.core.levip.wakeAt, rig.mono + MAX_SLEEP_MS, 'the boundary is 3990 ms away: bounded');
  rig.advance(T0 + 8000 + 100); // the first owned slot
  t.equal(rig.core.levip.wakeAt, rig.mono + 900, 'the next announce instant, 900 ms on');
  const last = rig.results.at(-1)!;
  t.ok(last.wakeAt !== null && last.wakeAt <= rig.core.levip.wakeAt, "the core's deadline includes it");
  rig.advance(T0 + 8000 + 3500);
  t.equal(rig.core.levip.wakeAt, rig.mono + 100, 'the quiet start (slot end - guard)');
});

t.test('three equal members: self announces in its own slots only, a third of them', async (t) => {
  const rig = new LevRig('b');
  rig.start(T0);
  rig.hear('a', 1);
  rig.hear('c', 1);
  const all: Member[] = ['a', 'b', 'c'].map((node) => ({ node, weight: 1, since: K0 + 2 }));
  t.same(members(rig), all);
  // Peers heartbeat every 50 ms: steps between the deadlines too.
  for (let at = T0; at < T0 + 32 * PERIOD; at += 50) {
    rig.advance(at);
    rig.hear('a', 1);
    rig.hear('c', 1);
  }
  rig.advance(T0 + 32 * PERIOD - 1);
  t.same(rig.replies(), expectedAnnouncements('b', all, K0, K0 + 32), 'no extra announcement from the extra steps');
  const owned = new Set(rig.replies().map((at) => slotOf(at, PERIOD)));
  t.equal(owned.size, 10, '10 of the 30 eligible slots');
  for (const k of owned) t.equal(ownerOf(k, all), 'b');
});

t.test('weights 2:1 give self two slots in three', async (t) => {
  const rig = new LevRig('b', [cfg('web', 'eth0', { weight: 2 })]);
  rig.start(T0);
  rig.hear('a', 1);
  rig.advance(T0 + 32 * PERIOD - 1);
  const owned = new Set(rig.replies().map((at) => slotOf(at, PERIOD)));
  t.equal(owned.size, 20, '20 of the 30 eligible slots');
});

t.test('a new member takes part from two slots after it was first seen', async (t) => {
  const rig = new LevRig('b');
  rig.start(T0);
  rig.advance(T0 + 10 * PERIOD + 480);
  rig.hear('a', 3);
  t.same(members(rig), [{ node: 'a', weight: 3, since: K0 + 12 }, { node: 'b', weight: 1, since: K0 + 2 }]);
  const st = levipStatus(rig.core, rig.wall)[0]!;
  t.same(st.next.slice(0, 2).map((s) => s.owner), ['b', 'b'], 'the current and next slot are still ours alone');
  t.ok(st.next.slice(2).some((s) => s.owner === 'a'), 'a owns slots from K0+12');
  t.same(st.next.map((s) => s.start), [10, 11, 12, 13, 14, 15].map((i) => T0 + i * PERIOD));
  rig.hear('a', 5);
  t.equal(members(rig)[0]!.weight, 5, 'a weight change keeps the join slot');
  t.equal(members(rig)[0]!.since, K0 + 12);
  rig.hear('a', 255);
  t.equal(members(rig)[0]!.weight, 100, 'an operator takeover (255) is clamped to the largest weight');
});

t.test('a member heard again with the same boot keeps its join slot; a restart or a standby joins afresh', async (t) => {
  const rig = new LevRig('b');
  rig.start(T0);
  rig.hear('a', 1, 1n);
  t.equal(since(rig, 'a'), K0 + 2);
  rig.advance(T0 + 10 * PERIOD);
  rig.kill('a'); // unheard: a stalled event loop, a partition
  t.equal(since(rig, 'a'), undefined, 'out of the rotation while unheard');
  rig.advance(T0 + 11 * PERIOD);
  rig.hear('a', 1, 1n);
  t.equal(since(rig, 'a'), K0 + 2, 'back with its old join slot, like every node that kept hearing it');

  rig.kill('a');
  rig.advance(T0 + 12 * PERIOD);
  rig.hear('a', 1, 2n);
  t.equal(since(rig, 'a'), K0 + 14, 'restarted (new boot id): a fresh join two slots on');

  rig.advance(T0 + 20 * PERIOD);
  rig.hear('a', null, 2n); // heard as standby: left on purpose
  t.equal(since(rig, 'a'), undefined);
  rig.kill('a'); // then unheard
  rig.advance(T0 + 21 * PERIOD);
  rig.hear('a', 1, 2n);
  t.equal(since(rig, 'a'), K0 + 23, 'after leaving on purpose: a fresh join');

  rig.feed({ kind: 'command', command: { op: 'maintenance', on: true } });
  t.equal(since(rig, 'b'), undefined, 'ourselves in maintenance: out');
  rig.advance(T0 + 30 * PERIOD);
  rig.feed({ kind: 'command', command: { op: 'maintenance', on: false } });
  rig.advance(T0 + 30 * PERIOD + 1);
  t.equal(since(rig, 'b'), K0 + 32, 'ourselves: always a fresh join, as our peers see us leave on purpose');
});

t.test("the owner's death hands us its slot at once, unless the slot is in its quiet tail", async (t) => {
  const all: Member[] = [{ node: 'a', weight: 1, since: K0 + 2 }, { node: 'b', weight: 1, since: K0 + 2 }];
  let k = K0 + 4;
  while (ownerOf(k, all) !== 'a') k++;
  const rig = new LevRig('b');
  rig.start(T0);
  rig.hear('a', 1);
  rig.advance(k * PERIOD + 100);
  const before = rig.replies().length;
  rig.kill('a'); // we are alone
  t.equal(rig.replies().length, before + 1, 'announced at once');
  t.equal(rig.replies().at(-1), k * PERIOD + 100);
  t.equal(rig.switches().at(-1), `${k * PERIOD + 100 - T0}:on`);
  rig.advance(k * PERIOD + 130);
  t.equal(rig.replies().at(-1), k * PERIOD + 125, 'then the regular instants');

  // Same story in the quiet tail of a's slot: wait for the boundary.
  const r2 = new LevRig('b');
  r2.start(T0);
  r2.hear('a', 1);
  r2.advance(k * PERIOD + 470);
  const n = r2.replies().length;
  r2.kill('a');
  t.equal(r2.replies().length, n, 'silent in the quiet tail');
  r2.advance((k + 1) * PERIOD);
  t.equal(r2.replies().at(-1), (k + 1) * PERIOD, 'first reply at the next boundary');
});

t.test('not a member (maintenance): never announces, never answers; still lists the members', async (t) => {
  const rig = new LevRig('b');
  rig.feed({ kind: 'command', command: { op: 'maintenance', on: true } });
  rig.start(T0);
  rig.hear('a', 1);
  rig.hear('c', 1);
  rig.advance(T0 + 20 * PERIOD);
  t.equal(rig.replies().length, 0);
  t.notOk(rig.switches().some((s) => s.endsWith(':on')));
  const st = levipStatus(rig.core, rig.wall)[0]!;
  t.equal(st.member, false);
  t.same(st.members.map((m) => m.node), ['a', 'c']);
  t.equal(st.iOwn, false);
});

t.test('leaving the rotation mid-slot stops announcing and answering at once', async (t) => {
  const rig = new LevRig('b');
  rig.start(T0);
  rig.advance(T0 + 3 * PERIOD + 10);
  t.equal(rig.switches().at(-1), `${3 * PERIOD}:on`);
  const n = rig.replies().length;
  rig.feed({ kind: 'command', command: { op: 'maintenance', on: true } });
  t.equal(rig.switches().at(-1), `${3 * PERIOD + 10}:off`);
  rig.advance(T0 + 10 * PERIOD);
  t.equal(rig.replies().length, n);
});

t.test('two groups on one interface: answer only while owning both', async (t) => {
  const rig = new LevRig('b', [cfg('web'), cfg('api')]);
  rig.start(T0);
  rig.hear('a', 1, 1n, ['api']);
  rig.advance(T0 + 12 * PERIOD);
  const api: Member[] = [{ node: 'a', weight: 1, since: K0 + 2 }, { node: 'b', weight: 1, since: K0 + 2 }];
  const ons = rig.of('levipAnswer').filter((d) => d.action.on).map((d) => slotOf(d.at, PERIOD));
  t.ok(ons.length >= 4);
  for (const k of ons) t.equal(ownerOf(k, api), 'b', `slot ${k} owned in api too`);
  t.ok(rig.of('levipAnswer').every((d) => d.action.iface === 'eth0'));
});

t.test('a clock stepped back does not stop the rotation; a step forward is noticed within MAX_SLEEP_MS', async (t) => {
  const rig = new LevRig('b');
  rig.start(T0);
  rig.advance(T0 + 4 * PERIOD);
  const n = rig.replies().length;
  rig.offset -= PERIOD; // NTP steps the wall clock back by a whole slot
  rig.advance(T0 + 4 * PERIOD);
  t.ok(rig.replies().length > n, 'announcing again in the repeated slot');

  // One-minute slots: our first slot is over a minute away when the wall clock jumps to it.
  // Heartbeats every 10 s: only the mode's own bound wakes the core within MAX_SLEEP_MS.
  const minute = 60_000;
  const r2 = new LevRig('b', [cfg('web', 'eth0', { period: minute, guard: 100, repeat: 30_000 })], 10_000);
  r2.start(T0 + 10);
  const first = members(r2)[0]!.since;
  t.equal(r2.replies().length, 0);
  r2.offset += first * minute - r2.wall; // NTP steps the wall clock forward to that slot's start
  const steppedAt = r2.wall;
  r2.advance(steppedAt + MAX_SLEEP_MS);
  t.equal(r2.replies().length, 1, 'the owned slot is announced within MAX_SLEEP_MS of the step');
  t.ok(r2.replies()[0]! <= steppedAt + MAX_SLEEP_MS);
});

t.test('new rotation settings: every member rejoins; a removed group is forgotten and its interface suppressed', async (t) => {
  const rig = new LevRig('b');
  rig.start(T0);
  rig.hear('a', 1);
  rig.advance(T0 + 10 * PERIOD + 10);
  const options = (groups: ReturnType<typeof cfg>[]) => ({ interval: 1000, deadTime: 3_600_000, initDead: 0, expectedPeers: 0, groups });
  rig.feed({ kind: 'reconfigure', options: options([cfg('web', 'eth0', { period: 1000 })]) });
  t.same(members(rig).map((m) => m.since), [joinSlot(rig.wall, 1000), joinSlot(rig.wall, 1000)]);
  rig.advance(T0 + 20 * PERIOD);
  const switches = rig.switches().length;
  rig.feed({ kind: 'reconfigure', options: options([]) });
  t.same(rig.core.levip.groups(), [], 'a removed group is forgotten');
  t.same(rig.core.levip.wakeAt, Infinity, 'nothing left to wake for');
  const after = rig.switches().slice(switches);
  t.ok(after.length <= 1 && after.every((s) => s.endsWith(':off')), 'the interface is left suppressing');
});

t.test('an input without the wall time is placed on the wall clock by the last offset seen', async (t) => {
  const early = new LevRig('b');
  early.dropWall = true;
  early.start(T0 + 10);
  t.same(early.core.levip.groups(), [], 'no wall time ever: no slot to place, nothing decided');
  t.equal(early.core.levip.wakeAt, Infinity);
  const rig = new LevRig('b');
  rig.start(T0 + 10);
  rig.dropWall = true;
  rig.advance(T0 + 5 * PERIOD - 1);
  t.same(rig.replies(), expectedAnnouncements('b', members(rig), K0, K0 + 5), 'the same schedule');
});

t.test('status lines for `haagent status`', async (t) => {
  const rig = new LevRig('b');
  rig.start(T0);
  rig.hear('a', 2);
  rig.advance(T0 + 3 * PERIOD + 10);
  const lines = formatLevipStatus(levipStatus(rig.core, rig.wall));
  t.equal(lines.length, 4);
  t.match(lines[0], /^levip web {2}198\.51\.100\.100\/32 via eth0 {2}period 500ms guard 50ms repeat 125ms {2}member$/);
  t.equal(lines[1], '  members a/2 b/1');
  const owner = ownerOf(K0 + 3, [{ node: 'a', weight: 2, since: K0 + 2 }, { node: 'b', weight: 1, since: K0 + 2 }]);
  t.match(lines[2], new RegExp(`^  slot ${K0 + 3} owner ${owner}`));
  t.match(lines[2], /next: \S+ in 490ms, \S+ in 990ms/);
  t.match(lines[3], /^ {2}slots owned \d+, replies sent \d+, failed 0$/);
});

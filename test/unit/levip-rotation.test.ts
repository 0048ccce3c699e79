// The LevIP rotation with a fake wall clock, fake timers, a fake announcer and a fake
// host: it must announce exactly at the schedule's instants of the slots it owns (docs/levip.md
// "The rotation"), keep the owner's ARP answering on for [slot start, slotEnd - guard) only,
// apply the join rule (slot + 2) and take over a dead owner's slot at once.
import t from 'tap';
import type { GarpConfig, Vip } from '../../src/config/types.js';
import type { AnnounceOutcome, Announcer } from '../../src/ports/index.js';
import type { LevipGroupConfig } from '../../src/config/vip-device.js';
import { LevipRotation, MAX_SLEEP_MS, ONE_REPLY, type LevipHostPort } from '../../src/levip/rotation.js';
import { joinSlot, plan, slotOf, type Member } from '../../src/levip/schedule.js';
import { ownerOf } from '../../src/levip/sequence.js';
import { formatLevipStatus } from '../../src/levip/status.js';
import type { LevipGroupView, MemberView } from '../../src/levip/view.js';

const PERIOD = 500;
const GUARD = 50;
const REPEAT = 125;
/** A slot boundary (a multiple of the period), so slot arithmetic below stays readable. */
const T0 = 1_700_000_000_000;
const K0 = T0 / PERIOD;

export class Env {
  wall = T0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  private nextId = 0;
  delays: number[] = [];
  readonly timerPort = {
    setTimeout: (fn: () => void, ms: number): unknown => {
      this.delays.push(ms);
      const id = ++this.nextId;
      this.timers.set(id, { at: this.wall + ms, fn });
      return id;
    },
    clearTimeout: (h: unknown): void => void this.timers.delete(h as number),
  };

  pending(): number {
    return this.timers.size;
  }

  /** Runs every timer due up to `to`, moving the wall clock to each one's instant. */
  advance(to: number): void {
    for (let guard = 0; guard < 100_000; guard++) {
      let next: [number, { at: number; fn: () => void }] | null = null;
      for (const e of this.timers) if (e[1].at <= to && (next === null || e[1].at < next[1].at)) next = e;
      if (next === null) break;
      this.timers.delete(next[0]);
      this.wall = Math.max(this.wall, next[1].at);
      next[1].fn();
    }
    this.wall = to;
  }
}

export class FakeAnnouncer implements Announcer {
  calls: { at: number; vip: Vip; iface: string; garp: GarpConfig }[] = [];
  fail: string | null = null;
  constructor(private readonly env: Env) {}
  announce(vip: Vip, iface: string, garp: GarpConfig): Promise<AnnounceOutcome> {
    this.calls.push({ at: this.env.wall, vip, iface, garp });
    return Promise.resolve(this.fail ? { sent: 0, errors: [this.fail] } : { sent: 1, errors: [] });
  }
  close(): void {}
}

export class FakeHost implements LevipHostPort {
  prepares: string[] = [];
  answers: { at: number; iface: string; on: boolean }[] = [];
  failAnswers = 0;
  failPrepare = false;
  constructor(private readonly env: Env) {}
  prepare(iface: string): Promise<{ done: string[]; warnings: string[] }> {
    this.prepares.push(iface);
    return this.failPrepare ? Promise.reject(new Error('EACCES')) : Promise.resolve({ done: [], warnings: [] });
  }
  answer(iface: string, on: boolean): Promise<void> {
    if (this.failAnswers > 0) {
      this.failAnswers--;
      return Promise.reject(new Error('EIO'));
    }
    this.answers.push({ at: this.env.wall, iface, on });
    return Promise.resolve();
  }
}

const quietLog = { lines: [] as string[], debug() {}, info() {}, warn(_: object, m: string) { quietLog.lines.push(m); }, error(_: object, m: string) { quietLog.lines.push(m); } };

export function cfg(name = 'web', iface = 'eth0', timing: Partial<LevipGroupConfig['levip']> = {}): LevipGroupConfig {
  return {
    name,
    mode: 'levip',
    levip: { period: PERIOD, guard: GUARD, repeat: REPEAT, weight: 1, ...timing },
    vip: { address: name === 'web' ? '198.51.100.100' : '198.51.100.101', prefix: 32, family: 4 },
    interface: iface,
    priority: 100,
    preempt: true,
    preemptDelay: 0,
    garp: { count: 3, spacing: 20, form: 'both', refresh: 0 },
  };
}

export function view(c: LevipGroupConfig, selfWeight: number | null, peers: MemberView[] = [], others: string[] = [], self = 'b'): LevipGroupView {
  return { cfg: c, self: selfWeight === null ? null : { node: self, weight: selfWeight }, peers, others };
}

function setup(node = 'b') {
  const env = new Env();
  const announcer = new FakeAnnouncer(env);
  const host = new FakeHost(env);
  const rotation = new LevipRotation({ node, wallClock: () => env.wall, timers: env.timerPort, announcer, host, log: quietLog });
  return { env, announcer, host, rotation };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

/** The instants self should announce at over slots [from, to), from the pure schedule. */
function expectedAnnouncements(self: string, members: Member[], from: number, to: number): number[] {
  const out: number[] = [];
  for (let k = from; k < to; k++) out.push(...plan(k * PERIOD, self, members, { period: PERIOD, guard: GUARD, repeat: REPEAT }).announceAt);
  return out;
}

t.test('a lone member joins two slots later, then announces at every instant of every slot', async (t) => {
  const { env, announcer, host, rotation } = setup();
  env.wall = T0 + 10;
  rotation.update([view(cfg(), 1)]);
  t.equal(joinSlot(env.wall, PERIOD), K0 + 2);
  env.advance(T0 + 5 * PERIOD - 1);
  const members = [{ node: 'b', weight: 1, since: K0 + 2 }];
  t.same(announcer.calls.map((c) => c.at), expectedAnnouncements('b', members, K0, K0 + 5), 'exactly the schedule');
  t.equal(announcer.calls.length, 3 * 4, 'offsets 0, 125, 250, 375 in slots K0+2..K0+4');
  t.ok(announcer.calls.every((c) => c.iface === 'eth0' && c.vip.address === '198.51.100.100' && c.garp === ONE_REPLY));
  t.same(ONE_REPLY, { count: 1, spacing: 0, form: 'reply', refresh: 0 }, 'one arping -A per instant');
  const onOff = host.answers.map((a) => `${(a.at - T0)}:${a.on ? 'on' : 'off'}`);
  t.same(onOff, ['10:off', '1000:on', '1450:off', '1500:on', '1950:off', '2000:on', '2450:off'], 'answering only in [slot start, slot end - guard)');
  await flush();
  const st = rotation.status()[0]!;
  t.equal(st.slotsOwned, 3);
  t.equal(st.announcements, 12);
  t.ok(env.delays.every((d) => d >= 0 && d <= MAX_SLEEP_MS), 'every sleep bounded');
});

t.test('three equal members: self announces in its own slots only, a third of them', async (t) => {
  const { env, announcer, rotation } = setup('b');
  rotation.update([view(cfg(), 1, [{ node: 'a', weight: 1 }, { node: 'c', weight: 1 }])]);
  const members: Member[] = ['a', 'b', 'c'].map((node) => ({ node, weight: 1, since: K0 + 2 }));
  // Peers heartbeat every 50 ms: update() runs between the timer wakes too.
  for (let at = T0; at < T0 + 32 * PERIOD; at += 50) {
    env.advance(at);
    rotation.update([view(cfg(), 1, [{ node: 'a', weight: 1 }, { node: 'c', weight: 1 }])]);
  }
  env.advance(T0 + 32 * PERIOD - 1);
  t.same(announcer.calls.map((c) => c.at), expectedAnnouncements('b', members, K0, K0 + 32), 'no extra announcement from the extra updates');
  const owned = new Set(announcer.calls.map((c) => slotOf(c.at, PERIOD)));
  t.equal(owned.size, 10, '10 of the 30 eligible slots');
  for (const k of owned) t.equal(ownerOf(k, members), 'b');
});

t.test('weights 2:1 give self two slots in three', async (t) => {
  const { env, announcer, rotation } = setup('b');
  rotation.update([view(cfg(), 2, [{ node: 'a', weight: 1 }])]);
  env.advance(T0 + 32 * PERIOD - 1);
  const owned = new Set(announcer.calls.map((c) => slotOf(c.at, PERIOD)));
  t.equal(owned.size, 20, '20 of the 30 eligible slots');
});

t.test('a new member takes part from two slots after it was first seen', async (t) => {
  const { env, rotation } = setup('b');
  rotation.update([view(cfg(), 1)]);
  env.advance(T0 + 10 * PERIOD + 480);
  rotation.update([view(cfg(), 1, [{ node: 'a', weight: 3 }])]);
  const st = rotation.status()[0]!;
  t.same(st.members, [{ node: 'a', weight: 3, since: K0 + 12 }, { node: 'b', weight: 1, since: K0 + 2 }]);
  t.same(st.next.slice(0, 2).map((s) => s.owner), ['b', 'b'], 'the current and next slot are still ours alone');
  t.ok(st.next.slice(2).some((s) => s.owner === 'a'), 'a owns slots from K0+12');
  t.same(st.next.map((s) => s.start), [10, 11, 12, 13, 14, 15].map((i) => T0 + i * PERIOD));
  rotation.update([view(cfg(), 1, [{ node: 'a', weight: 5 }])]);
  t.equal(rotation.status()[0]!.members[0]!.weight, 5, 'a weight change keeps the join slot');
  t.equal(rotation.status()[0]!.members[0]!.since, K0 + 12);
});

t.test('a member heard again with the same boot keeps its join slot; a restart or a standby joins afresh', async (t) => {
  const { env, rotation } = setup('b');
  const a1 = { node: 'a', weight: 1, boot: '1' };
  rotation.update([view(cfg(), 1, [a1])]);
  const since = () => rotation.status()[0]!.members.find((m) => m.node === 'a')?.since;
  t.equal(since(), K0 + 2);
  env.advance(T0 + 10 * PERIOD);
  rotation.update([view(cfg(), 1)]); // unheard for the dead time: a stalled event loop, a partition
  t.equal(since(), undefined, 'out of the rotation while unheard');
  env.advance(T0 + 11 * PERIOD);
  rotation.update([view(cfg(), 1, [a1])]);
  t.equal(since(), K0 + 2, 'back with its old join slot, like every node that kept hearing it');

  rotation.update([view(cfg(), 1)]);
  env.advance(T0 + 12 * PERIOD);
  rotation.update([view(cfg(), 1, [{ ...a1, boot: '2' }])]);
  t.equal(since(), K0 + 14, 'restarted (new boot id): a fresh join two slots on');

  env.advance(T0 + 20 * PERIOD);
  rotation.update([view(cfg(), 1, [], ['a'])]); // heard as standby: left on purpose
  rotation.update([view(cfg(), 1)]); // then unheard
  env.advance(T0 + 21 * PERIOD);
  rotation.update([view(cfg(), 1, [{ ...a1, boot: '2' }])]);
  t.equal(since(), K0 + 23, 'after leaving on purpose: a fresh join');

  rotation.update([view(cfg(), null, [{ ...a1, boot: '2' }])]);
  env.advance(T0 + 30 * PERIOD);
  rotation.update([view(cfg(), 1, [{ ...a1, boot: '2' }])]);
  t.equal(rotation.status()[0]!.members.find((m) => m.node === 'b')?.since, K0 + 32, 'ourselves: always a fresh join, as our peers see us leave on purpose');
});

t.test("the owner's death hands us its slot at once, unless the slot is in its quiet tail", async (t) => {
  const { env, announcer, host, rotation } = setup('b');
  const peers = [{ node: 'a', weight: 1 }];
  rotation.update([view(cfg(), 1, peers)]);
  const members: Member[] = [{ node: 'a', weight: 1, since: K0 + 2 }, { node: 'b', weight: 1, since: K0 + 2 }];
  let k = K0 + 4;
  while (ownerOf(k, members) !== 'a') k++;
  env.advance(k * PERIOD + 100);
  const before = announcer.calls.length;
  rotation.update([view(cfg(), 1)]); // a is dead: we are alone
  t.equal(announcer.calls.length, before + 1, 'announced at once');
  t.equal(announcer.calls.at(-1)!.at, k * PERIOD + 100);
  t.same(host.answers.at(-1), { at: k * PERIOD + 100, iface: 'eth0', on: true });
  env.advance(k * PERIOD + 130);
  t.equal(announcer.calls.at(-1)!.at, k * PERIOD + 125, 'then the regular instants');

  // Same story in the quiet tail of a's slot: wait for the boundary.
  const s2 = setup('b');
  s2.rotation.update([view(cfg(), 1, peers)]);
  s2.env.advance(k * PERIOD + 470);
  const n = s2.announcer.calls.length;
  s2.rotation.update([view(cfg(), 1)]);
  t.equal(s2.announcer.calls.length, n, 'silent in the quiet tail');
  s2.env.advance((k + 1) * PERIOD);
  t.equal(s2.announcer.calls.at(-1)!.at, (k + 1) * PERIOD, 'first reply at the next boundary');
});

t.test('not a member (releasing, fault, standby): never announces, never answers', async (t) => {
  const { env, announcer, host, rotation } = setup('b');
  rotation.update([view(cfg(), null, [{ node: 'a', weight: 1 }, { node: 'c', weight: 1 }])]);
  env.advance(T0 + 20 * PERIOD);
  t.equal(announcer.calls.length, 0);
  t.notOk(host.answers.some((a) => a.on));
  const st = rotation.status()[0]!;
  t.equal(st.member, false);
  t.same(st.members.map((m) => m.node), ['a', 'c']);
  t.equal(st.iOwn, false);
});

t.test('leaving the rotation mid-slot stops announcing and answering at once', async (t) => {
  const { env, announcer, host, rotation } = setup('b');
  rotation.update([view(cfg(), 1)]);
  env.advance(T0 + 3 * PERIOD + 10);
  t.equal(host.answers.at(-1)!.on, true);
  const n = announcer.calls.length;
  rotation.update([view(cfg(), null)]);
  t.same(host.answers.at(-1), { at: T0 + 3 * PERIOD + 10, iface: 'eth0', on: false });
  env.advance(T0 + 10 * PERIOD);
  t.equal(announcer.calls.length, n);
});

t.test('two groups on one interface: answer only while owning both', async (t) => {
  const { env, host, rotation } = setup('b');
  const views = () => [view(cfg('web'), 1), view(cfg('api'), 1, [{ node: 'a', weight: 1 }])];
  rotation.update(views());
  env.advance(T0 + 12 * PERIOD);
  const api: Member[] = [{ node: 'a', weight: 1, since: K0 + 2 }, { node: 'b', weight: 1, since: K0 + 2 }];
  const ons = host.answers.filter((a) => a.on).map((a) => slotOf(a.at, PERIOD));
  t.ok(ons.length >= 4);
  for (const k of ons) t.equal(ownerOf(k, api), 'b', `slot ${k} owned in api too`);
  t.ok(host.answers.every((a) => a.iface === 'eth0'));
});

t.test('prepare: once per interface, before anything; a failure rejects and is retried', async (t) => {
  const { host, rotation } = setup('b');
  await rotation.prepare([cfg('web', 'eth0'), cfg('api', 'eth0'), cfg('x', 'eth1')]);
  t.same(host.prepares, ['eth0', 'eth1']);
  await rotation.prepare([cfg('web', 'eth0')]);
  t.same(host.prepares, ['eth0', 'eth1'], 'idempotent');
  rotation.update([view(cfg('new', 'eth2'), 1)]);
  t.same(host.prepares, ['eth0', 'eth1', 'eth2'], 'a group added by a reload sets its interface up');
  const s = setup('b');
  s.host.failPrepare = true;
  await t.rejects(s.rotation.prepare([cfg()]), /EACCES/);
  await flush();
  s.host.failPrepare = false;
  await s.rotation.prepare([cfg()]);
  t.same(s.host.prepares, ['eth0', 'eth0']);
});

t.test('errors: a failed reply is counted and logged; a failed switch is asked again', async (t) => {
  const { env, announcer, host, rotation } = setup('b');
  announcer.fail = 'spawn arping ENOENT';
  rotation.update([view(cfg(), 1)]);
  host.failAnswers = 1;
  env.advance(T0 + 2 * PERIOD + 1);
  await flush();
  t.equal(rotation.status()[0]!.announceErrors, 1);
  t.ok(quietLog.lines.some((l) => /unsolicited ARP reply failed: spawn arping ENOENT/.test(l)));
  t.ok(quietLog.lines.some((l) => /cannot turn ARP answering on on eth0: Error: EIO/.test(l)));
  t.same(host.answers.map((a) => a.on), [false], 'the "on" at the slot start failed');
  env.advance(T0 + 2 * PERIOD + 130);
  t.same(host.answers.map((a) => [a.at - T0, a.on]), [[0, false], [1125, true]], 'asked again at the next wake');
  env.advance(T0 + 2 * PERIOD + 460);
  t.same(host.answers.map((a) => a.on), [false, true, false]);
});

t.test('a clock stepped back does not stop the rotation', async (t) => {
  const { env, announcer, rotation } = setup('b');
  rotation.update([view(cfg(), 1)]);
  env.advance(T0 + 4 * PERIOD);
  const n = announcer.calls.length;
  env.wall = T0 + 3 * PERIOD; // NTP step back by a whole slot
  rotation.update([view(cfg(), 1)]);
  env.advance(T0 + 4 * PERIOD);
  t.ok(announcer.calls.length > n, 'announcing again in the repeated slot');
});

t.test('new rotation settings: every member rejoins', async (t) => {
  const { env, rotation } = setup('b');
  rotation.update([view(cfg(), 1, [{ node: 'a', weight: 1 }])]);
  env.advance(T0 + 10 * PERIOD);
  rotation.update([view(cfg('web', 'eth0', { period: 1000 }), 1, [{ node: 'a', weight: 1 }])]);
  t.same(rotation.status()[0]!.members.map((m) => m.since), [joinSlot(env.wall, 1000), joinSlot(env.wall, 1000)]);
  rotation.update([]);
  t.same(rotation.status(), [], 'a removed group is forgotten');
});

t.test('close: no timer left, updates ignored', async (t) => {
  const { env, announcer, rotation } = setup('b');
  rotation.update([view(cfg(), 1)]);
  t.ok(env.pending() > 0);
  rotation.close();
  t.equal(env.pending(), 0);
  rotation.update([view(cfg(), 1)]);
  env.advance(T0 + 10 * PERIOD);
  t.equal(announcer.calls.length, 0);
});

t.test('status lines for `haagent status`', async (t) => {
  const { env, rotation } = setup('b');
  rotation.update([view(cfg(), 1, [{ node: 'a', weight: 2 }])]);
  env.advance(T0 + 3 * PERIOD + 10);
  const lines = formatLevipStatus(rotation.status());
  t.equal(lines.length, 4);
  t.match(lines[0], /^levip web {2}198\.51\.100\.100\/32 via eth0 {2}period 500ms guard 50ms repeat 125ms {2}member$/);
  t.equal(lines[1], '  members a/2 b/1');
  const owner = ownerOf(K0 + 3, [{ node: 'a', weight: 2, since: K0 + 2 }, { node: 'b', weight: 1, since: K0 + 2 }]);
  t.match(lines[2], new RegExp(`^  slot ${K0 + 3} owner ${owner}`));
  t.match(lines[2], /next: \S+ in 490ms, \S+ in 990ms/);
  t.match(lines[3], /slots owned \d+, replies sent \d+, failed 0/);
});

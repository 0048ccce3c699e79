/**
 * The election driven input by input with a manual clock: fault handling, VIP result
 * ordering, start-up learning, shutdown, wake-up deadlines, and the rank function.
 */
import t from 'tap';
import { Core } from '../../src/core/election.js';
import { best, compareRank, outranks } from '../../src/core/rank.js';
import type { Action, CoreOptions, StepResult } from '../../src/core/types.js';
import type { Message } from '../../src/wire/types.js';
import { group } from '../scenarios/sim.js';
import { DEFAULTS } from '../../src/config/defaults.js';

function core(extra: Partial<CoreOptions> = {}): Core {
  return new Core({ node: 'd0', interval: 50, deadTime: 150, initDead: 300, expectedPeers: 1, groups: [group('web', 150)], ...extra });
}

function kinds(r: StepResult): string[] {
  return r.actions.map((a: Action) => (a.kind === 'ensureVip' ? `vip:${a.present ? 'add' : 'del'}` : a.kind === 'send' ? `send:${a.type}` : a.kind));
}

function hb(node: string, state: 'init' | 'standby' | 'active' | 'fault', priority: number, seq = 1n, type: Message['type'] = 'heartbeat'): Message {
  return { type, cluster: 'c', node, bootId: 1n, seq, intervalMs: 50, groups: [{ name: 'web', state, priority, reach: 0 }] };
}

t.test('rank: priority first, then the smaller node name; priority 0 is never best', async (t) => {
  t.ok(outranks({ node: 'z', priority: 2 }, { node: 'a', priority: 1 }));
  t.ok(outranks({ node: 'a', priority: 1 }, { node: 'b', priority: 1 }));
  t.equal(compareRank({ node: 'a', priority: 1 }, { node: 'a', priority: 1 }), 0);
  t.equal(best([{ node: 'a', priority: 0 }]), null);
  t.same(best([{ node: 'b', priority: 5 }, { node: 'a', priority: 5 }, { node: 'c', priority: 4 }]), { node: 'a', priority: 5 });
});

t.test('start clears a leftover VIP first and stays in init until it is confirmed gone', async (t) => {
  const c = core({ expectedPeers: 0 });
  const r = c.step({ kind: 'start', now: 0 });
  t.same(kinds(r), ['vip:del', 'send:probe'], 'a probe: peers answer at once, so init can end as soon as every one is heard');
  t.equal(r.wakeAt, 50);
  const r2 = c.step({ kind: 'tick', now: 400 });
  t.equal(c.groups[0]!.state, 'init', 'VIP removal still pending');
  t.same(r2.transitions, []);
  const r3 = c.step({ kind: 'vipResult', now: 401, group: 'web', present: false, ok: true });
  t.same(r3.transitions.map((x) => x.to), ['standby', 'active']);
  t.same(kinds(r3), ['vip:add', 'send:heartbeat']);
  t.equal(c.advertised(c.groups[0]!).state, 'standby', 'not advertised active before the VIP is there');
  const r4 = c.step({ kind: 'vipResult', now: 405, group: 'web', present: true, ok: true });
  t.same(kinds(r4), ['announce', 'send:heartbeat']);
  t.equal(c.advertised(c.groups[0]!).state, 'active');
});

t.test('init ends early once every configured peer was heard', async (t) => {
  const c = core();
  c.step({ kind: 'start', now: 0 });
  c.step({ kind: 'vipResult', now: 5, group: 'web', present: false, ok: true });
  const r = c.step({ kind: 'message', now: 20, msg: hb('d1', 'init', 100), address: '198.51.100.11', port: 694 });
  t.same(r.transitions.map((x) => `${x.from}->${x.to}:${x.reason}`), ['init->standby:heard every peer', 'standby->active:no active peer; we rank best']);
});

t.test('init learns an active peer and stays standby below it', async (t) => {
  const c = core({ groups: [group('web', 100)] });
  c.step({ kind: 'start', now: 0 });
  c.step({ kind: 'vipResult', now: 5, group: 'web', present: false, ok: true });
  const r = c.step({ kind: 'message', now: 20, msg: hb('d1', 'active', 150), address: 'x', port: 694 });
  t.same(r.transitions.map((x) => x.to), ['standby']);
  t.equal(c.groups[0]!.holder, 'd1');
});

t.test('a failed add goes to fault, clears the VIP, retries with backoff', async (t) => {
  const c = core({ expectedPeers: 0 });
  c.step({ kind: 'start', now: 0 });
  c.step({ kind: 'vipResult', now: 5, group: 'web', present: false, ok: true });
  c.step({ kind: 'tick', now: 300 });
  t.equal(c.groups[0]!.state, 'active');
  const r = c.step({ kind: 'vipResult', now: 305, group: 'web', present: true, ok: false, error: 'RTNETLINK answers: No such device' });
  t.same(r.transitions.map((x) => x.to), ['fault']);
  t.same(kinds(r), ['vip:del', 'send:heartbeat']);
  t.match(r.notes[0]!.msg, /cannot add VIP: RTNETLINK/);
  t.equal(c.advertised(c.groups[0]!).priority, 0, 'out of the election');
  t.equal(r.wakeAt, Math.min(305 + DEFAULTS.election.faultRetryMin, 355));
  c.step({ kind: 'vipResult', now: 310, group: 'web', present: false, ok: true });
  const r2 = c.step({ kind: 'tick', now: 305 + DEFAULTS.election.faultRetryMin });
  t.same(r2.transitions.map((x) => x.to), ['standby'], 'retries: back in standby, listening first');
  t.same(kinds(r2), ['send:probe'], 'asking the peers where they are');
  const r2b = c.step({ kind: 'tick', now: 305 + DEFAULTS.election.faultRetryMin + 150 });
  t.same(r2b.transitions.map((x) => x.to), ['active'], 'nobody answered within the dead time: claims');
  const r3 = c.step({ kind: 'vipResult', now: 1400, group: 'web', present: true, ok: false, error: 'again' });
  t.same(r3.transitions.map((x) => x.to), ['fault']);
  t.equal(c.groups[0]!.retryAt, 1400 + 2 * DEFAULTS.election.faultRetryMin, 'backoff doubles');
});

t.test('a failed remove does not spin: it waits for the retry deadline', async (t) => {
  const c = core({ expectedPeers: 0 });
  const r0 = c.step({ kind: 'start', now: 0 });
  t.same(kinds(r0), ['vip:del', 'send:probe']);
  const r = c.step({ kind: 'vipResult', now: 4, group: 'web', present: false, ok: false, error: 'ip: timeout' });
  t.same(r.transitions.map((x) => x.to), ['fault']);
  t.notOk(kinds(r).includes('vip:del'), 'no immediate retry');
  const r2 = c.step({ kind: 'tick', now: 4 + DEFAULTS.election.faultRetryMin });
  t.ok(kinds(r2).includes('vip:del'), 'retried at the deadline');
  t.equal(c.groups[0]!.state, 'fault', 'stays in fault until the VIP is known gone');
  c.step({ kind: 'vipResult', now: 1010, group: 'web', present: false, ok: true });
  const r3 = c.step({ kind: 'tick', now: 4 + 3 * DEFAULTS.election.faultRetryMin });
  t.same(r3.transitions.map((x) => x.to), ['standby']);
  t.same(c.step({ kind: 'tick', now: 4 + 3 * DEFAULTS.election.faultRetryMin + 150 }).transitions.map((x) => x.to), ['active'], 'after listening for the dead time');
});

t.test('dual active: the lower-ranked side releases after the handover grace, the winner re-announces', async (t) => {
  const c = core({ groups: [group('web', 100)], expectedPeers: 0 });
  c.step({ kind: 'start', now: 0 });
  c.step({ kind: 'vipResult', now: 1, group: 'web', present: false, ok: true });
  c.step({ kind: 'tick', now: 300 });
  c.step({ kind: 'vipResult', now: 304, group: 'web', present: true, ok: true });
  const lose = c.step({ kind: 'message', now: 310, msg: hb('d1', 'active', 150), address: 'x', port: 694 });
  t.same(lose.transitions, [], 'still answering while the winner re-announces');
  t.same(kinds(lose), ['send:heartbeat']);
  t.equal(lose.wakeAt, 310 + c.handoverGrace, 'wakes when the grace ends');
  t.ok(c.handoverGrace < 50, 'the grace is under one heartbeat interval');
  const gone = c.step({ kind: 'tick', now: 310 + c.handoverGrace });
  t.same(gone.transitions.map((x) => x.reason), ['dual active: d1 outranks us: handed over to d1']);
  t.same(kinds(gone), ['vip:del', 'send:heartbeat']);

  const w = core({ expectedPeers: 0 });
  w.step({ kind: 'start', now: 0 });
  w.step({ kind: 'vipResult', now: 1, group: 'web', present: false, ok: true });
  w.step({ kind: 'tick', now: 300 });
  w.step({ kind: 'vipResult', now: 304, group: 'web', present: true, ok: true });
  const win = w.step({ kind: 'message', now: 310, msg: hb('d1', 'active', 100), address: 'x', port: 694 });
  t.same(win.transitions, []);
  t.ok(kinds(win).includes('announce'));
  const again = w.step({ kind: 'message', now: 320, msg: hb('d1', 'active', 100, 2n), address: 'x', port: 694 });
  t.notOk(kinds(again).includes('announce'), 'rate limited to once per dead time');
});

t.test('a resigning peer is not a holder: the standby takes over at once', async (t) => {
  const c = core({ groups: [group('web', 100)] });
  c.step({ kind: 'start', now: 0 });
  c.step({ kind: 'vipResult', now: 1, group: 'web', present: false, ok: true });
  c.step({ kind: 'message', now: 10, msg: hb('d1', 'active', 150), address: 'x', port: 694 });
  t.equal(c.groups[0]!.state, 'standby');
  const r = c.step({ kind: 'message', now: 40, msg: hb('d1', 'active', 0, 2n, 'resign'), address: 'x', port: 694 });
  t.same(r.transitions.map((x) => x.to), ['active']);
});

t.test('peer death is a deadline; an overdue peer is probed first', async (t) => {
  const c = core({ groups: [group('web', 100)] });
  c.step({ kind: 'start', now: 0 });
  c.step({ kind: 'vipResult', now: 1, group: 'web', present: false, ok: true });
  const r = c.step({ kind: 'message', now: 10, msg: hb('d1', 'active', 150), address: '198.51.100.11', port: 694 });
  t.equal(r.wakeAt, 60, 'our next heartbeat (a triggered one went out at 10)');
  const r2 = c.step({ kind: 'tick', now: 60 });
  t.equal(r2.wakeAt, 61, 'd1 heard at 10 with a 50 ms interval: overdue after 61');
  const r3 = c.step({ kind: 'message', now: 60.5, msg: hb('d1', 'active', 150, 2n), address: '198.51.100.11', port: 694 });
  t.equal(r3.wakeAt, 110, 'heard in time: our next heartbeat');
  t.same(kinds(c.step({ kind: 'tick', now: 110 })), ['send:heartbeat']);
  const late = c.step({ kind: 'tick', now: 111.5 });
  t.same(kinds(late), ['send:probe'], 'd1 overdue: probed at once');
  t.equal(late.wakeAt, 121.5, 'and every fifth of its interval');
  for (let at = 121.5; at < 210; at += 10) c.step({ kind: 'tick', now: at });
  t.equal(c.groups[0]!.state, 'standby', 'no answer, but no ICMP either: alive until the dead time');
  const r4 = c.step({ kind: 'tick', now: 210.5 });
  t.same(r4.transitions.map((x) => x.to), ['active']);
  t.match(r4.notes.map((n) => n.msg), [/peer d1 dead: silent for 150 ms/]);
});

/** A standby core that has heard d1 (active) on time every interval up to `until`. */
function hearing(until: number): Core {
  const c = core({ groups: [group('web', 100)] });
  c.step({ kind: 'start', now: 0 });
  c.step({ kind: 'vipResult', now: 1, group: 'web', present: false, ok: true });
  for (let at = 10, seq = 1n; at <= until; at += 50, seq++) c.step({ kind: 'message', now: at, msg: hb('d1', 'active', 150, seq), address: '198.51.100.11', port: 694 });
  return c;
}

t.test('ICMP port unreachable is a hint: a probe goes out at once, and only no answer is a death', async (t) => {
  const c = hearing(110);
  const r = c.step({ kind: 'unreachable', now: 120, address: '198.51.100.11' });
  t.same(r.transitions, [], 'not dead on the word of an unauthenticated ICMP error');
  t.same(kinds(r), ['send:probe'], 'an authenticated probe, at once');
  t.match(r.notes[0]!.msg, /ICMP port unreachable .*probing/);
  t.equal(r.wakeAt, 120 + DEFAULTS.election.confirmFloor, 'woken when the answer is overdue');
  t.same(c.step({ kind: 'tick', now: 123 }).transitions, [], 'still within the bound');
  const r2 = c.step({ kind: 'tick', now: 124 });
  t.same(r2.transitions.map((x) => x.to), ['active'], 'no answer: gone');
  t.match(r2.notes.map((n) => n.msg), [/peer d1 dead: port unreachable and no answer to a probe within 4\.0 ms/]);
});

t.test('a peer that answers refutes the hint; ICMP errors on that path are then ignored for a while', async (t) => {
  const c = hearing(110);
  c.step({ kind: 'unreachable', now: 120, address: '198.51.100.11' });
  const answer = c.step({ kind: 'message', now: 121, msg: hb('d1', 'active', 150, 9n), address: '198.51.100.11', port: 694 });
  t.match(answer.notes.map((n) => n.msg), [/answered after an ICMP port unreachable .*forged/]);
  t.equal(c.peers.get('d1')!.refutedHints, 1, 'counted');
  t.same(c.step({ kind: 'tick', now: 130 }).transitions, [], 'alive');
  const again = c.step({ kind: 'unreachable', now: 140, address: '198.51.100.11' });
  t.same(kinds(again), [], 'ignored: no probe, no deadline');
  t.equal(c.step({ kind: 'tick', now: 150 }).transitions.length, 0);
  t.equal(c.groups[0]!.state, 'standby');
  // Once the hold is over, a hint counts again (a real crash after a forgery is still fast).
  for (let at = 160, seq = 10n; at <= 121 + DEFAULTS.election.hintHold + 50; at += 50, seq++) c.step({ kind: 'message', now: at, msg: hb('d1', 'active', 150, seq), address: '198.51.100.11', port: 694 });
  const late = c.step({ kind: 'unreachable', now: 121 + DEFAULTS.election.hintHold + 60, address: '198.51.100.11' });
  t.same(kinds(late), ['send:probe']);
});

t.test('the bound for an answer grows with how late the peer has been, up to half the dead time', async (t) => {
  const c = core({ groups: [group('web', 100)] });
  c.step({ kind: 'start', now: 0 });
  c.step({ kind: 'vipResult', now: 1, group: 'web', present: false, ok: true });
  c.step({ kind: 'message', now: 10, msg: hb('d1', 'active', 150, 1n), address: 'x', port: 694 });
  c.step({ kind: 'message', now: 70, msg: hb('d1', 'active', 150, 2n), address: 'x', port: 694 }); // 10 ms late
  const r = c.step({ kind: 'unreachable', now: 80, address: 'x' });
  t.equal(r.wakeAt, 80 + DEFAULTS.election.confirmFloor + 2 * 10);
  c.step({ kind: 'message', now: 81, msg: hb('d1', 'active', 150, 3n), address: 'x', port: 694 }); // the answer
  c.step({ kind: 'message', now: 200, msg: hb('d1', 'active', 150, 4n), address: 'x', port: 694 }); // 69 ms late
  t.equal(c.peers.confirmMs(c.peers.get('d1')!, 200), 75, 'capped at half the dead time');
});

t.test('shutdown while standby: release and exit without waiting', async (t) => {
  const c = core({ groups: [group('web', 100)] });
  c.step({ kind: 'start', now: 0 });
  c.step({ kind: 'vipResult', now: 1, group: 'web', present: false, ok: true });
  c.step({ kind: 'message', now: 10, msg: hb('d1', 'active', 150), address: 'x', port: 694 });
  const r = c.step({ kind: 'shutdown', now: 20 });
  t.same(kinds(r), ['send:resign', 'exit']);
  t.equal(r.wakeAt, null);
});

t.test('shutdown while active waits for the successor, then the grace, then releases', async (t) => {
  const c = core({ expectedPeers: 1 });
  c.step({ kind: 'start', now: 0 });
  c.step({ kind: 'vipResult', now: 1, group: 'web', present: false, ok: true });
  c.step({ kind: 'message', now: 10, msg: hb('d1', 'standby', 100), address: 'x', port: 694 });
  c.step({ kind: 'vipResult', now: 14, group: 'web', present: true, ok: true });
  t.equal(c.groups[0]!.state, 'active');
  const r = c.step({ kind: 'shutdown', now: 100 });
  t.same(kinds(r), ['send:resign']);
  t.equal(c.advertised(c.groups[0]!).priority, 0);
  const r2 = c.step({ kind: 'message', now: 106, msg: hb('d1', 'active', 100, 2n), address: 'x', port: 694 });
  t.same(r2.transitions, [], 'still serving during the grace');
  t.equal(r2.wakeAt, 106 + c.handoverGrace);
  const r3 = c.step({ kind: 'tick', now: 106 + c.handoverGrace });
  t.same(kinds(r3), ['vip:del', 'send:resign']);
  const r4 = c.step({ kind: 'vipResult', now: 130, group: 'web', present: false, ok: true });
  t.same(kinds(r4), ['exit']);
});

t.test('shutdown with a silent successor releases at the dead time', async (t) => {
  const c = core({ expectedPeers: 1 });
  c.step({ kind: 'start', now: 0 });
  c.step({ kind: 'vipResult', now: 1, group: 'web', present: false, ok: true });
  c.step({ kind: 'message', now: 10, msg: hb('d1', 'standby', 100), address: 'x', port: 694 });
  c.step({ kind: 'vipResult', now: 14, group: 'web', present: true, ok: true });
  c.step({ kind: 'message', now: 99, msg: hb('d1', 'standby', 100, 2n), address: 'x', port: 694 });
  c.step({ kind: 'shutdown', now: 100 });
  const r = c.step({ kind: 'tick', now: 248 });
  t.equal(c.groups[0]!.state, 'active');
  t.equal(r.wakeAt, 249, 'peer dead at 249: heard at 99 + 150');
  const r2 = c.step({ kind: 'tick', now: 249 });
  t.same(r2.transitions.map((x) => x.reason), ['shutting down: no live peer to hand over to']);
});

t.test('takeover advertises the takeover priority and preempts regardless of preempt=false', async (t) => {
  const c = core({ groups: [group('web', 100, { preempt: false })] });
  c.step({ kind: 'start', now: 0 });
  c.step({ kind: 'vipResult', now: 1, group: 'web', present: false, ok: true });
  c.step({ kind: 'message', now: 10, msg: hb('d1', 'active', 150), address: 'x', port: 694 });
  t.equal(c.groups[0]!.state, 'standby');
  const r = c.step({ kind: 'command', now: 20, command: { op: 'takeover' } });
  t.same(r.reply, { ok: true, message: 'web: taking over' });
  t.same(r.transitions.map((x) => x.to), ['active']);
  t.equal(c.selfCandidate(c.groups[0]!).priority, DEFAULTS.election.takeoverPriority);
  t.same(c.step({ kind: 'command', now: 30, command: { op: 'takeover', group: 'nope' } }).reply, { ok: false, message: 'no group named nope' });
  t.equal(c.step({ kind: 'tick', now: 40 }).reply, undefined, 'only a command carries a reply');
});

t.test('illegal transitions throw', async (t) => {
  const c = core();
  t.throws(() => c.groups[0]!.become('active', 0, 'test', []), /illegal transition init -> active/);
});

t.test('a failing fault check puts the group in fault and releases; recovery returns it to the election', async (t) => {
  const c = core({ expectedPeers: 0 });
  c.step({ kind: 'start', now: 0 });
  c.step({ kind: 'vipResult', now: 1, group: 'web', present: false, ok: true });
  c.step({ kind: 'tick', now: 300 });
  c.step({ kind: 'vipResult', now: 304, group: 'web', present: true, ok: true });
  const r = c.step({ kind: 'health', now: 400, group: 'web', penalty: 0, fault: 'check lb-http failing', reach: 0 });
  t.same(r.transitions.map((x) => `${x.to}:${x.reason}`), ['fault:check lb-http failing']);
  t.same(kinds(r), ['vip:del', 'send:heartbeat']);
  c.step({ kind: 'vipResult', now: 405, group: 'web', present: false, ok: true });
  const idle = c.step({ kind: 'tick', now: 5000 });
  t.same(idle.transitions, [], 'stays in fault while the check fails, whatever the retry timer');
  t.equal(c.groups[0]!.faultReason, 'check lb-http failing');
  const back = c.step({ kind: 'health', now: 6000, group: 'web', penalty: 0, fault: null, reach: 0 });
  t.same(back.transitions.map((x) => x.to), ['standby'], 'recovered: back in the election at once, listening first');
  t.same(c.step({ kind: 'tick', now: 6150 }).transitions.map((x) => x.to), ['active'], 'no peer heard within the dead time: claims');
});

t.test('weights lower the advertised priority; the uplink count outranks priority', async (t) => {
  const c = core({ groups: [group('web', 150)] });
  c.step({ kind: 'start', now: 0 });
  c.step({ kind: 'vipResult', now: 1, group: 'web', present: false, ok: true });
  c.step({ kind: 'health', now: 2, group: 'web', penalty: 20, fault: null, reach: 1 });
  t.same(c.selfCandidate(c.groups[0]!), { node: 'd0', priority: 130, reach: 1 });
  t.equal(c.advertised(c.groups[0]!).reach, 1);
  // d1 has a lower priority but reaches both ping nodes: it wins the election
  const msg: Message = { type: 'heartbeat', cluster: 'c', node: 'd1', bootId: 1n, seq: 1n, intervalMs: 50, groups: [{ name: 'web', state: 'active', priority: 100, reach: 2 }] };
  c.step({ kind: 'message', now: 10, msg, address: 'x', port: 694 });
  t.equal(c.groups[0]!.state, 'standby', 'no preempt over a better-connected peer');
  t.ok(outranks({ node: 'z', priority: 1, reach: 2 }, { node: 'a', priority: 254, reach: 1 }));
});

t.test('quorum: a node that hears too few nodes neither claims nor keeps the VIP', async (t) => {
  const c = core({ expectedPeers: 2, quorum: 2 });
  c.step({ kind: 'start', now: 0 });
  c.step({ kind: 'vipResult', now: 1, group: 'web', present: false, ok: true });
  const r = c.step({ kind: 'tick', now: 300 });
  t.same(r.transitions.map((x) => x.to), ['standby'], 'alone: no claim');
  const r2 = c.step({ kind: 'message', now: 310, msg: hb('d1', 'standby', 100), address: 'x', port: 694 });
  t.same(r2.transitions.map((x) => x.to), ['active'], 'two of three: claims');
  c.step({ kind: 'vipResult', now: 315, group: 'web', present: true, ok: true });
  const r3 = c.step({ kind: 'tick', now: 460 });
  t.same(r3.transitions.map((x) => x.reason), ['lost quorum: hear fewer than 2 of the configured nodes']);
});

t.test('when the loser of a dual active releases, the winner re-announces (its late GARP may have won the router)', async (t) => {
  const c = core({ expectedPeers: 0 });
  c.step({ kind: 'start', now: 0 });
  c.step({ kind: 'vipResult', now: 1, group: 'web', present: false, ok: true });
  c.step({ kind: 'tick', now: 300 });
  c.step({ kind: 'vipResult', now: 304, group: 'web', present: true, ok: true });
  const dual = c.step({ kind: 'message', now: 310, msg: hb('d1', 'active', 100), address: 'x', port: 694 });
  t.ok(kinds(dual).includes('announce'), 'dual active: we outrank d1, announce');
  const again = c.step({ kind: 'message', now: 330, msg: hb('d1', 'active', 100, 2n), address: 'x', port: 694 });
  t.notOk(kinds(again).includes('announce'), 'rate limited while d1 still claims');
  const yielded = c.step({ kind: 'message', now: 340, msg: hb('d1', 'standby', 100, 3n), address: 'x', port: 694 });
  t.match(yielded.actions.find((a) => a.kind === 'announce'), { reason: 'a peer released the VIP: re-announcing' });
  const quiet = c.step({ kind: 'message', now: 350, msg: hb('d1', 'standby', 100, 4n), address: 'x', port: 694 });
  t.notOk(kinds(quiet).includes('announce'), 'once per release');
});

t.test('probes: an overdue peer is probed every fifth of its interval; a probe is answered at once, rate-limited', async (t) => {
  const c = core({ groups: [group('web', 100)], deadTime: 500 });
  c.step({ kind: 'start', now: 0 });
  c.step({ kind: 'vipResult', now: 1, group: 'web', present: false, ok: true });
  const sends = (r: StepResult) => kinds(r).filter((k) => k.startsWith('send:'));
  c.step({ kind: 'message', now: 10, msg: hb('d1', 'active', 150, 1n), address: 'x', port: 694 });
  // Heard at 10 with intervalMs 50 and no lateness yet: overdue past 61.
  t.same(sends(c.step({ kind: 'tick', now: 60 })), ['send:heartbeat'], 'not overdue: a heartbeat');
  const r = c.step({ kind: 'tick', now: 61 });
  t.same(sends(r), ['send:probe'], 'overdue: a probe');
  t.equal(r.wakeAt, 71, 'the next one a fifth of an interval later');
  t.same(sends(c.step({ kind: 'tick', now: 71 })), ['send:probe']);
  // Heard again: back to plain heartbeats at the interval.
  c.step({ kind: 'message', now: 75, msg: hb('d1', 'active', 150, 2n), address: 'x', port: 694 });
  t.same(sends(c.step({ kind: 'tick', now: 125 })), ['send:heartbeat']);
  t.equal(c.groups[0]!.holder, 'd1', 'no failover: the peer answered');
  t.ok(c.peers.overdueMargin(c.peers.get('d1')!, 125) >= 2 * 15, 'it came 15 ms late: the margin grows with that');

  // Answering: a probe from d1 makes us send at once, at most once per millisecond.
  t.same(sends(c.step({ kind: 'message', now: 210, msg: hb('d1', 'active', 150, 3n, 'probe'), address: 'x', port: 694 })), ['send:heartbeat'], 'answered at once');
  t.same(sends(c.step({ kind: 'message', now: 210.5, msg: hb('d1', 'active', 150, 4n, 'probe'), address: 'x', port: 694 })), [], 'not again within a millisecond');
  t.same(sends(c.step({ kind: 'message', now: 211, msg: hb('d1', 'active', 150, 5n, 'probe'), address: 'x', port: 694 })), ['send:heartbeat'], 'again a millisecond later');
  t.equal(c.peers.get('d1')?.resigned, false, 'a probe is a heartbeat, not a resign');
});

t.test('probes: none to a resigned or dead peer, none when turned off, resign wins while stopping', async (t) => {
  const c = core({ groups: [group('web', 100)], deadTime: 500 });
  c.step({ kind: 'start', now: 0 });
  c.step({ kind: 'vipResult', now: 1, group: 'web', present: false, ok: true });
  c.step({ kind: 'message', now: 10, msg: hb('d1', 'standby', 150, 1n, 'resign'), address: 'x', port: 694 });
  t.notMatch(kinds(c.step({ kind: 'tick', now: 200 })), ['send:probe'], 'a resigned peer is not probed');
  const off = core({ groups: [group('web', 100)], deadTime: 500, probes: false });
  off.step({ kind: 'start', now: 0 });
  off.step({ kind: 'message', now: 10, msg: hb('d1', 'active', 150), address: 'x', port: 694 });
  t.same(kinds(off.step({ kind: 'tick', now: 300 })).filter((k) => k.startsWith('send')), ['send:heartbeat'], 'probes off: heartbeats only');
  const d = core({ groups: [group('web', 100)], deadTime: 500 });
  d.step({ kind: 'start', now: 0 });
  d.step({ kind: 'message', now: 10, msg: hb('d1', 'active', 150), address: 'x', port: 694 });
  t.same(kinds(d.step({ kind: 'tick', now: 600 })).filter((k) => k.startsWith('send')), ['send:heartbeat'], 'past the dead time: dead, not suspect');
  d.step({ kind: 'message', now: 610, msg: hb('d1', 'active', 150, 2n), address: 'x', port: 694 });
  d.step({ kind: 'shutdown', now: 700 });
  t.same(kinds(d.step({ kind: 'tick', now: 760 })).filter((k) => k.startsWith('send')), ['send:resign'], 'stopping: resign, never probe');
});

t.test('a health fault that clears leaves fault as soon as the VIP is gone, with no retry backoff', async (t) => {
  const c = core({ expectedPeers: 0 });
  c.step({ kind: 'start', now: 0 });
  c.step({ kind: 'vipResult', now: 1, group: 'web', present: false, ok: true });
  c.step({ kind: 'tick', now: 300 });
  c.step({ kind: 'vipResult', now: 301, group: 'web', present: true, ok: true });
  t.equal(c.groups[0]!.state, 'active');
  // The link goes down, then comes back: fault, then recovery.
  const r = c.step({ kind: 'health', now: 400, group: 'web', penalty: 0, fault: 'link eth0 down', reach: 0 });
  t.same(r.transitions.map((x) => x.to), ['fault']);
  t.equal(r.wakeAt, 450, 'no retry deadline: only the next heartbeat');
  c.step({ kind: 'health', now: 402, group: 'web', penalty: 0, fault: null, reach: 0 });
  t.equal(c.groups[0]!.state, 'fault', 'the VIP removal is still in flight');
  const back = c.step({ kind: 'vipResult', now: 405, group: 'web', present: false, ok: true });
  t.same(back.transitions.map((x) => `${x.from}->${x.to}`), ['fault->standby'], 'back at once, not faultRetryMin later');
  t.same(c.step({ kind: 'tick', now: 555 }).transitions.map((x) => x.to), ['active']);
  // A VIP failure still backs off.
  const f = c.step({ kind: 'vipResult', now: 560, group: 'web', present: true, ok: false, error: 'RTNETLINK answers: No such device' });
  t.same(f.transitions.map((x) => x.to), ['fault']);
  c.step({ kind: 'vipResult', now: 562, group: 'web', present: false, ok: true });
  t.equal(c.groups[0]!.state, 'fault', 'a failed add waits for its retry');
});

t.test('health not known yet is no fault: no claim meanwhile, and an active node keeps its VIP', async (t) => {
  const c = core({ expectedPeers: 0 });
  c.step({ kind: 'start', now: 0 });
  c.step({ kind: 'health', now: 0, group: 'web', penalty: 0, fault: null, pending: 'link eth0 state not known yet', reach: 0 });
  c.step({ kind: 'vipResult', now: 1, group: 'web', present: false, ok: true });
  const r = c.step({ kind: 'tick', now: 300 });
  t.same(r.transitions.map((x) => `${x.from}->${x.to}`), ['init->standby'], 'init ends, but no claim and no fault');
  t.equal(c.advertised(c.groups[0]!).priority, 0, 'not a candidate while waiting');
  const known = c.step({ kind: 'health', now: 320, group: 'web', penalty: 0, fault: null, pending: null, reach: 0 });
  t.same(known.transitions.map((x) => `${x.from}->${x.to}`), ['standby->active'], 'claims once the link is known up');
  c.step({ kind: 'vipResult', now: 321, group: 'web', present: true, ok: true });
  const added = c.step({ kind: 'health', now: 400, group: 'web', penalty: 0, fault: null, pending: 'check new has not passed yet', reach: 0 });
  t.same(added.transitions, [], 'a check added by reload does not take the VIP away');
  t.equal(c.advertised(c.groups[0]!).priority, 150);
});

t.test('one VIP change in flight per group: a flap never queues a re-add of a VIP already lost', async (t) => {
  const c = core({ groups: [group('web', 100)] });
  c.step({ kind: 'start', now: 0 });
  c.step({ kind: 'vipResult', now: 1, group: 'web', present: false, ok: true });
  c.step({ kind: 'message', now: 10, msg: hb('d1', 'active', 150, 1n), address: 'x', port: 694 });
  const claim = c.step({ kind: 'tick', now: 160 }); // d1 silent: we claim
  t.same(kinds(claim).filter((k) => k.startsWith('vip')), ['vip:add']);
  // d1 is back and outranks us before our add even finished: we want the VIP gone...
  const lost = c.step({ kind: 'message', now: 161, msg: hb('d1', 'active', 150, 2n), address: 'x', port: 694 });
  t.same(kinds(lost).filter((k) => k.startsWith('vip')), [], '...but the add is still in flight: nothing queued');
  // ...and we flap once more while it runs: still nothing queued.
  c.step({ kind: 'tick', now: 320 });
  const back = c.step({ kind: 'message', now: 321, msg: hb('d1', 'active', 150, 3n), address: 'x', port: 694 });
  t.same(kinds(back).filter((k) => k.startsWith('vip')), []);
  const done = c.step({ kind: 'vipResult', now: 322, group: 'web', present: true, ok: true });
  t.same(kinds(done).filter((k) => k.startsWith('vip') || k === 'announce'), ['vip:del'], 'the add finished: removed at once, never announced');
  const gone = c.step({ kind: 'vipResult', now: 323, group: 'web', present: false, ok: true });
  t.same(kinds(gone).filter((k) => k.startsWith('vip')), [], 'settled');
  t.equal(c.groups[0]!.state, 'standby');
});

t.test('back from fault the peer table is stale: listen before claiming, unless every peer answers or one is active', async (t) => {
  const c = core({ groups: [group('web', 150)] }); // one configured peer
  c.step({ kind: 'start', now: 0 });
  c.step({ kind: 'vipResult', now: 1, group: 'web', present: false, ok: true });
  c.step({ kind: 'message', now: 2, msg: hb('d1', 'standby', 100, 1n), address: 'x', port: 694 });
  c.step({ kind: 'vipResult', now: 3, group: 'web', present: true, ok: true });
  t.equal(c.groups[0]!.state, 'active');
  // Our link goes down: fault; meanwhile d1 (unheard by us) takes the VIP.
  c.step({ kind: 'health', now: 100, group: 'web', penalty: 0, fault: 'link eth0 down', reach: 0 });
  c.step({ kind: 'vipResult', now: 101, group: 'web', present: false, ok: true });
  c.step({ kind: 'tick', now: 400 }); // d1 is dead to us by now
  const up = c.step({ kind: 'health', now: 500, group: 'web', penalty: 0, fault: null, reach: 0 });
  t.same(up.transitions.map((x) => x.to), ['standby'], 'link back: standby, but no claim on a stale table');
  t.ok(kinds(up).includes('send:probe'), 'and a probe, so the live peers answer at once');
  const answer = c.step({ kind: 'message', now: 501, msg: hb('d1', 'active', 200, 9n), address: 'x', port: 694 });
  t.same(answer.transitions, [], 'd1 is active (and outranks us now): no dual active from our side');
  t.same(kinds(answer).filter((k) => k.startsWith('vip')), []);
});

t.test('an ICMP error after an overdue probe went unanswered is a death at once (the crash case)', async (t) => {
  const c = hearing(110);
  const probe = c.step({ kind: 'tick', now: 161 });
  t.same(kinds(probe), ['send:probe'], 'd1 overdue: probed');
  t.same(c.step({ kind: 'tick', now: 166 }).transitions, [], 'no answer yet, but no ICMP either: alive');
  // The crashed agent's socket closes only once its memory is freed; then its kernel answers.
  const r = c.step({ kind: 'unreachable', now: 170, address: '198.51.100.11' });
  t.same(r.transitions.map((x) => x.to), ['active'], 'the probe at 161 is 9 ms unanswered: no need to ask again');
  t.match(r.notes.map((n) => n.msg), [/ICMP port unreachable/, /dead: port unreachable and no answer to a probe within 9\.0 ms/]);
});

t.test('an ICMP error right after a probe waits out the answer bound', async (t) => {
  const c = hearing(110);
  c.step({ kind: 'tick', now: 161 });
  const r = c.step({ kind: 'unreachable', now: 162, address: '198.51.100.11' });
  t.same(r.transitions, []);
  t.same(kinds(r), [], 'a probe is already out: no second one');
  t.equal(r.wakeAt, 161 + DEFAULTS.election.confirmFloor);
  t.same(c.step({ kind: 'tick', now: 161 + DEFAULTS.election.confirmFloor }).transitions.map((x) => x.to), ['active']);
});

t.test('the active node follows the standby\'s cadence: it sends with each heartbeat it receives, its timer only a fallback', async (t) => {
  const c = core({ expectedPeers: 0 });
  c.step({ kind: 'start', now: 0 });
  c.step({ kind: 'vipResult', now: 1, group: 'web', present: false, ok: true });
  c.step({ kind: 'tick', now: 300 });
  c.step({ kind: 'vipResult', now: 301, group: 'web', present: true, ok: true }); // active
  const sends = (r: StepResult) => kinds(r).filter((k) => k.startsWith('send:'));
  t.same(sends(c.step({ kind: 'message', now: 305, msg: hb('d1', 'standby', 100, 1n), address: 'x', port: 694 })), ['send:heartbeat'], 'a new peer hears us at once');
  const f = c.step({ kind: 'message', now: 355, msg: hb('d1', 'standby', 100, 2n), address: 'x', port: 694 });
  t.same(sends(f), ['send:heartbeat'], 'ours due at 367.5, within half an interval: sent with the received one');
  t.equal(f.wakeAt, 355 + 50 + 1, 'woken only if d1 is overdue; our own timer is at 355 + 62.5');
  t.same(sends(c.step({ kind: 'message', now: 380, msg: hb('d1', 'standby', 100, 3n), address: 'x', port: 694 })), [], 'an early one: ours not due within half an interval');
  t.same(sends(c.step({ kind: 'message', now: 405, msg: hb('d1', 'standby', 100, 4n), address: 'x', port: 694 })), ['send:heartbeat'], 'and with the next one: one wake-up per interval');
  t.same(sends(c.step({ kind: 'tick', now: 405 + 62.5 })), ['send:probe'], 'd1 silent: the timer takes over (a probe: d1 is overdue by then)');
  const quiet = core({ groups: [group('web', 100)] });
  quiet.step({ kind: 'start', now: 0 });
  quiet.step({ kind: 'vipResult', now: 1, group: 'web', present: false, ok: true });
  quiet.step({ kind: 'message', now: 10, msg: hb('d1', 'active', 150, 1n), address: 'x', port: 694 });
  t.same(sends(quiet.step({ kind: 'message', now: 55, msg: hb('d1', 'active', 150, 2n), address: 'x', port: 694 })), [], 'a standby keeps its own timer');
});

t.test('our own stall is not the peer\'s silence: a late tick adds its lateness to the dead time', async (t) => {
  const c = hearing(110); // d1 heard at 110, dead time 150: dead at 260 if silent
  // Our loop freezes from 120 until 300 (a whole-machine pause): the tick due at 160 fires 140 ms late.
  const r = c.step({ kind: 'tick', now: 300, late: 140 });
  t.same(r.transitions, [], 'd1 is not dead: for 140 of its 190 ms of silence we could not have heard it');
  t.match(r.notes.map((n) => n.msg), [/stalled 140 ms/]);
  t.equal(c.peers.nextDeadline(300), 260 + 140, 'its dead time moved by the stall');
  const back = c.step({ kind: 'message', now: 301, msg: hb('d1', 'active', 150, 9n), address: '198.51.100.11', port: 694 });
  t.same(back.transitions, [], 'and it speaks right after: nothing moved');
  // A real death during a stall is found late by at most the stall.
  const d = hearing(110);
  d.step({ kind: 'tick', now: 200, late: 30 });
  t.same(d.step({ kind: 'tick', now: 289 }).transitions, []);
  t.same(d.step({ kind: 'tick', now: 290 }).transitions.map((x) => x.to), ['active'], 'dead at 260 + 30');
  t.same(c.step({ kind: 'tick', now: 310, late: 1 }).notes, [], 'a millisecond is the timer\'s own slack, not a stall');
});

t.test('an ICMP error that quotes a heartbeat we sent is the peer host\'s own answer: dead at once', async (t) => {
  const c = hearing(110);
  const r = c.step({ kind: 'unreachable', now: 120, address: '198.51.100.11', verified: true });
  t.same(r.transitions.map((x) => x.to), ['active'], 'no probe to wait for');
  t.match(r.notes.map((n) => n.msg), [/peer d1 dead: its host refused our heartbeat/]);
  t.equal(c.peers.get('d1')!.refutedHints, 0);
  const back = c.step({ kind: 'message', now: 500, msg: { ...hb('d1', 'standby', 100, 1n), bootId: 2n }, address: '198.51.100.11', port: 694 });
  t.match(back.notes.map((n) => n.msg), [/peer d1 restarted/], 'its next run is a new boot, heard as such');
});

t.test('a group removed by reload while its VIP is being added is released once the add finishes', async (t) => {
  const c = core({ expectedPeers: 0 });
  c.step({ kind: 'start', now: 0 });
  c.step({ kind: 'vipResult', now: 1, group: 'web', present: false, ok: true });
  const claim = c.step({ kind: 'tick', now: 300 });
  t.same(kinds(claim).filter((k) => k.startsWith('vip')), ['vip:add']);
  const gid = c.groups[0]!.id;
  const { groups: _g, node: _n, maintenance: _m, ...rest } = c.opts;
  const r = c.step({ kind: 'reconfigure', now: 301, options: { ...rest, groups: [] } });
  t.same(kinds(r).filter((k) => k.startsWith('vip')), [], 'the add is still in flight: one change at a time');
  const added = c.step({ kind: 'vipResult', now: 302, group: 'web', gid, present: true, ok: true });
  t.same(kinds(added).filter((k) => k.startsWith('vip')), ['vip:del'], 'then the removal');
  c.step({ kind: 'vipResult', now: 303, group: 'web', gid, present: false, ok: true });
  t.same(c.retired, [], 'and the group is forgotten');
});

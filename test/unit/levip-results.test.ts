// The results of the LevIP mode's actions come back to the core as inputs, and the core decides
// what a failure calls for (src/core/levip/answering.ts, mode.ts): a failed ARP answering switch
// is counted and asked again at the next instant (not at every step); three failed switches in
// a row, the last an `off`, fault the interface's groups (the IP leaves lo); a failed reply is
// counted and the next announce instant is its retry. The driver feeds both results back.
import t from 'tap';
import { FAULT_AFTER } from '../../src/core/levip/answering.js';
import type { Input } from '../../src/core/types.js';
import { formatLevipStatus, levipStatus } from '../../src/levip/status.js';
import type { Member } from '../../src/core/levip/schedule.js';
import { ownerOf } from '../../src/core/levip/sequence.js';
import { parse, withLines } from './config-harness.js';
import { rig as driverRig } from './driver-rig.js';
import { announceOffsets } from '../../src/core/levip/schedule.js';
import { cfg, GUARD, K0, LevRig, PERIOD, REPEAT, T0 } from './levip-rig.js';

const notes = (rig: LevRig) => rig.results.flatMap((r) => r.notes.map((n) => n.msg));

t.test('a failed switch comes back, is counted and asked again at the next instant, not at the next step', async (t) => {
  const rig = new LevRig('b');
  rig.start(T0);
  rig.advance(T0 + 2 * PERIOD - 1);
  rig.failAnswers = 1;
  rig.advance(T0 + 2 * PERIOD); // our first slot: the "on" fails
  t.same(rig.switches().slice(-1), ['1000:on']);
  t.ok(notes(rig).includes('levip: cannot turn ARP answering on on eth0: EIO'), 'logged');
  const g = () => rig.core.levip.groups()[0]!;
  t.equal(g().answerErrors, 1, 'counted');
  t.equal(g().answering, false, 'not known to be on');
  for (let at = T0 + 2 * PERIOD + 10; at < T0 + 2 * PERIOD + 125; at += 10) {
    rig.advance(at);
    rig.hear('a', null); // a non-member peer: a step every 10 ms
  }
  t.same(rig.switches().slice(-1), ['1000:on'], 'not asked again at every step');
  rig.advance(T0 + 2 * PERIOD + 125);
  t.same(rig.switches().slice(-2), ['1000:on', '1125:on'], 'asked again at the next announce instant');
  t.equal(g().answering, true);
  rig.advance(T0 + 2 * PERIOD + 460);
  t.same(rig.switches().slice(-1), ['1450:off']);
  t.equal(g().answerErrors, 1);
  t.match(formatLevipStatus(levipStatus(rig.core, rig.wall))[3], /answering switch failed 1$/);
  t.equal(rig.core.groups[0]!.state, 'active', 'one failure: no fault');
});

t.test(`${FAULT_AFTER} failed switches in a row, the last an off: the interface's groups fault, the IP leaves lo`, async (t) => {
  const all: Member[] = [{ node: 'a', weight: 1, since: K0 + 2 }, { node: 'b', weight: 1, since: K0 + 2 }];
  let k = K0 + 4;
  while (ownerOf(k, all) !== 'b') k++;
  const rig = new LevRig('b', [cfg('web'), cfg('api', 'eth1')]);
  rig.start(T0);
  rig.hear('a', 1);
  rig.advance(k * PERIOD + 100);
  t.equal(rig.of('levipAnswer').at(-1)?.action.on, true, 'our slot');
  rig.failAnswers = 100;
  rig.failIface = 'eth0';
  rig.answerError = 'ENOENT: no such file';
  const eth0 = () => rig.of('levipAnswer').filter((d) => d.action.iface === 'eth0').map((d) => `${d.at - T0}:${d.action.on ? 'on' : 'off'}`);
  const asked = eth0().length;
  const web = rig.core.groups[0]!;
  for (let at = k * PERIOD + 150; at < (k + 3) * PERIOD && web.state !== 'fault'; at += 50) {
    rig.advance(at);
    rig.hear('a', 1);
  }
  const failed = eth0().slice(asked);
  t.comment(`requests while failing: ${failed.join(' ')}`);
  const instants = [...announceOffsets({ period: PERIOD, guard: GUARD, repeat: REPEAT }), PERIOD - GUARD];
  t.ok(failed.every((s) => instants.includes(Number(s.split(':')[0]) % PERIOD)), 'each asked at an instant of the schedule, not at a heartbeat step');
  t.equal(new Set(failed.map((s) => s.split(':')[0])).size, failed.length, 'once per instant');
  t.ok(failed.length >= FAULT_AFTER && failed.at(-1)!.endsWith(':off'), `at least ${FAULT_AFTER} failures, the last an off`);
  t.notOk(failed.slice(FAULT_AFTER - 1, -1).some((s) => s.endsWith(':off')), 'the fault came at the first off that qualified');
  t.equal(web.state, 'fault');
  t.equal(web.faultReason, 'cannot turn ARP answering off on eth0: ENOENT: no such file');
  t.ok(rig.of('ensureVip').some((d) => d.action.group === 'web' && !d.action.present && d.at >= k * PERIOD), 'the IP is taken off lo');
  t.equal(rig.core.groups[1]!.state, 'active', 'a group on another interface stays');
  t.notOk(rig.core.levip.groups()[0]!.member, 'out of the rotation');

  rig.failAnswers = 0; // the interface is back
  rig.advance(rig.wall + 3000);
  t.equal(web.state, 'active', 'back after the fault backoff');
  t.ok(rig.core.levip.groups()[0]!.member);
});

t.test('a failed reply is counted and logged; the next instant of the slot is its retry; never a fault', async (t) => {
  const rig = new LevRig('b');
  rig.start(T0);
  rig.announceError = 'spawn arping ENOENT';
  rig.advance(T0 + 2 * PERIOD + 1);
  const g = () => rig.core.levip.groups()[0]!;
  t.same(rig.replies(), [T0 + 2 * PERIOD], 'one request at the slot start');
  t.equal(g().announceErrors, 1);
  t.equal(g().announcements, 0);
  t.ok(notes(rig).includes('levip: unsolicited ARP reply failed: spawn arping ENOENT'));
  rig.advance(T0 + 2 * PERIOD + 124);
  t.equal(rig.replies().length, 1, 'no retry before the next instant');
  rig.announceError = null;
  rig.advance(T0 + 2 * PERIOD + 125);
  t.same(rig.replies(), [T0 + 2 * PERIOD, T0 + 2 * PERIOD + 125]);
  t.equal(g().announcements, 1);
  t.equal(rig.core.groups[0]!.state, 'active');
});

t.test('the driver performs the switch and feeds its outcome back as an input, failures included', async (t) => {
  const config = parse(withLines('    mode: levip', '    levip: { period: 500ms, guard: 50ms, repeat: 125ms }'));
  const inputs: Input[] = [];
  const asked: string[] = [];
  const r = driverRig(config, {
    wall: () => T0 + 10,
    arpAnswering: {
      answer: (iface, on) => {
        asked.push(`${iface} ${on ? 'on' : 'off'}`);
        return Promise.reject(new Error('EACCES: permission denied'));
      },
    },
    onStep: (_r, input) => void inputs.push(input),
  });
  r.driver.start();
  for (let i = 0; i < 10 && !inputs.some((x) => x.kind === 'levipAnswerResult'); i++) await new Promise((resolve) => setImmediate(resolve));
  t.same(asked, ['eth0 off'], 'the core asked for the switch at start');
  t.match(inputs.find((x) => x.kind === 'levipAnswerResult'), { kind: 'levipAnswerResult', iface: 'eth0', on: false, ok: false, error: 'EACCES: permission denied', wall: T0 + 10 });
  t.ok(inputs.every((x) => x.wall === T0 + 10), 'every input the driver feeds carries the wall time');
  t.equal(r.driver.view().levip.groups()[0]!.answerErrors, 1, 'and the core counted it');

  const seen: Input[] = [];
  const b = driverRig(config, { wall: () => T0 + 10, onStep: (_r, input) => void seen.push(input) });
  b.driver.start();
  for (let i = 0; i < 10 && !seen.some((x) => x.kind === 'levipAnswerResult'); i++) await new Promise((resolve) => setImmediate(resolve));
  t.match(seen.find((x) => x.kind === 'levipAnswerResult'), { ok: false, error: /no ARP answering switch/ }, 'without the port: a failure, not a crash');
  b.driver.stop();
  r.driver.stop();
});

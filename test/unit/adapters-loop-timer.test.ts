/** The driver's one deadline on the addon's libuv timer: moving it re-arms in place. */
import t from 'tap';
import { loopTimers, type TimerNative } from '../../src/adapters/loop-timer.js';

function fake() {
  const log: string[] = [];
  let fire: (() => void) | null = null;
  const native = {
    timerNew: (cb: () => void) => {
      fire = cb;
      return { id: 1 };
    },
    timerStart: (_t: unknown, ms: number) => void log.push(`start ${ms}`),
    timerStop: () => void log.push('stop'),
  } as unknown as TimerNative;
  return { native, log, fire: () => fire?.() };
}

t.test('one libuv timer: a new deadline replaces the old one, a stale handle cannot clear it', async (t) => {
  const f = fake();
  const timers = loopTimers(f.native);
  const hits: string[] = [];
  const a = timers.setTimeout(() => hits.push('a'), 10);
  const b = timers.setTimeout(() => hits.push('b'), 12.5);
  timers.clearTimeout(a);
  t.same(f.log, ['start 10', 'start 12.5'], 'armed twice, the stale handle cleared nothing');
  f.fire();
  t.same(hits, ['b'], 'only the latest callback runs');
  f.fire();
  t.same(hits, ['b'], 'once');
  const c = timers.setTimeout(() => hits.push('c'), 5);
  timers.clearTimeout(c);
  t.same(f.log.slice(-2), ['start 5', 'stop']);
  f.fire();
  t.same(hits, ['b'], 'a cleared deadline does not run');
  t.notOk(b === c);
});

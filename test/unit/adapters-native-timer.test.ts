/** The addon's libuv timer (src/native/timer.c) as the driver uses it: re-armed in place, stopped, never early. */
import t from 'tap';
import { loadNative } from '../../src/adapters/native.js';

const load = loadNative();
const skip = load.ok ? false : `the addon is not built: ${load.reason}`;

t.test('a re-armed timer fires once, at the new time or later; a stopped one never', { skip }, async (t) => {
  if (!load.ok) return;
  const n = load.native;
  const t0 = performance.now();
  const fired: number[] = [];
  let resolve: () => void = () => undefined;
  const done = new Promise<void>((r) => (resolve = r));
  const timer = n.timerNew(() => {
    fired.push(performance.now() - t0);
    resolve();
  });
  n.timerStart(timer, 5);
  n.timerStart(timer, 40); // moved later: the 5 ms due time is gone
  await done;
  await new Promise((r) => setTimeout(r, 60));
  t.equal(fired.length, 1, 'fired once');
  t.ok(fired[0]! >= 39, `not before the new due time (${fired[0]!.toFixed(1)} ms)`);
  const stopped = n.timerNew(() => t.fail('a stopped timer fired'));
  n.timerStart(stopped, 5);
  n.timerStop(stopped);
  await new Promise((r) => setTimeout(r, 30));
  t.throws(() => n.timerStart(timer, -1), TypeError, 'a negative delay is a clean error');
  t.throws(() => n.timerStart({} as never, 1), TypeError, 'not a timer: a clean error');
});

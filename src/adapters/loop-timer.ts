/**
 * The driver's Timers over the addon's libuv timer (src/native/timer.c), setTimeout when the
 * addon is missing.
 *
 * The driver keeps exactly one deadline and moves it at almost every step: each heartbeat a
 * node receives pushes the peer's overdue time later. Node re-arms its one libuv timer only
 * for a JS timer due earlier than the one it is armed for, so with setTimeout every such move
 * left a stale wake-up behind (it fires, finds nothing due, re-arms): one extra wake-up per
 * heartbeat. uv_timer_start replaces the due time in place.
 */
import type { LoopTimers as Timers } from '../ports/index.js';
import type { Native } from './native.js';

export type TimerNative = Pick<Native, 'timerNew' | 'timerStart' | 'timerStop'>;

/** One-deadline timers on a single libuv timer: a new setTimeout replaces the previous one. */
export function loopTimers(native: TimerNative): Timers {
  let pending: (() => void) | null = null;
  let token = 0;
  const timer = native.timerNew(() => {
    const fn = pending;
    pending = null;
    fn?.();
  });
  return {
    setTimeout(fn, ms) {
      pending = fn;
      native.timerStart(timer, Math.max(0, ms));
      return ++token;
    },
    clearTimeout(handle) {
      if (handle !== token || pending === null) return;
      pending = null;
      native.timerStop(timer);
    },
    afterPoll: (fn) => void setImmediate(fn),
  };
}

/** Realtime scheduling through the addon: what is asked for, and what a refusal says. */
import t from 'tap';
import type { Native, SchedPolicy } from '../../src/adapters/native.js';
import { setRealtime } from '../../src/adapters/sched.js';

function fake(fail?: string) {
  const calls: [number, SchedPolicy, number, boolean][] = [];
  let state = { policy: 'other' as string, priority: 0, resetOnFork: false };
  const native = {
    setScheduler(tid: number, policy: SchedPolicy, priority: number, resetOnFork: boolean) {
      calls.push([tid, policy, priority, resetOnFork]);
      if (fail) throw Object.assign(new Error(`sched_setscheduler: ${fail}`), { code: fail });
      state = { policy, priority, resetOnFork };
    },
    getScheduler: () => state,
  } as unknown as Native;
  return { native, calls };
}

t.test('SCHED_RR with reset-on-fork at the configured priority, and back to normal at 0', async (t) => {
  const f = fake();
  t.same(setRealtime(f.native, 0, 10), { ok: true, detail: 'SCHED_RR priority 10' });
  t.same(f.calls[0], [0, 'rr', 10, true], 'children (hooks, checks, arping) never inherit it');
  t.same(setRealtime(f.native, 1234, 0), { ok: true, detail: 'normal scheduling (other)' });
  t.same(f.calls[1], [1234, 'other', 0, true]);
});

t.test('a refusal is a reason, never a throw', async (t) => {
  const r = setRealtime(fake('EPERM').native, 0, 10);
  t.equal(r.ok, false);
  t.match(r, { reason: /EPERM.*CAP_SYS_NICE.*realtime: 0/ });
  t.match(setRealtime(null, 0, 10), { ok: false, reason: /addon is not loaded/ });
});

/**
 * Realtime scheduling for the agent's event loop thread and its `ip` helper (config
 * `realtime`), through haagent's addon: Node has no binding for sched_setscheduler.
 *
 * SCHED_RR with SCHED_RESET_ON_FORK: whatever the agent starts later (hooks, health checks,
 * arping) runs at normal priority. On Linux the call applies to one thread; the agent calls it
 * on its main thread (the event loop, where every decision runs) and on the helper's pid.
 * V8's and libuv's worker threads keep normal priority: nothing on the heartbeat path waits
 * for them.
 */
import type { Native } from './native.js';

export type SchedOutcome = { ok: true; detail: string } | { ok: false; reason: string };

/** Sets thread `tid` (0: the calling thread) to SCHED_RR at `priority`, or back to normal when 0. */
export function setRealtime(native: Native | null, tid: number, priority: number): SchedOutcome {
  if (native === null) return { ok: false, reason: 'the haagent_native addon is not loaded' };
  try {
    if (priority > 0) native.setScheduler(tid, 'rr', priority, true);
    else native.setScheduler(tid, 'other', 0, true);
    const s = native.getScheduler(tid);
    return { ok: true, detail: s.policy === 'rr' ? `SCHED_RR priority ${s.priority}` : `normal scheduling (${s.policy})` };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    // EPERM with CAP_SYS_NICE held: a cgroup-v1 cpu group with cpu.rt_runtime_us 0 (RT group scheduling).
    const hint = err.code === 'EPERM' ? ' (needs CAP_SYS_NICE, which the unit grants, and realtime runtime in its cpu cgroup; `realtime: 0` turns this off)' : '';
    return { ok: false, reason: `${err.message}${hint}` };
  }
}

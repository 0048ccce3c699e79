/**
 * The saturated-host window: every cell up, no fault, while the bench runs one CPU-bound busy
 * loop per core in the root namespace (it only burns CPU: no network, nice 0, like any other
 * job that lands on a director). Each VIP acquisition in the window is a director switch
 * nobody asked for; the VIP on two directors at once is counted in total time and episodes.
 * The VIP timeline's monitors run under SCHED_FIFO (vipwatch.ts), so the loops cannot delay
 * their stamps; this process may read them late, which is why the figures are taken after.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism, setPriority } from 'node:os';
import { epochNow, sleep, waitFor, within } from '../netns/exec.js';
import { windowSleep, type CellRun } from './lanes.js';
import { busyPercent, cpuSample } from './machine.js';
import type { SaturatedResult, SaturatedRun } from './report.js';
import { acquisitions, holdersAt, overlapEpisodes, overlapMs } from './timeline.js';

/**
 * One loop: a Node process spinning until its own deadline, so a loop outlives the bench by
 * at most the margin even if nobody kills it (the bench does, by PID, in a finally).
 */
const LOOP = 'const end = Date.now() + Number(process.argv[1]); while (Date.now() < end) { /* burn */ }';

function startLoops(n: number, lifeMs: number): ChildProcess[] {
  const loops: ChildProcess[] = [];
  for (let i = 0; i < n; i++) {
    const c = spawn(process.execPath, ['-e', LOOP, String(Math.ceil(lifeMs))], { stdio: 'ignore' });
    c.on('error', () => undefined); // a failed spawn is counted out below, not a crash of the bench
    loops.push(c);
    try {
      // nice 0 whatever the bench's own niceness: the loops compete like any normal job.
      if (c.pid !== undefined) setPriority(c.pid, 0);
    } catch {
      // it already exited (spawn failed): the window then runs with fewer loops, as reported
    }
  }
  return loops;
}

async function stopLoops(loops: readonly ChildProcess[]): Promise<void> {
  const live = loops.filter((c) => c.exitCode === null && c.signalCode === null);
  const gone = live.map((c) => new Promise<void>((resolve) => c.once('exit', () => resolve())));
  for (const c of live) c.kill('SIGKILL');
  await within(Promise.all(gone), 3000, []);
}

function resultOf(run: CellRun, t0: number, t1: number): SaturatedResult {
  const ev = run.ctx.watch.events;
  return {
    cell: run.plan.id,
    switches: acquisitions(ev, t0, t1),
    dualVipMs: overlapMs(ev, t0, t1),
    dualEpisodes: overlapEpisodes(ev, t0, t1),
    holdersAtEnd: holdersAt(ev, t1),
  };
}

/** Runs the window over every cell at once; `stopping` (^C) ends it early. */
export async function saturated(runs: readonly CellRun[], seconds: number, stopping?: () => boolean): Promise<SaturatedRun> {
  const cores = availableParallelism();
  // Margin: the loops' start and the teardown; the finally kills them well before.
  const loops = startLoops(cores, seconds * 1000 + 30000);
  const onExit = (): void => loops.forEach((c) => c.kill('SIGKILL'));
  process.on('exit', onExit);
  let t0 = epochNow();
  let t1 = t0;
  let busyPct = NaN;
  let spinning = 0;
  try {
    await sleep(500); // Node's start: the window opens once the loops spin
    spinning = loops.filter((c) => c.pid !== undefined && c.exitCode === null && c.signalCode === null).length;
    const cpu0 = cpuSample();
    t0 = epochNow();
    await windowSleep(seconds * 1000, stopping);
    t1 = epochNow();
    busyPct = busyPercent(cpu0, cpuSample());
  } finally {
    await stopLoops(loops);
    process.off('exit', onExit);
  }
  // The monitors' lines may still be on their way to this (starved) process.
  await sleep(300);
  const results = runs.map((r) => resultOf(r, t0, t1));
  // Let the cells settle before the fault rounds (bounded; a cell left split is put back by its next round).
  await waitFor(() => runs.every((r) => r.ctx.watch.holders().join() === r.ctx.cluster.nodes[0].name), 5000, 50);
  return { loops: spinning, cores, seconds: (t1 - t0) / 1000, busyPct, results };
}

/**
 * `npm run bench`: haagent side by side with keepalived, ucarp and Heartbeat in the netns lab.
 * Needs root, `npm run build` and scripts/bench-setup.sh (cells whose agent is missing are
 * skipped and say so). Prints tables; figures are printed, never asserted.
 *
 *   --quick               3 repetitions, the QUICK_CELLS, 5 s steady and saturated windows, a 10 s loss window
 *   --reps N              repetitions per cell (default 10; the loss row's labs too)
 *   --cells a,b           only these cells (ids from cells.ts and loss-row.ts)
 *   --scenarios x,y       only these scenarios (crash,crash-svc,hang,link-down,planned,partition,node-loss,loss,bgp;
 *                         none = only the steady window; loss or bgp alone = that row only, no
 *                         steady window unless --steady is given; bgp: bgp-row.ts)
 *   --steady S            seconds of fault-free running for spurious moves, RSS and CPU (default 60; 0 = skip)
 *   --saturated S         then S seconds with one busy loop per core: switches and dual VIP (default 60, quick 5; 0 = skip)
 *   --loss-window S       the loss row's window (default 60; quick 10)
 *   --loss-seed N         the loss row's relay seeds start from N (default 1): another N, another loss pattern
 *   --json FILE           also write every record and summary as JSON
 */
import { parseArgs } from 'node:util';
import { installed } from '../netns/agents/common.js';
import { haagentAvailable } from '../netns/agents/haagent.js';
import { epochNow } from '../netns/exec.js';
import { bgpRowText, runBgpRow, type BgpRowResult } from './bgp-row.js';
import { CELLS, QUICK_CELLS, type CellSpec } from './cells.js';
import { FLOOR_CELL, startFloor } from './floor.js';
import { closeCell, openCell, runLane, steady, type CellPlan, type CellRun, type LaneHooks } from './lanes.js';
import { LOSS_CELLS, runLossRow, type LossCell, type LossRowResult } from './loss-row.js';
import { loadText, machineInfo } from './machine.js';
import { FLOOR_INTERVAL_MS, printResults, progress, say, writeDoc, writeJson, type LaneTime } from './print.js';
import type { SaturatedRun, SteadyResult } from './report.js';
import { BENCH_SCENARIOS, SCENARIOS, type RoundRecord, type Scenario } from './rounds.js';
import { saturated } from './saturate.js';
import { realtimeAvailable } from './vipwatch.js';

/** The loss row is not a fault round (rounds.ts): it has labs and a window of its own (loss-row.ts). */
const LOSS = 'loss';
/** Nor is the bgp row: labs of its own with routing daemons (bgp-row.ts). */
const BGP = 'bgp';
const ROWS_APART = [LOSS, BGP];
/** What the issue asks of the loss row's target: 10 runs of 60 s. */
const LOSS_WANT = { runs: 10, seconds: 60 };

interface Options {
  reps: number;
  cells: CellSpec[];
  scenarios: Scenario[];
  /** the loss row's cells (available or n/a) and window; null: the row is not run. */
  loss: { cells: LossCell[]; seconds: number; seed: number } | null;
  bgp: boolean;
  steadyS: number;
  saturatedS: number;
  json: string | undefined;
  /** the default full run (all cells, rows, 10 reps, 60 s steady): its report goes to the doc. */
  full: boolean;
}

function list(text: string | undefined): string[] | null {
  return text ? text.split(',').map((s) => s.trim()).filter(Boolean) : null;
}

function options(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      reps: { type: 'string' },
      cells: { type: 'string' },
      scenarios: { type: 'string' },
      steady: { type: 'string' },
      saturated: { type: 'string' },
      'loss-window': { type: 'string' },
      'loss-seed': { type: 'string' },
      json: { type: 'string' },
    },
  });
  const quick = values.quick ?? false;
  const known = [...new Set([...CELLS, ...LOSS_CELLS].map((c) => c.id))];
  const chosen = list(values.cells);
  const ids = chosen ?? (quick ? QUICK_CELLS : CELLS.map((c) => c.id));
  const unknown = ids.filter((id) => !known.includes(id));
  if (unknown.length) throw new Error(`unknown cell(s) ${unknown.join(', ')}; known: ${known.join(', ')}`);
  const names = values.scenarios === 'none' ? [] : list(values.scenarios) ?? [...BENCH_SCENARIOS, ...ROWS_APART];
  const bad = names.filter((s) => !ROWS_APART.includes(s) && !SCENARIOS.includes(s as Scenario));
  if (bad.length) throw new Error(`unknown scenario(s) ${bad.join(', ')}; known: ${[...SCENARIOS, ...ROWS_APART].join(', ')}`);
  const scenarios = names.filter((s): s is Scenario => !ROWS_APART.includes(s));
  const onlyLoss = names.length > 0 && scenarios.length === 0;
  // The loss row runs all of its cells (the target's own among them) unless --cells names some.
  const lossCells = LOSS_CELLS.filter((c) => chosen === null || chosen.includes(c.id));
  return {
    reps: Math.max(1, Math.min(100, Number(values.reps ?? (quick ? 3 : 10)) || 1)),
    cells: CELLS.filter((c) => ids.includes(c.id)),
    scenarios,
    loss: names.includes(LOSS) && lossCells.length
      ? { cells: lossCells, seconds: Math.max(1, Number(values['loss-window'] ?? (quick ? 10 : 60)) || 1), seed: Math.trunc(Number(values['loss-seed'] ?? 1)) || 1 }
      : null,
    bgp: names.includes(BGP) && chosen === null,
    steadyS: Math.max(0, Number(values.steady ?? (quick ? 5 : onlyLoss ? 0 : 60)) || 0),
    saturatedS: Math.max(0, Number(values.saturated ?? (quick ? 5 : onlyLoss ? 0 : 60)) || 0),
    json: values.json,
    full: !quick && values.cells === undefined && values.scenarios === undefined && values.reps === undefined && values.steady === undefined &&
      values.saturated === undefined && values['loss-window'] === undefined && values['loss-seed'] === undefined,
  };
}

function planFor(c: CellSpec, o: Options): CellPlan {
  const only = c.limit?.scenarios;
  const scenarios = only ? o.scenarios.filter((s) => only.includes(s)) : o.scenarios;
  return { id: c.id, make: c.make, probeMs: c.probeMs, scenarios, reps: Math.min(o.reps, c.limit?.reps ?? o.reps), backbone: c.backbone ?? false };
}

async function available<C extends { id: string; needs: string | null }>(cells: readonly C[], what = ''): Promise<{ run: C[]; skipped: string[] }> {
  const run: C[] = [];
  const skipped: string[] = [];
  for (const c of cells) {
    if (c.needs === null || (await installed(c.needs))) run.push(c);
    else skipped.push(`${c.id}${what} (${c.needs} is not installed: run scripts/bench-setup.sh)`);
  }
  return { run, skipped };
}

/**
 * The lanes: cells sharing a lane name take turns in it (A B A B); a 'slow' cell has a lane
 * of its own. All lanes run at once; each says how long it took.
 */
async function runLanes(runs: readonly CellRun[], cells: readonly CellSpec[], hooks: LaneHooks): Promise<{ records: RoundRecord[]; lanes: LaneTime[] }> {
  const groups = new Map<string, CellRun[]>();
  for (const r of runs) {
    const lane = cells.find((c) => c.id === r.plan.id)?.lane ?? 'slow';
    const key = lane === 'slow' ? `slow:${r.plan.id}` : lane;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const timed = await Promise.all([...groups.values()].map(async (g) => {
    const t0 = epochNow();
    const records = await runLane(g, hooks);
    return { records, lane: { cells: g.map((r) => r.plan.id), rounds: records.length, seconds: (epochNow() - t0) / 1000 } };
  }));
  return { records: timed.flatMap((x) => x.records), lanes: timed.map((x) => x.lane) };
}

/** Closes the cells one after the other; true when nothing was left behind. */
async function closeAll(runs: readonly CellRun[]): Promise<boolean> {
  let clean = true;
  for (const r of runs) clean = (await closeCell(r)) && clean;
  return clean;
}

/** The steady window, with the Node floor through the same window at keepalived's fastest rate. */
async function steadyWindow(runs: readonly CellRun[], seconds: number): Promise<SteadyResult[]> {
  const floor = await startFloor(FLOOR_INTERVAL_MS).catch((e: unknown) => {
    say(`- ${FLOOR_CELL} not measured: ${e instanceof Error ? e.message : String(e)}`);
    return null;
  });
  try {
    return await steady(runs, seconds, floor ? [{ id: FLOOR_CELL, sample: floor.sample }] : []);
  } finally {
    await floor?.stop();
  }
}

async function main(): Promise<void> {
  const o = options(process.argv.slice(2));
  if (process.getuid?.() !== 0) throw new Error('the bench builds network namespaces: run it as root');
  if (!(await haagentAvailable())) throw new Error('dist/src/main.js is not runnable: run `npm run build`');
  let interrupted = false;
  process.on('SIGINT', () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write('\nstopping after the current rounds (^C again to abort)...\n');
  });
  const t0 = Date.now();
  // Nothing to do with the main cells (the loss row alone): do not bring them up.
  const { run: cells, skipped } = o.scenarios.length || o.steadyS > 0 || o.saturatedS > 0 ? await available(o.cells) : { run: [] as CellSpec[], skipped: [] };
  const lossAvail = o.loss ? await available(o.loss.cells, ' in the loss row') : { run: [], skipped: [] };
  say(`# haagent bench\n\n${await machineInfo()}\n- load average at start (1/5/15 min): ${loadText()}\n`);
  for (const c of cells) say(`- ${c.id}: ${c.agent}; settings in cells.ts`);
  for (const s of [...skipped, ...lossAvail.skipped]) say(`- skipped: ${s}`);
  const rt = await realtimeAvailable();
  say(`- VIP timeline: \`ip -ts monitor address\` per director, ${rt ? 'under chrt -f 50 (SCHED_FIFO)' : 'at normal priority (SCHED_FIFO refused here: its stamps may be late under load)'}`);
  const runs: CellRun[] = [];
  let clean = true;
  let records: RoundRecord[] = [];
  let lanes: LaneTime[] = [];
  let steadyResults: SteadyResult[] = [];
  let sat: SaturatedRun | null = null;
  let loss: LossRowResult | null = null;
  let bgp: BgpRowResult | null = null;
  try {
    // In parallel: Heartbeat's first start alone takes ~10 s. Nothing is measured yet.
    const opened = await Promise.allSettled(cells.map((c) => openCell(planFor(c, o))));
    for (const r of opened) if (r.status === 'fulfilled') runs.push(r.value);
    const failed = opened.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    for (const r of runs) say(`- ${r.plan.id} settings: ${r.ctx.cluster.settings}`);
    if (runs.length) say(`\nall ${runs.length} cells up in ${((Date.now() - t0) / 1000).toFixed(0)} s; steady window ${o.steadyS} s, saturated window ${o.saturatedS} s, then ${o.reps} repetition(s)\n`);
    if (o.steadyS > 0 && runs.length) steadyResults = await steadyWindow(runs, o.steadyS);
    // After the quiet window, never during it: the steady CPU and RSS figures stay unloaded.
    if (o.saturatedS > 0 && runs.length && !interrupted) sat = await saturated(runs, o.saturatedS, () => interrupted);
    ({ records, lanes } = await runLanes(runs, cells, { onRecord: progress, stopping: () => interrupted }));
  } catch (err) {
    await closeAll(runs);
    throw err;
  }
  // The loss row runs after the other rows (its labs would load their lanes); its bring-up
  // overlaps their teardown, which measures nothing, and its window waits for that teardown.
  const closing = closeAll(runs);
  try {
    if (o.loss && !interrupted) {
      const log = (l: string): void => void process.stdout.write(l + '\n');
      const { seconds, seed } = o.loss;
      loss = await runLossRow(lossAvail.run, { reps: o.reps, seconds, seedBase: seed, after: closing, stopping: () => interrupted, log });
      clean = loss.clean && clean;
    }
  } finally {
    clean = (await closing) && clean;
  }
  // Last, alone: its daemons and agents would load the other rows' lanes.
  if (o.bgp && !interrupted) bgp = await runBgpRow({ reps: o.reps, stopping: () => interrupted, log: (l) => void process.stdout.write(l + '\n') });
  const results = { scenarios: o.scenarios, reps: o.reps, records, steady: steadyResults, saturated: sat, cells, loss, lossWant: LOSS_WANT, lanes };
  printResults(results);
  if (bgp) say(`\n${bgpRowText(bgp)}`);
  if (o.json) writeJson(o.json, results);
  say(`\nload average at the end (1/5/15 min): ${loadText()}`);
  const seconds = Math.round((Date.now() - t0) / 1000);
  const lossRuns = loss ? `, ${loss.records.length} loss-row runs` : '';
  say(`${records.length} rounds${lossRuns} in ${seconds} s; ${clean ? 'every namespace and process removed' : 'TEARDOWN INCOMPLETE'}.`);
  if (!clean) process.exitCode = 1;
  else if (o.full && !interrupted) writeDoc(seconds);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exitCode = 1;
});

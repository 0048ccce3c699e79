/**
 * `npm run bench`: haagent side by side with keepalived, ucarp and Heartbeat in the netns lab.
 * Needs root, `npm run build` and scripts/bench-setup.sh (cells whose agent is missing are
 * skipped and say so). Prints tables; figures are printed, never asserted.
 *
 *   --quick               3 repetitions, the QUICK_CELLS, 5 s steady window, a 10 s loss window
 *   --reps N              repetitions per cell (default 10; the loss row's labs too)
 *   --cells a,b           only these cells (ids from cells.ts and loss-row.ts)
 *   --scenarios x,y       only these scenarios (crash,hang,link-down,planned,partition,node-loss,loss;
 *                         none = only the steady window; loss alone = the loss row only, no
 *                         steady window unless --steady is given)
 *   --steady S            seconds of fault-free running for spurious moves, RSS and CPU (default 60; 0 = skip)
 *   --loss-window S       the loss row's window (default 60; quick 10)
 *   --loss-seed N         the loss row's relay seeds start from N (default 1): another N, another loss pattern
 *   --json FILE           also write every record and summary as JSON
 */
import fs, { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { installed } from '../netns/agents/common.js';
import { haagentAvailable } from '../netns/agents/haagent.js';
import { CELLS, QUICK_CELLS, RATIO_PAIRS, type CellSpec } from './cells.js';
import { closeCell, openCell, runLane, steady, type CellPlan, type CellRun } from './lanes.js';
import { LOSS_CELLS, LOSS_TARGET_CELL, runLossRow, type LossCell, type LossRowResult } from './loss-row.js';
import { loadText, machineInfo } from './machine.js';
import { FLOOR_CELL, startFloor } from './floor.js';
import { crashTable, lossTable, lossTarget, notesText, outageTable, ratioTable, steadyTable, summarizeAll, type SteadyResult } from './report.js';
import { BENCH_SCENARIOS, SCENARIOS, type RoundRecord, type RowId, type Scenario } from './rounds.js';

/** The loss row is not a fault round (rounds.ts): it has labs and a window of its own (loss-row.ts). */
const LOSS = 'loss';
/** What the issue asks of the loss row's target: 10 runs of 60 s. */
const LOSS_WANT = { runs: 10, seconds: 60 };

interface Options {
  reps: number;
  cells: CellSpec[];
  scenarios: Scenario[];
  /** the loss row's cells (available or n/a) and window; null: the row is not run. */
  loss: { cells: LossCell[]; seconds: number; seed: number } | null;
  steadyS: number;
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
  const names = values.scenarios === 'none' ? [] : list(values.scenarios) ?? [...BENCH_SCENARIOS, LOSS];
  const bad = names.filter((s) => s !== LOSS && !SCENARIOS.includes(s as Scenario));
  if (bad.length) throw new Error(`unknown scenario(s) ${bad.join(', ')}; known: ${[...SCENARIOS, LOSS].join(', ')}`);
  const scenarios = names.filter((s): s is Scenario => s !== LOSS);
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
    steadyS: Math.max(0, Number(values.steady ?? (quick ? 5 : onlyLoss ? 0 : 60)) || 0),
    json: values.json,
    full: !quick && values.cells === undefined && values.scenarios === undefined && values.reps === undefined && values.steady === undefined &&
      values['loss-window'] === undefined && values['loss-seed'] === undefined,
  };
}

function planFor(c: CellSpec, o: Options): CellPlan {
  const scenarios = c.only ? o.scenarios.filter((s) => c.only?.scenarios.includes(s)) : o.scenarios;
  return { id: c.id, make: c.make, probeMs: c.probeMs, scenarios, reps: c.only ? Math.min(o.reps, c.only.reps) : o.reps };
}

/** Everything printed except per-round progress: the report docs/benchmarks.md carries. */
const report: string[] = [];
const say = (s: string): void => {
  report.push(s);
  process.stdout.write(s + '\n');
};

const DOC = 'docs/benchmarks.md';
const DOC_START = '## Results of the last full run';
const DOC_END = '## Reading these figures';

/**
 * Replaces the results section of docs/benchmarks.md with this run's report, so the doc
 * always shows what the last full run printed (a full run: default cells, rows and reps).
 */
function writeDoc(seconds: number): void {
  const doc = readFileSync(DOC, 'utf8');
  const a = doc.indexOf(DOC_START);
  const b = doc.indexOf(DOC_END);
  if (a < 0 || b < a) throw new Error(`${DOC}: cannot find the "${DOC_START}" .. "${DOC_END}" section`);
  const body = report.join('\n').replace(/^# haagent bench\n+/, '').replace(/^## /gm, '### ');
  fs.writeFileSync(DOC, `${doc.slice(0, a)}${DOC_START} (\`npm run bench\`, ${seconds} s)\n\n${body.trim()}\n\n${doc.slice(b)}`);
  process.stdout.write(`wrote the results section of ${DOC}\n`);
}

function progress(r: RoundRecord): void {
  const o = Number.isFinite(r.outageMs) ? r.outageMs.toFixed(1) : 'never';
  const arp = r.arpMs === null ? '-' : r.arpMs.toFixed(1);
  process.stdout.write(`  ${r.cell.padEnd(20)} #${String(r.rep).padEnd(3)} ${r.row.padEnd(10)} outage ${o.padStart(8)} ms  ARP ${arp.padStart(8)} ms${r.ok ? '' : '  NOT OK'}${r.note ? '  (' + r.note + ')' : ''}\n`);
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

/** The loss row's section of the report: settings, the table, the target line, time and load. */
function printLoss(r: LossRowResult, reps: number): void {
  const m = r.model;
  const loss = `${(m.loss * 100).toFixed(0)} % loss, delay ${m.baseMs} ms +- ${m.jitterMs} ms`;
  say(`\n## ${loss} on the heartbeat path (spurious failovers)\n`);
  say(`Each run: a lab of its own whose directors hear each other only through the lossy UDP relay; ${reps} run(s) per cell, all labs at once, one common window of ${r.windowS.toFixed(0)} s. ` +
    'A spurious failover is a VIP acquisition in the window (nothing failed). The drop ratio is what the relays measured over the window (both directions, all runs).\n');
  for (const c of r.cells) {
    if (c.na) say(`- ${c.id}: n/a: ${c.na}`);
    else say(`- ${c.id} settings: ${r.settings.get(c.id) ?? 'did not come up'}`);
  }
  say(`- relay: ${loss}, uniform (netem \`delay ${m.baseMs}ms ${m.jitterMs}ms loss ${m.loss * 100}%\`), one seeded stream per direction, restarted at the window's start: ` +
    `the same seeds (--loss-seed, in --json) replay the same loss pattern`);
  say('');
  say(lossTable(r.records, r.cells));
  say('');
  say(`- ${lossTarget(r.records, LOSS_TARGET_CELL, LOSS_WANT)}`);
  const notes = r.records.filter((x) => x.note).map((x) => `- loss ${x.cell} #${x.rep}: ${x.note}`);
  for (const n of notes) say(n);
  say(`- the row took ${r.wallS.toFixed(0)} s: ${r.records.length} labs up in ${r.upS.toFixed(0)} s, all quiet ${r.settleS.toFixed(0)} s later, the window, teardown. ` +
    `Machine CPU busy (all cores, anything running): ${r.busyUpPct.toFixed(0)} % until the window, ${r.busyWindowPct.toFixed(0)} % during it; load average after it ${r.loadEnd}`);
}

function printResults(o: Options, records: RoundRecord[], steadyResults: SteadyResult[], cells: CellSpec[], loss: LossRowResult | null): void {
  const rows: RowId[] = [...o.scenarios, 'failback'];
  const summaries = summarizeAll(records, rows, cells.map((c) => c.id));
  if (o.scenarios.length) {
    say('\n## Outage per row (client probe every 2-10 ms; ARP = the client\'s neighbour entry for the VIP)\n');
    say(outageTable(summaries));
    say('\n## Crash row: the VIP on the killed director\n');
    say(crashTable(summaries));
    say('\n## Median outage ratios (haagent / other; below 1 = haagent faster)\n');
    say(ratioTable(summaries, rows, RATIO_PAIRS));
    say('\n## Median ARP-update ratios (time until the client\'s ARP entry names the new holder)\n');
    say(ratioTable(summaries, rows, RATIO_PAIRS, 'arp'));
  }
  if (loss) printLoss(loss, o.reps);
  if (steadyResults.length) {
    say(`\n## Steady state (all cells up at once, no fault)\n`);
    say(steadyTable(steadyResults));
    say('');
    for (const line of steadyNotes(steadyResults)) say(`- ${line}`);
  }
  const notes = notesText(summaries);
  if (notes) say('\n## Notes\n\n' + notes);
  for (const c of cells.filter((x) => x.only)) say(`- ${c.id} runs only ${c.only?.scenarios.join(', ')} x ${c.only?.reps}: ${c.only?.why}`);
  const lossJson = loss && { ...loss, settings: Object.fromEntries(loss.settings) };
  if (o.json) writeFileSync(o.json, JSON.stringify({ records, summaries, steady: steadyResults, loss: lossJson }, (_k, v: unknown) => (v === Infinity ? 'Infinity' : v), 2));
}

/** The Node floor's heartbeat rate: keepalived's fastest (advert_int 0.01). */
const FLOOR_INTERVAL_MS = 10;

/** What the steady table's haagent and floor rows mean, with the CPU ratios against keepalived. */
function steadyNotes(rows: readonly SteadyResult[]): string[] {
  const d0 = (id: string) => rows.find((r) => r.cell === id)?.cpuPct[0];
  const ka = d0('keepalived-fast');
  const out = [
    'RSS and CPU are per director over its whole process tree; haagent\'s includes its `ip monitor` (link tracking) and `ip -batch` (VIP changes) helpers, ~2.5 MB each.',
    `${FLOOR_CELL}: two bare Node processes with haagent's node flags, each with one timer, one 100-byte datagram with HMAC-SHA256/128 sent and one received per ${FLOOR_INTERVAL_MS} ms (test/bench/floor-peer.ts): what a Node process pays at keepalived's fastest rate before any election logic. No VIP: no spurious count.`,
  ];
  for (const id of ['haagent-at-ka-rate', FLOOR_CELL]) {
    const v = d0(id);
    if (v !== undefined && ka !== undefined && ka > 0) out.push(`CPU ratio ${id} / keepalived-fast (active node): ${(v / ka).toFixed(1)}`);
  }
  return out;
}

/** Closes the cells one after the other; true when nothing was left behind. */
async function closeAll(runs: readonly CellRun[]): Promise<boolean> {
  let clean = true;
  for (const r of runs) clean = (await closeCell(r)) && clean;
  return clean;
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
  const { run: cells, skipped } = o.scenarios.length || o.steadyS > 0 ? await available(o.cells) : { run: [] as CellSpec[], skipped: [] };
  const lossAvail = o.loss ? await available(o.loss.cells, ' in the loss row') : { run: [], skipped: [] };
  say(`# haagent bench\n\n${await machineInfo()}\n- load average at start (1/5/15 min): ${loadText()}\n`);
  for (const c of cells) say(`- ${c.id}: ${c.agent}; settings in cells.ts`);
  for (const s of [...skipped, ...lossAvail.skipped]) say(`- skipped: ${s}`);
  const runs: CellRun[] = [];
  let clean = true;
  let records: RoundRecord[] = [];
  let steadyResults: SteadyResult[] = [];
  let loss: LossRowResult | null = null;
  try {
    // In parallel: Heartbeat's first start alone takes ~10 s. Nothing is measured yet.
    const opened = await Promise.allSettled(cells.map((c) => openCell(planFor(c, o))));
    for (const r of opened) if (r.status === 'fulfilled') runs.push(r.value);
    const failed = opened.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    for (const r of runs) say(`- ${r.plan.id} settings: ${r.ctx.cluster.settings}`);
    if (runs.length) say(`\nall ${runs.length} cells up in ${((Date.now() - t0) / 1000).toFixed(0)} s; steady window ${o.steadyS} s, then ${o.reps} repetition(s)\n`);
    if (o.steadyS > 0 && runs.length) {
      // The Node floor runs through the same window, at keepalived's fastest rate.
      const floor = await startFloor(FLOOR_INTERVAL_MS).catch((e: unknown) => {
        say(`- ${FLOOR_CELL} not measured: ${e instanceof Error ? e.message : String(e)}`);
        return null;
      });
      try {
        steadyResults = await steady(runs, o.steadyS, floor ? [{ id: FLOOR_CELL, sample: floor.sample }] : []);
      } finally {
        await floor?.stop();
      }
    }
    const hooks = { onRecord: progress, stopping: () => interrupted };
    const fast = runs.filter((r) => cells.find((c) => c.id === r.plan.id)?.lane === 'fast');
    const slow = runs.filter((r) => !fast.includes(r));
    records = (await Promise.all([runLane(fast, hooks), ...slow.map((r) => runLane([r], hooks))])).flat();
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
  printResults(o, records, steadyResults, cells, loss);
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

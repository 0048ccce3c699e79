/**
 * What `npm run bench` prints: per-round progress, then every table. Everything said through
 * say() (all but the progress lines) is also kept, so a full run can copy its report into
 * docs/benchmarks.md.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { CellSpec } from './cells.js';
import { RATIO_PAIRS, SATURATED_TARGET } from './cells.js';
import { FLOOR_CELL } from './floor.js';
import type { LossRowResult } from './loss-row.js';
import { LOSS_TARGET_CELL } from './loss-row.js';
import { lossTable, lossTarget } from './report-loss.js';
import {
  crashTable, fmt, garpTable, notesText, outageTable, ratioTable, saturatedTable, saturatedTarget, steadyTable, summarizeAll, type SaturatedRun, type SteadyResult,
} from './report.js';
import type { RoundRecord, RowId, Scenario } from './rounds.js';

/** Everything printed except per-round progress: the report docs/benchmarks.md carries. */
const report: string[] = [];

export function say(s: string): void {
  report.push(s);
  process.stdout.write(s + '\n');
}

const DOC = 'docs/benchmarks.md';
const DOC_START = '## Results of the last full run';
const DOC_END = '## Reading these figures';

/**
 * Replaces the results section of docs/benchmarks.md with this run's report, so the doc
 * always shows what the last full run printed (a full run: default cells, rows and reps).
 */
export function writeDoc(seconds: number): void {
  const doc = readFileSync(DOC, 'utf8');
  const a = doc.indexOf(DOC_START);
  const b = doc.indexOf(DOC_END);
  if (a < 0 || b < a) throw new Error(`${DOC}: cannot find the "${DOC_START}" .. "${DOC_END}" section`);
  const body = report.join('\n').replace(/^# haagent bench\n+/, '').replace(/^## /gm, '### ');
  writeFileSync(DOC, `${doc.slice(0, a)}${DOC_START} (\`npm run bench\`, ${seconds} s)\n\n${body.trim()}\n\n${doc.slice(b)}`);
  process.stdout.write(`wrote the results section of ${DOC}\n`);
}

const ms = (v: number | null, digits = 1): string => (v === null ? '-' : fmt(v, digits));

/** One round, as it finishes (not part of the report). */
export function progress(r: RoundRecord): void {
  const o = ms(r.outageMs);
  process.stdout.write(`  ${r.cell.padEnd(20)} #${String(r.rep).padEnd(3)} ${r.row.padEnd(10)} outage ${o.padStart(8)} ms  ARP ${ms(r.arpMs).padStart(8)} ms  ` +
    `GARP ${ms(r.garpMs).padStart(8)} ms (VIP->GARP ${ms(r.vipToGarpMs, 3)})${r.ok ? '' : '  NOT OK'}${r.note ? '  (' + r.note + ')' : ''}\n`);
}

/** The loss row's section of the report: settings, the table, the target line, time and load. */
function printLoss(r: LossRowResult, reps: number, want: { runs: number; seconds: number }): void {
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
  say(`- ${lossTarget(r.records, LOSS_TARGET_CELL, want)}`);
  const notes = r.records.filter((x) => x.note).map((x) => `- loss ${x.cell} #${x.rep}: ${x.note}`);
  for (const n of notes) say(n);
  say(`- the row took ${r.wallS.toFixed(0)} s: ${r.records.length} labs up in ${r.upS.toFixed(0)} s, all quiet ${r.settleS.toFixed(0)} s later, the window, teardown. ` +
    `Machine CPU busy (all cores, anything running): ${r.busyUpPct.toFixed(0)} % until the window, ${r.busyWindowPct.toFixed(0)} % during it; load average after it ${r.loadEnd}`);
}

/** The Node floor's heartbeat rate: keepalived's fastest (advert_int 0.01). */
export const FLOOR_INTERVAL_MS = 10;

/** What the steady table's haagent and floor rows mean, with the CPU ratios against keepalived. */
function steadyNotes(rows: readonly SteadyResult[]): string[] {
  const d0 = (id: string) => rows.find((r) => r.cell === id)?.cpuPct[0];
  const ka = d0('keepalived-fast');
  const out = [
    'RSS and CPU are per director over its whole process tree; haagent\'s includes its `ip monitor` (link tracking), ~2.5 MB (VIPs change through rtnetlink in process; an `ip -batch` helper starts only if that path fails).',
    `${FLOOR_CELL}: two bare Node processes with haagent's node flags, each with one timer, one 100-byte datagram with HMAC-SHA256/128 sent and one received per ${FLOOR_INTERVAL_MS} ms (test/bench/floor-peer.ts): what a Node process pays at keepalived's fastest rate before any election logic. No VIP: no spurious count.`,
  ];
  for (const id of ['haagent-10-30', FLOOR_CELL]) {
    const v = d0(id);
    if (v !== undefined && ka !== undefined && ka > 0) out.push(`CPU ratio ${id} / keepalived-fast (active node): ${(v / ka).toFixed(1)}`);
  }
  return out;
}

function printSaturated(r: SaturatedRun): void {
  say(`\n## Saturated host (${r.loops} busy loops on ${r.cores} cores, ${fmt(r.seconds)} s)\n`);
  say('All cells up, no fault, one CPU-bound loop per core in the root namespace (nice 0, no network). A director switch is a VIP acquisition in the window; ' +
    'the VIP on both directors is from the VIP timeline (ip\'s own stamps, under SCHED_FIFO).\n');
  say(saturatedTable(r));
  say('');
  for (const line of saturatedTarget(r, SATURATED_TARGET)) say(`- ${line}`);
}

/** A lane of the run: its cells, its rounds and how long they took (what sets the bench's length). */
export interface LaneTime {
  cells: string[];
  rounds: number;
  seconds: number;
}

export interface Results {
  scenarios: Scenario[];
  reps: number;
  records: RoundRecord[];
  steady: SteadyResult[];
  saturated: SaturatedRun | null;
  cells: CellSpec[];
  loss: LossRowResult | null;
  lossWant: { runs: number; seconds: number };
  lanes: LaneTime[];
}

export function printResults(r: Results): void {
  const rows: RowId[] = [...r.scenarios, 'failback'];
  const summaries = summarizeAll(r.records, rows, r.cells.map((c) => c.id));
  if (r.scenarios.length) {
    say('\n## Outage per row (client probe every 2-10 ms; ARP = the client\'s neighbour entry for the VIP)\n');
    say(outageTable(summaries));
    say('\n## First gratuitous ARP from the taker (at the client\'s capture; kernel capture stamps and ip\'s own VIP stamps, wall clock)\n');
    say(garpTable(summaries));
    say('\n## Crash rows: the VIP on the killed director\n');
    say(crashTable(summaries));
    say('\n## Median outage ratios (haagent / other; below 1 = haagent faster)\n');
    say(ratioTable(summaries, rows, RATIO_PAIRS));
    say('\n## Median ARP-update ratios (time until the client\'s ARP entry names the new holder)\n');
    say(ratioTable(summaries, rows, RATIO_PAIRS, 'arp'));
  }
  if (r.loss) printLoss(r.loss, r.reps, r.lossWant);
  if (r.steady.length) {
    say(`\n## Steady state (all cells up at once, no fault)\n`);
    say(steadyTable(r.steady));
    say('');
    for (const line of steadyNotes(r.steady)) say(`- ${line}`);
  }
  if (r.saturated) printSaturated(r.saturated);
  // What went wrong, what each cell was limited to, and how long each lane took.
  const lines = notesText(summaries).split('\n').filter(Boolean);
  for (const c of r.cells) {
    const l = c.limit;
    if (!l || ((l.reps ?? Infinity) >= r.reps && !l.scenarios)) continue;
    const rows = l.scenarios ? `only ${l.scenarios.join(', ')}` : 'every row';
    lines.push(`- ${c.id} runs ${rows} x ${Math.min(r.reps, l.reps ?? r.reps)}: ${l.why}`);
  }
  for (const l of r.lanes) lines.push(`- lane ${l.cells.join(' / ')}: ${l.rounds} rounds in ${l.seconds.toFixed(0)} s`);
  if (lines.length) say('\n## Notes\n\n' + lines.join('\n'));
}

/** Every record and summary as JSON (Infinity written as "Infinity"). */
export function writeJson(file: string, r: Results): void {
  const rows: RowId[] = [...r.scenarios, 'failback'];
  const summaries = summarizeAll(r.records, rows, r.cells.map((c) => c.id));
  const loss = r.loss && { ...r.loss, settings: Object.fromEntries(r.loss.settings) };
  const data = { records: r.records, summaries, steady: r.steady, saturated: r.saturated, loss, lanes: r.lanes };
  writeFileSync(file, JSON.stringify(data, (_k, v: unknown) => (v === Infinity ? 'Infinity' : v), 2));
}

/**
 * Pure reporting: round records and steady-state samples in, text tables out. Figures are
 * printed, never asserted. Every summary is median / p90 / max over the repetitions
 * (nearest rank); an outage that never ended counts as "never" and ranks last.
 */
import type { Summary } from '../netns/analyze.js';
import type { RoundRecord, RowId } from './rounds.js';

export interface CellSummary {
  cell: string;
  row: RowId;
  n: number;
  outage: Summary;
  arp: Summary;
  /** rounds that did not end with one holder the client pointed at. */
  failed: number;
  /** largest time both directors held the VIP, ms. */
  dualVipMax: number;
  dualAnswerMax: number;
  resolveMedian: number;
  /** crash: rounds in which the dead director still had the VIP before its cleanup. */
  vipLeft: number;
  vipAfterCleanup: number;
  notes: string[];
}

export interface SteadyResult {
  cell: string;
  seconds: number;
  /** VIP acquisitions seen with no fault injected (each one is a spurious failover). */
  spurious: number;
  /** per director: [active d0, standby d1]. */
  rssMb: number[];
  cpuPct: number[];
}

/**
 * Nearest-rank percentile that keeps Infinity (an outage that never ended ranks last instead
 * of vanishing, which would flatter the agent); NaN when there is no value.
 */
export function rankPercentile(values: readonly number[], p: number): number {
  const xs = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (xs.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * xs.length);
  return xs[Math.min(xs.length - 1, Math.max(0, rank - 1))];
}

export function summarize(values: readonly number[]): Summary {
  return { n: values.length, median: rankPercentile(values, 50), p90: rankPercentile(values, 90), max: rankPercentile(values, 100) };
}

const count = (xs: readonly (boolean | null)[]): number => xs.filter((x) => x === true).length;

export function summarizeCell(records: readonly RoundRecord[]): CellSummary {
  const r0 = records[0];
  const resolve = records.map((r) => r.resolveMs).filter((v): v is number => v !== null);
  return {
    cell: r0.cell,
    row: r0.row,
    n: records.length,
    outage: summarize(records.map((r) => r.outageMs)),
    arp: summarize(records.map((r) => r.arpMs ?? Infinity)),
    failed: records.filter((r) => !r.ok).length,
    dualVipMax: Math.max(0, ...records.map((r) => r.dualVipMs)),
    dualAnswerMax: Math.max(0, ...records.map((r) => r.dualAnswerWindows)),
    resolveMedian: rankPercentile(resolve, 50),
    vipLeft: count(records.map((r) => r.vipLeft)),
    vipAfterCleanup: count(records.map((r) => r.vipAfterCleanup)),
    notes: [...new Set(records.map((r) => r.note).filter(Boolean))],
  };
}

/** One summary per (row, cell) present in the records, rows and cells in the given orders. */
export function summarizeAll(records: readonly RoundRecord[], rows: readonly RowId[], cells: readonly string[]): CellSummary[] {
  const out: CellSummary[] = [];
  for (const row of rows) {
    for (const cell of cells) {
      const mine = records.filter((r) => r.row === row && r.cell === cell);
      if (mine.length > 0) out.push(summarizeCell(mine));
    }
  }
  return out;
}

/** A number for a table cell: "-" for NaN, "never" for Infinity, else fixed digits. */
export function fmt(v: number, digits = 0): string {
  if (Number.isNaN(v)) return '-';
  if (!Number.isFinite(v)) return 'never';
  return v.toFixed(digits);
}

/** A Markdown table: the first `left` columns are names (left-aligned), the rest figures. */
function table(head: string[], rows: string[][], left = 1): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => '| ' + cells.map((c, i) => (i < left ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') + ' |';
  const rule = '|' + widths.map((w, i) => '-'.repeat(w + 1) + (i < left ? '-' : ':')).join('|') + '|';
  return [line(head), rule, ...rows.map(line)].join('\n');
}

const triple = (s: Summary): string => `${fmt(s.median)} / ${fmt(s.p90)} / ${fmt(s.max)}`;

/** The outage table: one line per (row, cell). */
export function outageTable(summaries: readonly CellSummary[]): string {
  const head = ['row', 'cell', 'n', 'outage ms med / p90 / max', 'ARP update ms med / p90 / max', 'both held VIP ms (max)', 'dual-answer 10ms windows (max)', 'resolve ms (med)', 'not ok'];
  const rows = summaries.map((s) => [
    s.row, s.cell, String(s.n), triple(s.outage), triple(s.arp), fmt(s.dualVipMax), String(s.dualAnswerMax), fmt(s.resolveMedian), String(s.failed),
  ]);
  return table(head, rows, 2);
}

/** Crash-row extras: whether the dead director kept its VIP, before and after its cleanup. */
export function crashTable(summaries: readonly CellSummary[]): string {
  const rows = summaries
    .filter((s) => s.row === 'crash')
    .map((s) => [s.cell, `${s.vipLeft}/${s.n}`, `${s.vipAfterCleanup}/${s.n}`]);
  return table(['cell', 'VIP left on the dead director after SIGKILL', 'VIP still there after the cleanup'], rows);
}

/** x / y for the ratio tables: "both 0" and "inf" rather than a division by zero. */
export function ratio(x: number, y: number): string {
  if (!Number.isFinite(x) || !Number.isFinite(y)) return '-';
  if (y === 0) return x === 0 ? 'both 0' : 'inf';
  return (x / y).toFixed(2);
}

/** Median ratio a/b per row of the chosen figure, for the given pairs; "-" when a side is missing. */
export function ratioTable(summaries: readonly CellSummary[], rows: readonly RowId[], pairs: readonly [string, string][], figure: 'outage' | 'arp' = 'outage'): string {
  const med = (row: RowId, cell: string): number => summaries.find((s) => s.row === row && s.cell === cell)?.[figure].median ?? NaN;
  const head = ['row', ...pairs.map(([a, b]) => `${a} / ${b}`)];
  return table(head, rows.map((row) => [row, ...pairs.map(([a, b]) => ratio(med(row, a), med(row, b)))]));
}

export function steadyTable(results: readonly SteadyResult[]): string {
  const rows = results.map((r) => [
    r.cell, fmt(r.seconds), fmt(r.spurious), r.rssMb.map((v) => fmt(v, 1)).join(' / '), r.cpuPct.map((v) => fmt(v, 2)).join(' / '),
  ]);
  return table(['cell', 'steady s', 'spurious VIP moves', 'RSS MB d0 / d1', 'CPU % d0 / d1'], rows);
}

/** The notes of every summary, one line each, for what went wrong or was worked around. */
export function notesText(summaries: readonly CellSummary[]): string {
  return summaries.flatMap((s) => s.notes.map((n) => `- ${s.row} ${s.cell}: ${n}`)).join('\n');
}

/** One repetition of the loss row: a lab whose directors hear each other only through the lossy relay. */
export interface LossRecord {
  cell: string;
  rep: number;
  /** the relay's seed (d0 -> d1; d1 -> d0 uses seed + 1): the drop/delay draws can be replayed. */
  seed: number;
  /** length of the measurement window, s. */
  seconds: number;
  /** VIP acquisitions in the window; nothing failed, so each one is a spurious failover. */
  spurious: number;
  /** ms of the window during which both directors held the VIP. */
  dualVipMs: number;
  holdersAtStart: string[];
  holdersAtEnd: string[];
  /** the relay's counters over the window, both directions. */
  received: number;
  dropped: number;
  delayMinMs: number | null;
  delayMaxMs: number | null;
  /** the relay's worst timer lateness (event loop behind), ms. */
  lateMaxMs: number | null;
  /** the agent's dead time, ms. */
  deadMs: number;
  /**
   * d0 -> d1 gaps (between forwarded heartbeats) longer than the dead time: the times the
   * path itself went silent long enough for d1 to declare d0 dead. Spurious failovers beyond
   * these come from the agents (timers, load), not from the loss.
   */
  silences: number;
  /** the longest d0 -> d1 gap, ms. */
  maxGapMs: number | null;
  /** the lab came up, d0 alone held the VIP and the window ran. */
  ok: boolean;
  note: string;
}

/** A cell of the loss row; `na` says why it cannot run there. */
export interface LossCellInfo {
  id: string;
  na?: string;
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
const known = (xs: readonly (number | null)[]): number[] => xs.filter((v): v is number => v !== null);
const ratioText = (dropped: number, received: number): string => (received > 0 ? (dropped / received).toFixed(3) : '-');

/** Per cell: spurious failovers per run (median / max / total), both-held time, the relay's measured drop ratio. */
export function lossTable(records: readonly LossRecord[], cells: readonly LossCellInfo[]): string {
  const head = ['cell', 'runs', 'window s', 'spurious failovers per run med / max', 'total', 'both held VIP ms (max)', 'drop ratio (runs min-max)', 'delay ms min-max', 'relay timer late ms (max)',
    'd0->d1 silences > dead time (total)', 'longest d0->d1 gap ms', 'd0 sole holder at end', 'not ok'];
  const rows = cells.flatMap((c): string[][] => {
    const all = records.filter((r) => r.cell === c.id);
    if (c.na) return [[c.id, ...head.slice(1).map(() => 'n/a')]];
    if (all.length === 0) return [];
    const ok = all.filter((r) => r.ok);
    const sp = ok.map((r) => r.spurious);
    const per = ok.filter((r) => r.received > 0).map((r) => r.dropped / r.received);
    const range = per.length ? ` (${Math.min(...per).toFixed(3)}-${Math.max(...per).toFixed(3)})` : '';
    const lo = known(ok.map((r) => r.delayMinMs));
    const hi = known(ok.map((r) => r.delayMaxMs));
    const late = known(ok.map((r) => r.lateMaxMs));
    const gaps = known(ok.map((r) => r.maxGapMs));
    return [[
      c.id, String(all.length), fmt(rankPercentile(ok.map((r) => r.seconds), 50)),
      `${fmt(rankPercentile(sp, 50))} / ${fmt(rankPercentile(sp, 100))}`, String(sum(sp)),
      fmt(Math.max(0, ...ok.map((r) => r.dualVipMs))),
      ratioText(sum(ok.map((r) => r.dropped)), sum(ok.map((r) => r.received))) + range,
      lo.length ? `${Math.min(...lo).toFixed(1)}-${Math.max(...hi).toFixed(1)}` : '-',
      late.length ? Math.max(...late).toFixed(1) : '-',
      String(sum(ok.map((r) => r.silences))), gaps.length ? Math.max(...gaps).toFixed(0) : '-',
      `${ok.filter((r) => r.holdersAtEnd.join() === 'd0').length}/${ok.length}`,
      String(all.length - ok.length),
    ]];
  });
  return table(head, rows);
}

/**
 * The target, judged from the records: 0 spurious failovers for `cell` over at least
 * `runs` runs of at least `seconds` s each. Fewer or shorter runs are reported, not judged.
 */
export function lossTarget(records: readonly LossRecord[], cell: string, want: { runs: number; seconds: number }): string {
  const what = `target: 0 spurious failovers for ${cell} (${want.runs} x ${want.seconds} s at 10 % loss)`;
  const ok = records.filter((r) => r.cell === cell && r.ok);
  if (ok.length === 0) return `${what}: not measured`;
  const total = sum(ok.map((r) => r.spurious));
  const shortest = Math.min(...ok.map((r) => r.seconds));
  const measured = `${total} in ${ok.length} run(s) of >= ${Math.floor(shortest)} s`;
  // a window a few ms short of the full length (timer granularity) still counts as that length
  if (ok.length < want.runs || shortest < want.seconds - 1) return `${what}: not judged (${measured})`;
  return `${what}: ${total === 0 ? 'met' : 'NOT met'} (${measured})`;
}

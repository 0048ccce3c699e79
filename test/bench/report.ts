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
  /** event -> the taker's first GARP ("never" when it sent none); VIP added -> that GARP (NaN when unknown). */
  garp: Summary;
  vipToGarp: Summary;
  /** rounds in which no GARP from the taker was captured. */
  noGarp: number;
  /** the largest spread between the monitors' stamps of the VIP's arrival on the taker, ms. */
  stampSpreadMax: number;
  /** rounds with a taker's GARP between the event and the VIP-added stamp. */
  garpBeforeVip: number;
  /** rounds that did not end with one holder the client pointed at. */
  failed: number;
  /** largest time both directors held the VIP, ms. */
  dualVipMax: number;
  dualAnswerMax: number;
  resolveMedian: number;
  /** crash, crash-svc: rounds in which the dead director still had the VIP before its cleanup. */
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

/** One cell over the saturated-host window (saturate.ts). */
export interface SaturatedResult {
  cell: string;
  /** VIP acquisitions in the window (director switches; a split counts too). */
  switches: number;
  /** ms of the window during which both directors held the VIP, and in how many stretches. */
  dualVipMs: number;
  dualEpisodes: number;
  holdersAtEnd: string[];
}

export interface SaturatedRun {
  loops: number;
  cores: number;
  seconds: number;
  /** the whole machine's CPU use over the window, % of all cores. */
  busyPct: number;
  results: SaturatedResult[];
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
    garp: summarize(records.map((r) => r.garpMs ?? Infinity)),
    vipToGarp: summarize(records.map((r) => r.vipToGarpMs ?? NaN)),
    noGarp: records.filter((r) => r.garpMs === null).length,
    stampSpreadMax: rankPercentile(records.map((r) => r.vipStampSpreadMs ?? NaN), 100),
    garpBeforeVip: count(records.map((r) => r.garpBeforeVip)),
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
export function table(head: string[], rows: string[][], left = 1): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => '| ' + cells.map((c, i) => (i < left ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') + ' |';
  const rule = '|' + widths.map((w, i) => '-'.repeat(w + 1) + (i < left ? '-' : ':')).join('|') + '|';
  return [line(head), rule, ...rows.map(line)].join('\n');
}

const triple = (s: Summary, digits = 0): string => `${fmt(s.median, digits)} / ${fmt(s.p90, digits)} / ${fmt(s.max, digits)}`;

/** The outage table: one line per (row, cell). */
export function outageTable(summaries: readonly CellSummary[]): string {
  const head = ['row', 'cell', 'n', 'outage ms med / p90 / max', 'ARP update ms med / p90 / max', 'both held VIP ms (max)', 'dual-answer 10ms windows (max)', 'resolve ms (med)', 'not ok'];
  const rows = summaries.map((s) => [
    s.row, s.cell, String(s.n), triple(s.outage), triple(s.arp), fmt(s.dualVipMax), String(s.dualAnswerMax), fmt(s.resolveMedian), String(s.failed),
  ]);
  return table(head, rows, 2);
}

/** Crash-row extras (both variants): whether the dead director kept its VIP, before and after its cleanup. */
export function crashTable(summaries: readonly CellSummary[]): string {
  const rows = summaries
    .filter((s) => s.row === 'crash' || s.row === 'crash-svc')
    .map((s) => [s.row, s.cell, `${s.vipLeft}/${s.n}`, `${s.vipAfterCleanup}/${s.n}`]);
  return table(['row', 'cell', 'VIP left on the dead director after SIGKILL', 'VIP still there after the cleanup'], rows, 2);
}

/**
 * The taker's first gratuitous ARP per (row, cell): from the event, and from the moment the
 * VIP was on the taker's interface. Microseconds shown: the target is sub-millisecond.
 */
export function garpTable(summaries: readonly CellSummary[]): string {
  const head = ['row', 'cell', 'n', 'event -> first GARP ms med / p90 / max', 'VIP added -> first GARP ms med / p90 / max', 'VIP stamp spread ms (max)', 'GARP before the VIP stamp', 'no GARP'];
  const rows = summaries.map((s) => [
    s.row, s.cell, String(s.n), triple(s.garp, 1), triple(s.vipToGarp, 3), fmt(s.stampSpreadMax, 3), String(s.garpBeforeVip), String(s.noGarp),
  ]);
  return table(head, rows, 2);
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

/** The saturated-host window: switches and dual holding per cell, the machine's load beside them. */
export function saturatedTable(r: SaturatedRun): string {
  const rows = r.results.map((x) => [
    x.cell, fmt(r.seconds), String(x.switches), fmt(x.dualVipMs), String(x.dualEpisodes), x.holdersAtEnd.join('+') || 'nobody', fmt(r.busyPct),
  ]);
  return table(['cell', 'window s', 'director switches', 'VIP on both directors ms (total)', 'dual-VIP episodes', 'holder at end', 'machine CPU busy %'], rows);
}

/** The project's target for the saturated host, judged per cell: 0 switches and 0 ms of dual VIP. */
export function saturatedTarget(r: SaturatedRun, cells: readonly string[]): string[] {
  return cells.map((cell) => {
    const x = r.results.find((y) => y.cell === cell);
    if (!x) return `target for ${cell} (0 switches, 0 dual-VIP on a saturated host): not measured`;
    const met = x.switches === 0 && x.dualVipMs === 0;
    return `target for ${cell} (0 switches, 0 dual-VIP on a saturated host): ${met ? 'met' : 'NOT met'} (${x.switches} switch(es), ${fmt(x.dualVipMs)} ms dual in ${x.dualEpisodes} episode(s), ${fmt(r.seconds)} s)`;
  });
}

/** The notes of every summary, one line each, for what went wrong or was worked around. */
export function notesText(summaries: readonly CellSummary[]): string {
  return summaries.flatMap((s) => s.notes.map((n) => `- ${s.row} ${s.cell}: ${n}`)).join('\n');
}

/**
 * The loss row's records and tables (pure): spurious failovers per run, what the relays
 * measured, and the target judged from the records.
 */
import { fmt, rankPercentile, table } from './report.js';

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

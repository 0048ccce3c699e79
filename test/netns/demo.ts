/**
 * `npm run demo`: haagent beside keepalived in the namespace lab, the same faults for both,
 * and what a client saw. Needs root and `npm run build`; keepalived comes from
 * scripts/bench-setup.sh (without it haagent runs alone and the demo says why). Rounds per
 * fault: --rounds N (default 5).
 *
 * The cells are the bench's (test/bench/cells.ts): haagent-50-150 (heartbeat 50 ms, dead
 * after 150 ms) and keepalived-50 (VRRPv3, advert_int 0.05, master-down 180 ms), each in a lab
 * of its own, taking turns round by round so a drift of the machine touches both alike.
 *
 * Faults (test/bench/rounds.ts):
 *   crash      SIGKILL of the active agent, its service (the director's responder) still up,
 *              then the supervisor's cleanup (`haagent release`; keepalived: `ip addr del`).
 *   crash-svc  the agent and the service SIGKILLed together (the box is going down), then the
 *              same cleanup: nobody answers until the standby takes over.
 *   planned    the agent's own graceful stop (SIGTERM).
 *   node-loss  the active director's link goes down, then its agent is killed.
 * After crash, crash-svc, planned and node-loss the preferred director's agent is started again
 * and takes the VIP back: the failback row.
 */
import { parseArgs } from 'node:util';
import { installed } from './agents/common.js';
import { haagentAvailable } from './agents/haagent.js';
import { VIP } from './lab.js';
import { CELLS, type CellSpec } from '../bench/cells.js';
import { closeCell, openCell, runLane, type CellRun } from '../bench/lanes.js';
import { crashTable, fmt, notesText, summarizeAll, table, type CellSummary } from '../bench/report.js';
import type { RoundRecord, RowId, Scenario } from '../bench/rounds.js';

const FAULTS: Scenario[] = ['crash', 'crash-svc', 'planned', 'node-loss'];
const HAAGENT = 'haagent-50-150';
const KEEPALIVED = 'keepalived-50';

const say = (s: string): void => void process.stdout.write(s + '\n');
const ms = (v: number | null, digits = 1): string => (v === null ? '-' : fmt(v, digits));

function roundLine(r: RoundRecord): string {
  return [
    r.cell.padEnd(15), `#${r.rep}`.padEnd(4), r.row.padEnd(10),
    ms(r.outageMs).padStart(8), String(r.lost).padStart(6), ms(r.arpMs).padStart(9), ms(r.garpMs).padStart(9), ms(r.vipToGarpMs, 3).padStart(10),
    String(r.dualAnswerWindows).padStart(5), `  ${r.holder ?? 'unsettled'}${r.ok ? '' : '  NOT OK'}${r.note ? '  (' + r.note + ')' : ''}`,
  ].join(' ');
}

/** One small table per figure, a line per fault, the cells side by side. */
function sideBySide(summaries: readonly CellSummary[], rows: readonly RowId[], cells: readonly string[]): string {
  const figures: [string, (s: CellSummary) => string][] = [
    ['outage ms (med / p90 / max)', (s) => `${fmt(s.outage.median)} / ${fmt(s.outage.p90)} / ${fmt(s.outage.max)}`],
    ['ARP update ms (med / p90 / max)', (s) => `${fmt(s.arp.median)} / ${fmt(s.arp.p90)} / ${fmt(s.arp.max)}`],
    ['fault -> first GARP ms (med / max)', (s) => `${fmt(s.garp.median, 1)} / ${fmt(s.garp.max, 1)}`],
    ['VIP added -> first GARP ms (med / max)', (s) => `${fmt(s.vipToGarp.median, 3)} / ${fmt(s.vipToGarp.max, 3)}`],
  ];
  const of = (row: RowId, c: string): CellSummary | undefined => summaries.find((s) => s.row === row && s.cell === c);
  return figures.map(([name, f]) => {
    const lines = rows.map((row) => [row, cells.map((c) => String(of(row, c)?.n ?? 0)).join(' / '), ...cells.map((c) => {
      const s = of(row, c);
      return s ? f(s) : '-';
    })]);
    return `${name}\n\n${table(['row', 'n', ...cells], lines)}`;
  }).join('\n\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' } } });
  const rounds = Math.max(1, Math.min(50, Number(values.rounds) || 5));
  if (process.getuid?.() !== 0) throw new Error('the demo builds network namespaces: run it as root');
  if (!(await haagentAvailable())) throw new Error('dist/src/main.js is not runnable: run `npm run build`');
  let interrupted = false;
  process.on('SIGINT', () => {
    if (interrupted) process.exit(130); // second ^C: leave now; the next run sweeps leftovers
    interrupted = true;
    process.stderr.write('\nstopping after this round (^C again to abort)...\n');
  });
  const withKa = await installed('keepalived');
  const specs = CELLS.filter((c) => c.id === HAAGENT || (withKa && c.id === KEEPALIVED));
  say(`failover demo: ${specs.map((c) => c.id).join(' beside ')}, 2 directors each; a client probes VIP ${VIP} over UDP every 2 ms, ` +
    `watches its ARP entry and captures ARP. ${rounds} round(s) per fault: ${FAULTS.join(', ')} (+ failback).`);
  if (!withKa) say(`keepalived is not installed (sudo bash scripts/bench-setup.sh installs it): ${KEEPALIVED} skipped, haagent runs alone.`);
  const t0 = Date.now();
  const runs: CellRun[] = [];
  let records: RoundRecord[] = [];
  let clean = true;
  try {
    const opened = await Promise.allSettled(specs.map((c: CellSpec) => openCell({ id: c.id, make: c.make, probeMs: c.probeMs, scenarios: FAULTS, reps: rounds })));
    for (const r of opened) if (r.status === 'fulfilled') runs.push(r.value);
    const failed = opened.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    for (const r of runs) say(`- ${r.plan.id}: ${r.ctx.cluster.settings}`);
    say('\ncell            rep  fault        outage   lost  ARP upd.  1st GARP  VIP->GARP  dual  end');
    say('                                         ms             ms        ms         ms');
    records = await runLane(runs, { onRecord: (r) => say(roundLine(r)), stopping: () => interrupted });
  } finally {
    for (const r of runs) clean = (await closeCell(r)) && clean;
  }
  const rows: RowId[] = [...FAULTS, 'failback'];
  const cells = specs.map((c) => c.id);
  const summaries = summarizeAll(records, rows, cells);
  say('\nsummary (n per cell; first GARP: the taker\'s first gratuitous ARP at the client, from the fault or from ip\'s stamp of the VIP on the taker)\n');
  say(sideBySide(summaries, rows, cells));
  say('\n' + crashTable(summaries));
  const notes = notesText(summaries);
  if (notes) say('\n' + notes);
  const teardown = clean ? 'every namespace and process removed' : 'TEARDOWN INCOMPLETE';
  say(`\n${records.length} rounds in ${((Date.now() - t0) / 1000).toFixed(1)} s; ${teardown}.`);
  if (!clean) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`demo: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});

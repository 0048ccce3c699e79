/**
 * `npm run drill`: the operator's failover drill for haagent alone, in the namespace lab
 * (root, `npm run build`). Two directors, a client probing the VIP over UDP every 2 ms and
 * watching its ARP entry; every fault below, --rounds times each, then one table.
 *
 *   crash      SIGKILL of the active agent + `haagent release` (the unit's ExecStopPost); its
 *              service (the director's responder) keeps running
 *   crash-svc  the agent and the director's service SIGKILLed together, then `haagent release`:
 *              the client is left with nobody answering until the standby takes over
 *   hang       the active agent SIGSTOPped for 3 x deadTime, then SIGCONT: the ex-active must
 *              not keep the VIP alongside the new active (dual holders and dual answers counted)
 *   link-down  the active director's link goes down, its agent keeps running
 *   planned    SIGTERM: the agent hands over and releases its VIP
 *   partition  the directors stop hearing each other for 3 x deadTime, then heal
 *   node-loss  link down + SIGKILL
 *   failback   the preferred director, restarted after a crash/planned/node-loss round,
 *              takes its VIP back (preempt)
 *
 * Timing: --interval 50ms --dead-time 150ms --garp-count 3 --garp-spacing 20ms (--init-dead
 * defaults to 2 x dead time), or --config FILE to take them from a haagent.yaml (its first
 * group's garp and preempt settings too). --rounds N (default 5). --scenarios a,b runs only
 * those faults (names as above, failback comes with crash, crash-svc, planned and node-loss).
 * Every round also reports the taker's first gratuitous ARP at the client (docs/benchmarks.md).
 */
import { parseArgs } from 'node:util';
import { loadConfigFile, formatIssues } from '../../src/config/load.js';
import type { HaagentOptions } from './agents/haagent.js';
import { haagentAvailable } from './agents/haagent.js';
import type { Lab } from './lab.js';
import { HaagentAgentCluster } from '../bench/haagent-cell.js';
import { closeCell, openCell, runLane, type CellPlan, type CellRun } from '../bench/lanes.js';
import { crashTable, garpTable, notesText, outageTable, summarizeAll } from '../bench/report.js';
import { SCENARIOS, type RoundRecord, type RowId, type Scenario } from '../bench/rounds.js';
import { formatMs, parseDuration } from '../bench/settings.js';
import { levipDrillSection } from './levip-drill.js';

const say = (s: string): void => void process.stdout.write(s + '\n');

function optionsFromFile(path: string): HaagentOptions {
  const r = loadConfigFile(path);
  if (!r.ok) throw new Error(`${path} is not a valid haagent configuration:\n${formatIssues(path, r.issues)}`);
  const hb = r.config.heartbeat;
  const g = r.config.groups[0];
  return {
    interval: formatMs(hb.interval),
    deadTime: formatMs(hb.deadTime),
    initDead: formatMs(hb.initDead),
    preempt: g?.preempt ?? true,
    preemptDelay: formatMs(g?.preemptDelay ?? 0),
    garp: g ? { count: g.garp.count, spacing: formatMs(g.garp.spacing), form: g.garp.form, refresh: formatMs(g.garp.refresh) } : undefined,
  };
}

function scenariosOf(text: string | undefined): Scenario[] {
  if (!text) return SCENARIOS;
  const names = text.split(',').map((x) => x.trim()).filter(Boolean);
  const bad = names.filter((x) => !SCENARIOS.includes(x as Scenario));
  if (bad.length) throw new Error(`unknown scenario(s) ${bad.join(', ')}; known: ${SCENARIOS.join(', ')}`);
  return SCENARIOS.filter((x) => names.includes(x));
}

function options(): { timing: HaagentOptions; rounds: number; source: string; scenarios: Scenario[] } {
  const { values } = parseArgs({
    options: {
      interval: { type: 'string', default: '50ms' },
      'dead-time': { type: 'string', default: '150ms' },
      'init-dead': { type: 'string' },
      'garp-count': { type: 'string', default: '3' },
      'garp-spacing': { type: 'string', default: '20ms' },
      rounds: { type: 'string', default: '5' },
      scenarios: { type: 'string' },
      config: { type: 'string' },
    },
  });
  const rounds = Math.max(1, Math.min(50, Number(values.rounds) || 5));
  const scenarios = scenariosOf(values.scenarios);
  if (values.config) return { timing: optionsFromFile(values.config), rounds, source: values.config, scenarios };
  const dead = parseDuration(values['dead-time']);
  parseDuration(values.interval); // refuse a typo before building anything
  const timing: HaagentOptions = {
    interval: values.interval,
    deadTime: values['dead-time'],
    initDead: values['init-dead'] ?? formatMs(2 * dead),
    garp: { count: Number(values['garp-count']), spacing: values['garp-spacing'] },
  };
  return { timing, rounds, source: 'command line', scenarios };
}

function line(r: RoundRecord): string {
  const o = Number.isFinite(r.outageMs) ? r.outageMs.toFixed(1) : 'never';
  const arp = r.arpMs === null ? '-' : r.arpMs.toFixed(1);
  const garp = r.garpMs === null ? '-' : `${r.garpMs.toFixed(1)} ms (VIP->GARP ${r.vipToGarpMs === null ? '-' : r.vipToGarpMs.toFixed(3)} ms)`;
  const extra = [r.dualVipMs > 0 ? `both held the VIP ${r.dualVipMs.toFixed(0)} ms` : '', r.dualAnswerWindows ? `${r.dualAnswerWindows} dual-answer windows` : '', r.note].filter(Boolean).join('; ');
  return `  #${r.rep} ${r.row.padEnd(10)} outage ${o.padStart(8)} ms (${r.lost} lost)  ARP ${arp.padStart(8)} ms  GARP ${garp}  end: ${r.holder ?? 'unsettled'}${r.ok ? '' : '  NOT OK'}${extra ? '  [' + extra + ']' : ''}`;
}

async function main(): Promise<void> {
  const { timing, rounds, source, scenarios } = options();
  if (process.getuid?.() !== 0) throw new Error('the drill builds network namespaces: run it as root');
  if (!(await haagentAvailable())) throw new Error('dist/src/main.js is not runnable: run `npm run build`');
  let interrupted = false;
  process.on('SIGINT', () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write('\nstopping after this round (^C again to abort)...\n');
  });
  const plan: CellPlan = { id: 'haagent', make: (lab: Lab) => new HaagentAgentCluster(lab, timing), probeMs: 2, scenarios, reps: rounds };
  const t0 = Date.now();
  let run: CellRun | null = null;
  let records: RoundRecord[] = [];
  let clean = false;
  try {
    run = await openCell(plan);
    say(`haagent drill (${source}): ${run.ctx.cluster.settings}; ${rounds} round(s) per fault.\n`);
    records = await runLane([run], { onRecord: (r) => say(line(r)), stopping: () => interrupted });
  } finally {
    if (run) clean = await closeCell(run);
  }
  const rows: RowId[] = [...scenarios, 'failback'];
  const summaries = summarizeAll(records, rows, ['haagent']);
  say('\n' + outageTable(summaries));
  say('\nFirst gratuitous ARP from the taker, at the client (capture and ip stamps, wall clock):\n\n' + garpTable(summaries));
  say('\n' + crashTable(summaries));
  const notes = notesText(summaries);
  if (notes) say('\n' + notes);
  const failed = records.filter((r) => !r.ok).length;
  say(`\n${records.length} rounds in ${((Date.now() - t0) / 1000).toFixed(1)} s, ${failed} not ok; ${clean ? 'every namespace and process removed' : 'TEARDOWN INCOMPLETE'}.`);
  if (!clean || failed > 0) process.exitCode = 1;
  if (!interrupted && !(await levipDrillSection(say))) process.exitCode = 1; // LevIP shares (test/netns/levip-drill.ts)
}

main().catch((err: unknown) => {
  process.stderr.write(`drill: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});

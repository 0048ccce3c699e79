/**
 * `npm run demo`: builds the namespace lab, runs repeated failovers of the real agent and
 * prints what a client saw. Needs root. Rounds per fault kind: --rounds N (default 5).
 *
 * Fault kinds:
 *   crash      SIGKILL of the active agent. Its VIP stays on its interface, so the old
 *              director keeps answering until the new one's gratuitous ARP moves the client.
 *   planned    SIGTERM: the agent hands over and releases its VIP.
 *   node-loss  the active director's link goes down, then its agent is killed: packets to
 *              it are lost until the peer notices the silence (deadTime) and announces.
 */
import { parseArgs } from 'node:util';
import { summarize, type Summary } from './analyze.js';
import { HaagentCluster, haagentAvailable } from './agents/haagent.js';
import { waitFor } from './exec.js';
import { Lab, VIP } from './lab.js';
import { failoverRound, restorePreferred, type FaultKind, type RoundResult } from './round.js';

const KINDS: FaultKind[] = ['crash', 'planned', 'node-loss'];
const TIMING = { interval: '50ms', deadTime: '150ms' };

const fmt = (v: number | null, width = 8): string =>
  (v === null || Number.isNaN(v) ? '-' : Number.isFinite(v) ? v.toFixed(1) : 'never').padStart(width);

function roundLine(i: number, r: RoundResult): string {
  return [
    String(i).padStart(5),
    r.kind.padEnd(10),
    fmt(r.outage.outageMs, 10),
    String(r.outage.lost).padStart(5),
    fmt(r.arpUpdateMs, 14),
    String(r.garps ?? '-').padStart(6),
    String(r.dualWindows).padStart(5),
    '  ' + r.answeredBy.join(' > '),
  ].join(' ');
}

function summaryLine(kind: string, outage: Summary, arp: Summary): string {
  const cols = (s: Summary): string => `${fmt(s.median)}${fmt(s.p90)}${fmt(s.max)}`;
  return `${kind.padEnd(10)}${String(outage.n).padStart(4)}   ${cols(outage)}     ${cols(arp)}`;
}

async function drill(rounds: number, stopping: () => boolean): Promise<{ results: RoundResult[]; clean: boolean }> {
  const lab = await Lab.create({ directors: 2 });
  const cluster = new HaagentCluster(lab, TIMING);
  const results: RoundResult[] = [];
  let clean = false;
  try {
    const [d0, d1] = cluster.nodes;
    await lab.startResponders();
    cluster.startAll();
    const up = await waitFor(async () => (await cluster.activeNodes()).join() === 'd0', 10000, 100);
    if (!up) throw new Error(`d0 did not become active:\n${d0.logTail()}`);
    const capture = await lab.startArpCapture();
    process.stdout.write(`lab ${lab.prefix}* up, d0 active. Columns: outage and ARP update in ms, probes lost, GARPs from d1, dual-answer windows.\n\n`);
    process.stdout.write('round fault          outage  lost  ARP update ms  GARPs  dual  answered by\n');
    let i = 0;
    for (const kind of KINDS) {
      for (let k = 0; k < rounds && !stopping(); k++) {
        const r = await failoverRound(lab, d0, d1, kind, { capture });
        results.push(r);
        process.stdout.write(roundLine(++i, r) + '\n');
        await restorePreferred(lab, cluster, d0, kind);
      }
    }
    await capture.stop();
  } finally {
    await cluster.stopAll();
    const left = await lab.destroy();
    cluster.cleanup();
    clean = left.leftNamespaces.length === 0 && left.leftPids.length === 0;
    if (!clean) process.stderr.write(`teardown left ${JSON.stringify(left)}\n`);
  }
  return { results, clean };
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
  process.stdout.write(
    `haagent failover demo: 2 directors, heartbeat ${TIMING.interval}, dead after ${TIMING.deadTime};\n` +
      `a client probes VIP ${VIP} over UDP every 2 ms and watches its ARP entry. ${rounds} round(s) per fault.\n`,
  );
  const t0 = Date.now();
  const { results, clean } = await drill(rounds, () => interrupted);
  process.stdout.write('\nsummary      n   outage ms: median     p90     max    ARP update ms: median     p90     max\n');
  for (const kind of KINDS) {
    const mine = results.filter((r) => r.kind === kind);
    if (mine.length === 0) continue;
    const arp = mine.map((r) => r.arpUpdateMs ?? Infinity);
    process.stdout.write(summaryLine(kind, summarize(mine.map((r) => r.outage.outageMs)), summarize(arp)) + '\n');
  }
  const teardown = clean ? 'every namespace and process removed' : 'teardown incomplete (see above)';
  process.stdout.write(`\n${results.length} failovers in ${((Date.now() - t0) / 1000).toFixed(1)} s; ${teardown}.\n`);
  if (!clean) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`demo: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});

/**
 * Running cells: each cell gets a lab of its own (kept up across all its repetitions) and
 * its agents stay up between rounds. Shared by bench.ts, drill.ts and the smoke test.
 */
import type { AgentCluster } from '../netns/agents/common.js';
import { epochNow, sleep } from '../netns/exec.js';
import { Lab, VIP, type ArpCapture } from '../netns/lab.js';
import { sampleAll, cpuPercent, type ProcSample } from './procstat.js';
import type { SteadyResult } from './report.js';
import { bringUp, hardReset, primeClient, restore } from './restore.js';
import { runRound, waitConsistent, type RoundContext, type RoundRecord, type Scenario } from './rounds.js';
import { acquisitions } from './timeline.js';
import { VipWatch } from './vipwatch.js';

export interface CellPlan {
  id: string;
  make(lab: Lab): AgentCluster;
  probeMs: number;
  scenarios: Scenario[];
  reps: number;
  /** the lab gives the directors a second link between them (LabOptions.backbone). */
  backbone?: boolean;
}

export interface CellRun {
  plan: CellPlan;
  ctx: RoundContext;
}

export interface LaneHooks {
  /** each record as it is made (progress output). */
  onRecord?(r: RoundRecord): void;
  /** true: finish the current round and stop (^C). */
  stopping?(): boolean;
}

/** Builds the cell's lab, starts its agents and waits until d0 serves the client. */
export async function openCell(plan: CellPlan): Promise<CellRun> {
  const lab = await Lab.create({ directors: 2, backbone: plan.backbone ?? false });
  let cluster: AgentCluster | null = null;
  let watch: VipWatch | null = null;
  let capture: ArpCapture | null = null;
  try {
    cluster = plan.make(lab);
    await lab.startResponders();
    watch = await VipWatch.start(lab);
    // One capture for the cell's whole life: the rounds pick their frames by time.
    capture = await lab.startArpCapture();
    const ctx: RoundContext = { lab, cluster, watch, capture, cell: plan.id, probeMs: plan.probeMs };
    await bringUp(ctx);
    return { plan, ctx };
  } catch (err) {
    await closeLab({ lab, cluster, watch, capture });
    throw err;
  }
}

/** Stops the agents (bounded), the watchers and the lab; true when nothing was left behind. */
export function closeCell(run: CellRun): Promise<boolean> {
  return closeLab(run.ctx);
}

/** closeCell for any lab with agents, a VIP watch and an ARP capture (each may be missing after a failed start). */
export async function closeLab({ lab, cluster, watch, capture }: { lab: Lab; cluster: AgentCluster | null; watch: VipWatch | null; capture?: ArpCapture | null }): Promise<boolean> {
  if (cluster) await cluster.stopAll().catch(() => Promise.all(cluster.nodes.map((n) => n.kill())));
  watch?.stop();
  await capture?.stop();
  const left = await lab.destroy();
  cluster?.cleanup();
  return left.leftNamespaces.length === 0 && left.leftPids.length === 0;
}

/** One round of a scenario plus the way back (a failback record when d0 was restarted). */
export async function roundAndRestore(run: CellRun, s: Scenario, rep: number): Promise<RoundRecord[]> {
  const pre = await preRound(run.ctx);
  const r = await runRound(run.ctx, s, rep);
  if (pre) r.note = pre;
  const back = await restore(run.ctx, s, rep);
  if (back.note) r.note = [r.note, back.note].filter(Boolean).join('; ');
  return back.failback ? [r, back.failback] : [r];
}

/**
 * The cell must start each round as it was left: d0 the only holder, the client pointing at
 * it. When it is not (a VIP move while nobody touched it, under the other lanes' load), say
 * so in the round's note and put it back first.
 */
async function preRound(ctx: RoundContext): Promise<string> {
  const [a] = ctx.cluster.nodes;
  if ((await waitConsistent(ctx, 1000, a.name)) !== null) return '';
  const mac = await ctx.lab.neighMac(ctx.lab.client, VIP);
  const client = ctx.lab.directors.find((d) => d.mac === mac)?.name ?? mac ?? 'none';
  const why = `before the round ${ctx.watch.holders().join('+') || 'nobody'} held the VIP and the client pointed at ${client}`;
  await primeClient(ctx);
  if ((await waitConsistent(ctx, 2000, a.name)) === null) await hardReset(ctx);
  return why;
}

/**
 * Repetition by repetition, cell by cell (A B A B ...), every scenario of a cell in a row: a
 * slow drift of the machine then touches every cell alike.
 */
export async function runLane(runs: readonly CellRun[], hooks: LaneHooks = {}): Promise<RoundRecord[]> {
  const out: RoundRecord[] = [];
  const maxReps = Math.max(0, ...runs.map((r) => r.plan.reps));
  for (let rep = 1; rep <= maxReps; rep++) {
    for (const run of runs) {
      if (rep > run.plan.reps) continue;
      for (const s of run.plan.scenarios) {
        if (hooks.stopping?.()) return out;
        for (const r of await roundAndRestore(run, s, rep)) {
          out.push(r);
          hooks.onRecord?.(r);
        }
      }
    }
  }
  return out;
}

/** Sleeps ms, in steps, returning early when stopping() turns true (a window cut short by ^C). */
export async function windowSleep(ms: number, stopping?: () => boolean): Promise<void> {
  const end = epochNow() + ms;
  for (let i = 0; i < Math.ceil(ms / 250) + 1 && epochNow() < end; i++) {
    if (stopping?.()) return;
    await sleep(Math.min(250, Math.max(0, end - epochNow())));
  }
}

const sampleNodes = (c: AgentCluster): ProcSample[] => c.nodes.map((n) => sampleAll(n.pids()));

/** Something else measured over the steady window (the Node floor): no VIP, so no spurious count. */
export interface SteadyExtra {
  id: string;
  sample(): ProcSample[];
}

/**
 * Every cell up, no fault injected, for `seconds`: VIP acquisitions in that window are
 * spurious failovers; RSS at the end and CPU over the window, per director.
 */
export async function steady(runs: readonly CellRun[], seconds: number, extras: readonly SteadyExtra[] = []): Promise<SteadyResult[]> {
  const t0 = epochNow();
  const before = runs.map((r) => sampleNodes(r.ctx.cluster));
  const extraBefore = extras.map((x) => x.sample());
  await sleep(seconds * 1000);
  const t1 = epochNow();
  const secs = (t1 - t0) / 1000;
  const extraRows = extras.map((x, i): SteadyResult => {
    const after = x.sample();
    return { cell: x.id, seconds: secs, spurious: NaN, rssMb: after.map((s) => s.rssKb / 1024), cpuPct: after.map((s, k) => cpuPercent(extraBefore[i]![k]!, s, secs)) };
  });
  return [...steadyRows(runs, before, t0, t1, secs), ...extraRows];
}

function steadyRows(runs: readonly CellRun[], before: ProcSample[][], t0: number, t1: number, secs: number): SteadyResult[] {
  return runs.map((r, i) => {
    const after = sampleNodes(r.ctx.cluster);
    return {
      cell: r.plan.id,
      seconds: secs,
      spurious: acquisitions(r.ctx.watch.events, t0, t1),
      rssMb: after.map((s) => s.rssKb / 1024),
      cpuPct: after.map((s, k) => cpuPercent(before[i][k], s, secs)),
    };
  });
}

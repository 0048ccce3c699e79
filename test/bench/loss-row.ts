/**
 * The bench's loss row (issue 3): 10 % loss with 5 ms jitter on the heartbeat path for 60 s,
 * counting spurious failovers. This kernel has no netem, so the directors hear each other only
 * through the userspace relay (test/netns/relay.ts, lossy-path.ts) in the switch namespace.
 *
 * Every repetition is a small lab of its own (switch + relay, client, d0, d1), and all of
 * them run at once: 10 x 60 s one after another would not fit the bench's 15 minutes. All
 * labs are brought up first, 8 at a time (d0 the only holder), then every lab must have been
 * quiet for 2 s (d0 alone, no VIP acquisition); then one common window starts for all of them
 * (the relays' counters are zeroed), so the start-up burst of the others never falls into a
 * window. VIP acquisitions in the window (VipWatch, as in the
 * steady window) are the spurious failovers. keepalived and ucarp speak VRRP/CARP (IP
 * protocol 112), which a UDP relay cannot carry: their cells are listed as n/a.
 */
import type { AgentCluster } from '../netns/agents/common.js';
import { HaagentAgentCluster } from './haagent-cell.js';
import { epochNow, waitFor } from '../netns/exec.js';
import { Lab } from '../netns/lab.js';
import { DEFAULT_LOSS_MODEL, silences, type LossModel, type RelaySummary } from '../netns/loss.js';
import { startLossyPath, type LossyPath } from '../netns/lossy-path.js';
import { CELLS } from './cells.js';
import { closeLab, windowSleep } from './lanes.js';
import { busyPercent, cpuSample, loadText } from './machine.js';
import type { LossCellInfo, LossRecord } from './report-loss.js';
import { acquisitions, holdersAt, overlapMs } from './timeline.js';
import { VipWatch } from './vipwatch.js';

export interface LossCell extends LossCellInfo {
  agent: AgentCluster['kind'];
  /** binary that must be installed; null: none. */
  needs: string | null;
  /** builds the cell's agents with the relay's addresses as their peers; null when n/a. */
  make: ((lab: Lab, peers: string[][]) => AgentCluster) | null;
}

const VRRP = 'VRRP is IP protocol 112, not UDP: the UDP relay cannot carry it (and this kernel has no netem)';
const CARP = 'CARP is IP protocol 112 multicast, not UDP: the UDP relay cannot carry it (and this kernel has no netem)';

/** A bench cell (cells.ts) run through the relay, with its own settings. */
function fromBench(id: string): LossCell {
  const c = CELLS.find((x) => x.id === id);
  if (!c) throw new Error(`no bench cell ${id}`);
  return { id, agent: c.agent, needs: c.needs, make: (lab, peers) => c.make(lab, peers) };
}

const na = (id: string, agent: AgentCluster['kind'], why: string): LossCell => ({ id, agent, needs: null, make: null, na: why });

/** The cell the target names: 100 ms heartbeats, 500 ms dead time. */
export const LOSS_TARGET_CELL = 'haagent-100-500';

export const LOSS_CELLS: LossCell[] = [
  {
    id: LOSS_TARGET_CELL, agent: 'haagent', needs: null,
    make: (lab, peers) => new HaagentAgentCluster(lab, { interval: '100ms', deadTime: '500ms', initDead: '1000ms', peers }),
  },
  fromBench('haagent-default'),
  fromBench('heartbeat-fast'),
  na('keepalived-fast', 'keepalived', VRRP),
  na('keepalived-default', 'keepalived', VRRP),
  na('ucarp-default', 'ucarp', CARP),
];

export interface LossRowOptions {
  reps: number;
  /** window length, s. */
  seconds: number;
  model?: LossModel;
  /** first relay seed (default 1): see seedFor (each relay uses its seed and seed + 1, one per direction). */
  seedBase?: number;
  /** labs brought up at the same time (default 8): more only thrash 2 cores and starve the labs already up. */
  parallel?: number;
  /** the window waits for this too (the other rows' teardown, which overlaps this row's bring-up). */
  after?: Promise<unknown>;
  /** true: end the window early (^C). */
  stopping?(): boolean;
  /** progress lines. */
  log?(line: string): void;
}

export interface LossRowResult {
  model: LossModel;
  /** the cells asked for, n/a ones included. */
  cells: LossCell[];
  records: LossRecord[];
  /** every cell's settings line (from the first lab that came up). */
  settings: Map<string, string>;
  /** wall time of the whole row (bring-up, window, teardown), s. */
  wallS: number;
  /** the window alone, s; bring-up (until every lab was up) and settling (until all were quiet), s. */
  windowS: number;
  upS: number;
  settleS: number;
  /** the whole machine's CPU use over the window and over the bring-up, % of all cores. */
  busyWindowPct: number;
  busyUpPct: number;
  loadEnd: string;
  /** every namespace and process removed. */
  clean: boolean;
}

interface Unit {
  cell: LossCell;
  rep: number;
  seed: number;
  lab: Lab | null;
  path: LossyPath | null;
  cluster: AgentCluster | null;
  watch: VipWatch | null;
  /** set when bring-up failed. */
  error: string;
}

/** The relay seed of a cell's (i+1)-th run: fixed by the cell's place in LOSS_CELLS, whatever --cells picks. */
export function seedFor(cell: LossCell, i: number, base: number): number {
  const k = LOSS_CELLS.findIndex((c) => c.id === cell.id);
  return base + 1000 * (k < 0 ? LOSS_CELLS.length + 1 : k + 1) + 2 * i;
}

/** Lab, relay, agents through it; waits (bounded) until d0 alone holds the VIP (quiet() then lets every lab settle). */
async function bringUp(u: Unit, model: LossModel, timeoutMs = 60000): Promise<void> {
  const make = u.cell.make;
  if (!make) throw new Error(`${u.cell.id} cannot run through the relay`);
  u.lab = await Lab.create({ directors: 2 });
  u.path = await startLossyPath(u.lab, { model, seed: u.seed });
  u.cluster = make(u.lab, u.path.peers);
  // One monitor per director: the row counts acquisitions, it times nothing to the millisecond.
  u.watch = await VipWatch.start(u.lab, 1);
  await u.cluster.startAll();
  const watch = u.watch;
  if (!(await waitFor(() => watch.holders().join() === 'd0', timeoutMs, 50))) {
    throw new Error(`d0 did not become the only holder in ${timeoutMs} ms (holders: ${watch.holders().join('+') || 'none'})`);
  }
}

function record(u: Unit, t0: number, t1: number, relay: RelaySummary | null, note: string): LossRecord {
  const ev = u.watch?.events ?? [];
  const dirs = relay ? Object.values(relay.directions) : [];
  const pick = (f: (d: RelaySummary['directions']['0to1']) => number | null, agg: (...x: number[]) => number): number | null => {
    const xs = dirs.map(f).filter((v): v is number => v !== null);
    return xs.length ? agg(...xs) : null;
  };
  const atStart = holdersAt(ev, t0);
  const deadMs = u.cluster?.detectMs ?? NaN;
  const quiet = relay ? silences(relay.directions['0to1'].sentAt, deadMs, t0, t1) : null;
  const ok = u.error === '' && relay !== null && atStart.join() === 'd0';
  return {
    cell: u.cell.id, rep: u.rep, seed: u.seed, seconds: (t1 - t0) / 1000,
    spurious: acquisitions(ev, t0, t1), dualVipMs: overlapMs(ev, t0, t1),
    holdersAtStart: atStart, holdersAtEnd: holdersAt(ev, t1),
    received: dirs.reduce((n, d) => n + d.received, 0), dropped: dirs.reduce((n, d) => n + d.dropped, 0),
    delayMinMs: pick((d) => d.delayMinMs, Math.min), delayMaxMs: pick((d) => d.delayMaxMs, Math.max), lateMaxMs: pick((d) => d.lateMaxMs, Math.max),
    deadMs, silences: quiet?.count ?? 0, maxGapMs: quiet?.maxGapMs ?? null,
    ok,
    note: [u.error, relay ? '' : 'no relay summary', u.error === '' && atStart.join() !== 'd0' ? `at the window's start ${atStart.join('+') || 'nobody'} held the VIP` : '', note]
      .filter(Boolean).join('; '),
  };
}

/** f over items, at most n at a time. */
async function pool<T>(items: readonly T[], n: number, f: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await f(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(n, items.length)) }, worker));
}

/**
 * Waits (bounded) until every lab that came up has had d0 as its only holder and no VIP
 * acquisition for quietMs: a lab that flapped under the others' bring-up load settles first.
 */
async function quiet(units: readonly Unit[], quietMs: number, timeoutMs: number): Promise<boolean> {
  const live = units.filter((u) => !u.error && u.watch);
  const calm = (now: number): boolean =>
    live.every((u) => holdersAt(u.watch?.events ?? [], now).join() === 'd0' && acquisitions(u.watch?.events ?? [], now - quietMs, now) === 0);
  return (await waitFor(() => calm(epochNow()), timeoutMs, 100)) ?? false;
}

/** Runs the row: every (cell, repetition) in a lab of its own, all at once, one common window. */
export async function runLossRow(cells: readonly LossCell[], o: LossRowOptions): Promise<LossRowResult> {
  const model = o.model ?? DEFAULT_LOSS_MODEL;
  const log = o.log ?? (() => undefined);
  const start = epochNow();
  const runnable = cells.filter((c) => c.make !== null);
  // Interleaved (a1 b1 c1 a2 ...), so every cell's labs are up about as long before the window.
  const units: Unit[] = Array.from({ length: o.reps }, (_, i) => runnable.map((cell) => ({
    cell, rep: i + 1, seed: seedFor(cell, i, o.seedBase ?? 1), lab: null, path: null, cluster: null, watch: null, error: '',
  }))).flat();
  // Every lab registers an exit handler (Lab kills its processes if we die): many at once is expected.
  process.setMaxListeners(Math.max(process.getMaxListeners(), units.length + 20));
  const settings = new Map<string, string>();
  let clean = true;
  const records: LossRecord[] = [];
  const cpu0 = cpuSample();
  let t0 = epochNow();
  let t1 = t0;
  let busyUpPct = NaN;
  let busyWindowPct = NaN;
  let upS = NaN;
  let settleS = NaN;
  try {
    const n = o.parallel ?? 8;
    log(`loss row: bringing up ${units.length} labs (${runnable.map((c) => c.id).join(', ')} x ${o.reps}), ${n} at a time`);
    await pool(units, n, (u) => bringUp(u, model).catch((err: unknown) => {
      u.error = `bring-up failed: ${err instanceof Error ? err.message : String(err)}`;
    }));
    for (const u of units) if (u.cluster && !settings.has(u.cell.id)) settings.set(u.cell.id, u.cluster.settings);
    upS = (epochNow() - start) / 1000;
    await o.after;
    // Bounded tight: a lab that does not settle (Heartbeat split under the bring-up load) is
    // reported as not ok; waiting longer for it would stretch the whole bench.
    const settled = await quiet(units, 2000, 10000);
    settleS = (epochNow() - start) / 1000 - upS;
    const cpu1 = cpuSample();
    busyUpPct = busyPercent(cpu0, cpu1);
    log(`loss row: ${units.filter((u) => !u.error).length}/${units.length} labs up in ${upS.toFixed(0)} s, ` +
      `${settled ? 'all quiet' : 'NOT all quiet'} after ${settleS.toFixed(0)} s more; ${o.seconds} s window`);
    for (const u of units) u.path?.mark();
    t0 = epochNow();
    await windowSleep(o.seconds * 1000, o.stopping);
    t1 = epochNow();
    busyWindowPct = busyPercent(cpu1, cpuSample());
    const relays = await Promise.all(units.map((u) => u.path?.stop().catch(() => null) ?? Promise.resolve(null)));
    units.forEach((u, i) => records.push(record(u, t0, t1, relays[i], '')));
  } finally {
    // The window is over: no graceful handover needed (it would wait for a peer behind a stopped relay).
    await Promise.all(units.flatMap((u) => u.cluster?.nodes.map((n) => n.kill()) ?? []));
    const closed = await Promise.all(units.filter((u) => u.lab).map((u) => closeLab({ lab: u.lab as Lab, cluster: u.cluster, watch: u.watch })));
    clean = closed.every(Boolean);
  }
  return {
    model, cells: [...cells], records, settings, wallS: (epochNow() - start) / 1000, windowS: (t1 - t0) / 1000, upS, settleS,
    busyWindowPct, busyUpPct, loadEnd: loadText(), clean,
  };
}

/**
 * Soak: three real agents (heartbeat every 50 ms, dead time 150 ms) in the lab while the
 * harness injects a random fault every few seconds, one at a time: crash (SIGKILL, release,
 * start), hang (SIGSTOP/SIGCONT), link down/up, partition/heal (bridge port isolation),
 * planned stop (SIGTERM, start). d2 is never restarted (only hung, cut off or partitioned),
 * so one agent process lives through the whole soak and its RSS trend means something.
 * Recorded all along: every add/delete of the VIP on every
 * director (ip monitor), every heartbeat as it enters the switch (tcpdump), the client's
 * probe (every 10-20 ms), each agent's RSS, and each agent's state over its socket.
 *
 * The safety property: the VIP is never on two directors at once for longer than the dead
 * time, except while a fault is in force (plus one interval after it clears) or while one
 * of the two holders was silent for longer than the dead time (starved: hung in effect).
 *
 *   npm run build && node dist/test/bench/soak.js [minutes=30] [seed=1]
 *
 * test/netns/soak.test.ts runs the same soak for 90 s (HAAGENT_SOAK_S to change it).
 */
import { pathToFileURL } from 'node:url';
import { HaagentCluster, type HaagentNode } from '../netns/agents/haagent.js';
import { percentile, type ProbeResult } from '../netns/analyze.js';
import { prng } from '../netns/attacker.js';
import { epochNow, sleep } from '../netns/exec.js';
import { hang, isolateDirectors, linkDown, linkUp } from '../netns/faults.js';
import { Lab } from '../netns/lab.js';
import { logOf, waitSoleActive } from '../fixtures/security/drill.js';
import { captureHeartbeats } from '../fixtures/security/pcap.js';
import { dualActiveSamples, dualPresence, maxGapOutside, silences, slopePerMinute, type Window } from '../fixtures/security/timeline.js';
import { fastStatus, groupOf, rssKb, StatusSampler, VipWatch } from '../fixtures/security/watch.js';

export const INTERVAL_MS = 50;
export const DEAD_MS = 150;
export const FAULT_KINDS = ['kill', 'hang', 'link', 'partition', 'term'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface SoakOptions {
  durationMs: number;
  seed?: number;
  /** quiet time between two faults, ms (uniform in [min, max]). */
  gapMs?: [number, number];
  probeIntervalMs?: number;
  rssEveryMs?: number;
  log?: (line: string) => void;
}

export interface FaultRecord {
  kind: FaultKind;
  node: string;
  at: number;
  until: number;
  /** the target was the active node when hit. */
  onActive: boolean;
}

export interface RssSeries {
  node: string;
  pid: number;
  points: { at: number; v: number }[];
}

export interface SoakReport {
  durationMs: number;
  faults: FaultRecord[];
  transitions: Record<string, number>;
  vipEvents: number;
  outages: { count: number; p50Ms: number; maxMs: number; unanswered: number; probes: number; longest: { ms: number; after: string }[] };
  /** per node: heartbeats seen and the largest gap outside its own faults. */
  heartbeats: Record<string, { count: number; maxGapMs: number }>;
  /** silences longer than the dead time that no fault explains (a starved process). */
  starved: { count: number; longestMs: number };
  rss: { node: string; pid: number; minutes: number; firstKb: number; lastKb: number; slopeKbPerMin: number }[];
  dual: { windows: number; maxInContactMs: number; violations: { from: number; to: number; nodes: string[]; after: string }[] };
  dualActiveSamples: number;
  unexpectedExits: string[];
  final: { active: string[]; holders: string[] };
}

type Rand = () => number;
const pick = <T>(rand: Rand, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const between = (rand: Rand, lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));

interface Run {
  lab: Lab;
  nodes: HaagentNode[];
  rand: Rand;
  /** faults in force on one node (crash until released, hang, link). */
  perNode: Map<string, Window[]>;
  global: Window[];
  faults: FaultRecord[];
}

async function activeNode(nodes: readonly HaagentNode[]): Promise<HaagentNode | null> {
  for (const n of nodes) if (n.proc?.alive() && groupOf(await fastStatus(n, 300))?.state === 'active') return n;
  return null;
}

/** Injects one fault and clears it; returns when the cluster may run on its own again. */
async function inject(r: Run, kind: FaultKind, node: HaagentNode, onActive: boolean): Promise<void> {
  const at = epochNow();
  // Recorded before it acts, so what happens meanwhile is attributed to this fault.
  const rec: FaultRecord = { kind, node: kind === 'partition' ? '*' : node.name, at, until: Infinity, onActive };
  r.faults.push(rec);
  const win = (from: number, to: number): void => void r.perNode.get(node.name)!.push({ from, to, why: `${kind} ${node.name}` });
  switch (kind) {
    case 'kill': {
      await node.kill();
      await node.release();
      win(at, epochNow());
      node.start();
      break;
    }
    case 'hang':
      await hang(node.proc!, between(r.rand, 300, 1500));
      win(at, epochNow() + INTERVAL_MS);
      break;
    case 'link':
      await linkDown(node.host);
      await sleep(between(r.rand, 500, 2000));
      await linkUp(node.host);
      win(at, epochNow() + INTERVAL_MS);
      break;
    case 'partition':
      await isolateDirectors(r.lab, true);
      await sleep(between(r.rand, 500, 2000));
      await isolateDirectors(r.lab, false);
      r.global.push({ from: at, to: epochNow() + INTERVAL_MS, why: 'partition' });
      break;
    case 'term':
      // Planned: the agent hands over while everyone hears it. Nothing is excused.
      await node.stop();
      await sleep(between(r.rand, 200, 1000));
      node.start();
      break;
  }
  rec.until = epochNow();
}

/** Restarts nodes that died without being told to; returns their names. */
function reviveUnexpected(nodes: readonly HaagentNode[]): string[] {
  const dead = nodes.filter((n) => n.proc && !n.proc.alive());
  for (const n of dead) n.start();
  return dead.map((n) => n.name);
}

/**
 * Where a moment sits: seconds into the soak and the fault it belongs to: the last one that
 * started before it, or within 200 ms after it (an outage is dated from the last answered
 * probe, which can leave just before the fault that cuts the next ones off).
 */
function context(at: number, t0: number, faults: readonly FaultRecord[]): string {
  const last = [...faults].reverse().find((f) => f.at <= at + 200);
  const where = `${((at - t0) / 1000).toFixed(2)} s`;
  if (!last) return where;
  const what = `${last.kind} ${last.node}${last.onActive ? ' (active)' : ''}`;
  if (at < last.at) return `${where}, ${(last.at - at).toFixed(0)} ms before ${what}`;
  return at < last.until ? `${where}, ${(at - last.at).toFixed(0)} ms into ${what}` : `${where}, ${(at - last.until).toFixed(0)} ms after ${what} cleared`;
}

/** RSS slope after the first 20 s of a process (start-up allocation and the first GCs). */
function steadySlope(points: readonly { at: number; v: number }[]): number {
  const from = (points[0]?.at ?? 0) + 20_000;
  return slopePerMinute(points.filter((p) => p.at >= from));
}

function outageStats(res: ProbeResult, t0: number, faults: readonly FaultRecord[]): SoakReport['outages'] {
  const answered = new Set(res.replies.map((x) => x.seq));
  const runs: { ms: number; at: number }[] = [];
  let unanswered = 0;
  for (let seq = 0; seq < res.sentAt.length; seq++) {
    if (answered.has(seq)) continue;
    const start = seq;
    while (seq < res.sentAt.length && !answered.has(seq)) seq++;
    unanswered += seq - start;
    // A single lost probe is noise on a loaded machine; two or more in a row is an outage.
    if (seq - start < 2 || start === 0 || seq >= res.sentAt.length) continue;
    runs.push({ ms: res.sentAt[seq]! - res.sentAt[start - 1]!, at: res.sentAt[start - 1]! });
  }
  const ms = runs.map((x) => x.ms);
  const longest = [...runs].sort((a, b) => b.ms - a.ms).slice(0, 3).map((x) => ({ ms: x.ms, after: context(x.at, t0, faults) }));
  return { count: runs.length, p50Ms: ms.length ? percentile(ms, 50) : 0, maxMs: ms.length ? Math.max(...ms) : 0, unanswered, probes: res.sentAt.length, longest };
}

export async function runSoak(opts: SoakOptions): Promise<SoakReport> {
  const say = opts.log ?? (() => undefined);
  const lab = await Lab.create({ directors: 3 });
  const cluster = new HaagentCluster(lab, { interval: `${INTERVAL_MS}ms`, deadTime: `${DEAD_MS}ms`, initDead: '300ms' });
  const nodes = cluster.nodes;
  const longLived = nodes[nodes.length - 1]!;
  const r: Run = { lab, nodes, rand: prng(opts.seed ?? 1), perNode: new Map(nodes.map((n) => [n.name, []])), global: [], faults: [] };
  const rss = new Map<number, RssSeries>();
  const unexpectedExits: string[] = [];
  let stopRss = false;
  try {
    await lab.startResponders();
    cluster.startAll();
    if (!(await waitSoleActive(lab, nodes, 'd0', 15_000))) throw new Error(`d0 did not become the sole active node:\n${nodes[0]!.logTail()}`);
    const watch = await VipWatch.start(lab);
    const cap = await captureHeartbeats(lab, lab.directors);
    const sampler = new StatusSampler(nodes, 100);
    const probe = await lab.startProbe({ intervalMs: opts.probeIntervalMs ?? 10 });
    const rssLoop = (async () => {
      for (let i = 0; i < 1_000_000 && !stopRss; i++) {
        for (const n of nodes) {
          const pid = n.proc?.pid;
          const kb = pid && n.proc?.alive() ? rssKb(pid) : null;
          if (!pid || kb === null) continue;
          if (!rss.has(pid)) rss.set(pid, { node: n.name, pid, points: [] });
          rss.get(pid)!.points.push({ at: epochNow(), v: kb });
        }
        await sleep(opts.rssEveryMs ?? 1000);
      }
    })();
    const t0 = epochNow();
    const [gapLo, gapHi] = opts.gapMs ?? [2000, 4000];
    for (let i = 0; i < 100_000 && epochNow() - t0 < opts.durationMs; i++) {
      await sleep(between(r.rand, gapLo, gapHi));
      unexpectedExits.push(...reviveUnexpected(nodes));
      const active = await activeNode(nodes);
      const kind = pick(r.rand, FAULT_KINDS);
      // The long-lived agent is spared the faults that restart the process.
      const pool = kind === 'kill' || kind === 'term' ? nodes.filter((n) => n !== longLived) : nodes;
      const target = active && pool.includes(active) && r.rand() < 0.5 ? active : pick(r.rand, pool);
      await inject(r, kind, target, target === active);
      say(`${((epochNow() - t0) / 1000).toFixed(1)} s: ${kind} ${kind === 'partition' ? '(all)' : target.name}${target === active ? ' (active)' : ''}`);
    }
    await sleep(3000); // the last fault's consequences settle
    const converged = await waitSoleActive(lab, nodes, 'd0', 10_000);
    const end = epochNow();
    const probeRes = await probe.stop();
    stopRss = true;
    await rssLoop;
    const samples = await sampler.stop();
    const beats = await cap.stop();
    const events = watch.stop().filter((e) => e.at >= t0);
    const holders = watch.holders();
    const active = (await Promise.all(nodes.map(async (n) => (groupOf(await fastStatus(n))?.state === 'active' ? n.name : null)))).filter((x): x is string => x !== null);
    if (!converged) say(`did not converge on d0: active ${active.join(',')}, holders ${holders.join(',')}`);

    const heartbeats: SoakReport['heartbeats'] = {};
    const starved = new Map<string, Window[]>();
    let starvedCount = 0;
    let starvedLongest = 0;
    for (const n of nodes) {
      const times = (beats.get(n.name) ?? []).map((p) => p.at);
      const own = [...r.perNode.get(n.name)!, ...r.faults.filter((f) => f.kind === 'term' && f.node === n.name).map((f) => ({ from: f.at, to: f.until + INTERVAL_MS, why: 'term' }))];
      heartbeats[n.name] = { count: times.length, maxGapMs: maxGapOutside(times, own).gapMs };
      const silent = silences(times, DEAD_MS, t0, end, `${n.name} silent`);
      const unexplained = silent.filter((w) => !own.some((f) => f.from <= w.to && f.to >= w.from));
      starvedCount += unexplained.length;
      starvedLongest = Math.max(starvedLongest, ...unexplained.map((w) => w.to - w.from));
      // Any silence excuses overlaps of that node: the ones during its own faults as well.
      starved.set(n.name, [...silent, ...r.perNode.get(n.name)!]);
    }
    const dual = dualPresence(events, end, r.global, DEAD_MS, starved);
    const transitions: Record<string, number> = {};
    for (const n of nodes) transitions[n.name] = logOf(n).filter((e) => typeof e.from === 'string' && typeof e.to === 'string' && typeof e.group === 'string').length;
    const allWindows = [...r.global, ...[...r.perNode.values()].flat(), ...r.faults.map((f) => ({ from: f.at, to: f.until + DEAD_MS, why: f.kind }))];
    return {
      durationMs: end - t0,
      faults: r.faults,
      transitions,
      vipEvents: events.length,
      outages: outageStats(probeRes, t0, r.faults),
      heartbeats,
      starved: { count: starvedCount, longestMs: starvedLongest },
      rss: [...rss.values()].filter((s) => s.points.length >= 2).map((s) => ({
        node: s.node, pid: s.pid, minutes: (s.points[s.points.length - 1]!.at - s.points[0]!.at) / 60_000,
        firstKb: s.points[0]!.v, lastKb: s.points[s.points.length - 1]!.v, slopeKbPerMin: steadySlope(s.points),
      })),
      dual: { windows: dual.all.length, maxInContactMs: dual.maxInContactMs, violations: dual.violations.map((v) => ({ ...v, after: context(v.from, t0, r.faults) })) },
      dualActiveSamples: dualActiveSamples(samples, allWindows).length,
      unexpectedExits,
      final: { active, holders },
    };
  } finally {
    stopRss = true;
    await isolateDirectors(lab, false).catch(() => undefined);
    await cluster.stopAll();
    const left = await lab.destroy();
    cluster.cleanup();
    if (left.leftNamespaces.length || left.leftPids.length) say(`teardown left ${JSON.stringify(left)}`);
  }
}

/** The report as text lines (the bench prints them; the test puts them in comments). */
export function formatSoak(s: SoakReport): string[] {
  const kinds = FAULT_KINDS.map((k) => `${k} ${s.faults.filter((f) => f.kind === k).length}`).join(', ');
  // Restarted agents live seconds to minutes: their slope is start-up noise. Show the
  // longest-lived processes, and the median slope of those that lived a minute or more.
  const byLife = s.rss.filter((x) => Number.isFinite(x.slopeKbPerMin)).sort((a, b) => b.minutes - a.minutes);
  const long = byLife.slice(0, 3);
  const slopes = byLife.filter((x) => x.minutes >= 1).map((x) => x.slopeKbPerMin);
  return [
    `soak ${(s.durationMs / 1000).toFixed(0)} s: ${s.faults.length} faults (${kinds}; ${s.faults.filter((f) => f.onActive).length} on the active node)`,
    `transitions logged: ${Object.entries(s.transitions).map(([n, c]) => `${n} ${c}`).join(', ')}; VIP add/delete events ${s.vipEvents}`,
    `client outages (>= 2 probes lost): ${s.outages.count}, median ${s.outages.p50Ms.toFixed(0)} ms, max ${s.outages.maxMs.toFixed(0)} ms; ${s.outages.unanswered} of ${s.outages.probes} probes unanswered` +
      s.outages.longest.map((o) => `\n  ${o.ms.toFixed(0)} ms starting ${o.after}`).join(''),
    `max heartbeat gap outside own faults: ${Object.entries(s.heartbeats).map(([n, h]) => `${n} ${h.maxGapMs.toFixed(1)} ms (${h.count} beats)`).join(', ')}`,
    `silences > ${DEAD_MS} ms no fault explains (starved): ${s.starved.count}, longest ${s.starved.longestMs.toFixed(0)} ms`,
    `RSS of the longest-lived agent processes: ${long.map((x) => `${x.node}/${x.pid} ${x.firstKb}->${x.lastKb} kB over ${x.minutes.toFixed(1)} min, slope ${x.slopeKbPerMin.toFixed(1)} kB/min`).join('; ') || 'none'}` +
      (slopes.length ? `; median slope of the ${slopes.length} living >= 1 min: ${percentile(slopes, 50).toFixed(1)} kB/min` : ''),
    `VIP on two directors: ${s.dual.windows} windows, longest outside fault/starvation windows ${s.dual.maxInContactMs.toFixed(1)} ms, violations (> ${DEAD_MS} ms) ${s.dual.violations.length}` +
      s.dual.violations.map((v) => `\n  ${v.nodes.join('+')} for ${(v.to - v.from).toFixed(1)} ms at ${v.after}`).join(''),
    `status samples with two actives outside fault windows: ${s.dualActiveSamples}; unexpected exits: ${s.unexpectedExits.join(', ') || 'none'}`,
    `final: active ${s.final.active.join(',') || 'none'}, VIP on ${s.final.holders.join(',') || 'none'}`,
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const minutes = Number(process.argv[2] ?? '30');
  const seed = Number(process.argv[3] ?? '1');
  const started = new Date().toISOString();
  const report = await runSoak({ durationMs: minutes * 60_000, seed, probeIntervalMs: 20, rssEveryMs: 5000, log: (l) => process.stderr.write(`${l}\n`) });
  process.stdout.write([`soak started ${started}, ${minutes} min, seed ${seed}`, ...formatSoak(report)].join('\n') + '\n');
  process.exitCode = report.dual.violations.length === 0 && report.final.active.length === 1 ? 0 : 1;
}

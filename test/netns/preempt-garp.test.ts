/**
 * Drills of the options that decide when a node claims and how it announces, with real agents
 * in one lab shared by four clusters (each stopped, its VIPs released, before the next):
 *
 * - initDead: a node started alone stays in init, without the VIP, for the whole window and
 *   claims after it; a node that hears a live active peer during the window becomes standby
 *   at once and never claims.
 * - preempt off on the higher-priority node: restarted while the lower one is active, it stays
 *   standby and the lower one keeps the VIP.
 * - preemptDelay: the returning higher-priority node takes over no earlier than the delay
 *   after it came back (measured between its own logged transitions).
 * - garp: the takeover burst (count frames of each form, spacing apart) and one refresh burst
 *   per refresh period while active, counted in a capture on the client.
 *
 * The VIP is watched continuously (`ip monitor`), states over the control socket. Needs root
 * and `npm run build`.
 */
import t, { type Test } from 'tap';
import { delVip } from './agents/common.js';
import { HaagentCluster, haagentAvailable, type HaagentNode, type HaagentOptions } from './agents/haagent.js';
import { garpsFor, type ArpFrame } from './analyze.js';
import { epochNow, sleep, waitFor } from './exec.js';
import { linkDown, linkUp } from './faults.js';
import { Lab, VIP } from './lab.js';
import { findLog, logOf, waitGroup, waitSoleActive } from '../fixtures/security/drill.js';
import { fastStatus, groupOf, VipWatch } from '../fixtures/security/watch.js';

if (process.getuid?.() !== 0) t.plan(0, 'network namespaces need root');
else if (!(await haagentAvailable())) t.plan(0, 'dist/src/main.js run is not available: run `npm run build`');

/**
 * A dead time no loaded machine reaches by accident: these drills sample "nobody else claims"
 * for seconds, and a peer declared dead after a 150 ms stall would claim for real.
 */
const TIMING: HaagentOptions = { interval: '100ms', deadTime: '600ms', initDead: '600ms' };

interface Sample {
  /** epoch ms when the answer arrived. */
  at: number;
  state: string | null;
  /** time since the agent's core started (its init window runs from there). */
  uptimeMs: number | null;
  vipPresent: boolean | null;
}

/** The group's state every stepMs until `more` says stop (after each sample) or maxMs passed. */
async function sample(node: HaagentNode, more: (s: Sample) => boolean, maxMs: number, stepMs = 100): Promise<Sample[]> {
  const out: Sample[] = [];
  const end = epochNow() + maxMs;
  for (let i = 0; i < Math.ceil(maxMs / stepMs) + 1 && epochNow() < end; i++) {
    const st = await fastStatus(node, 1000);
    const g = groupOf(st);
    const s = { at: epochNow(), state: g?.state ?? null, uptimeMs: st?.uptimeMs ?? null, vipPresent: g?.vipPresent ?? null };
    out.push(s);
    if (!more(s)) break;
    await sleep(stepMs);
  }
  return out;
}

/** Epoch ms of the node's first logged transition of the group to `to` (after skip entries). */
function transitionAt(node: HaagentNode, from: string, to: string, skip = 0): { at: number; reason: string } | null {
  const e = findLog(logOf(node), new RegExp(`"from":"${from}","to":"${to}"`), 0, skip);
  return e ? { at: Date.parse(String(e.time)), reason: String(e.reason) } : null;
}

/** Stops every agent of the cluster and deletes the VIP the killed ones left; the lab is clean after. */
async function finish(cluster: HaagentCluster, killed: readonly HaagentNode[] = []): Promise<void> {
  await cluster.stopAll();
  for (const n of killed) await delVip(n.host);
  cluster.cleanup();
}

const pingVip = (lab: Lab) => waitFor(async () => (await lab.exec(lab.client, ['ping', '-c', '1', '-W', '1', VIP], 3000)).code === 0, 5000, 100);

/**
 * d0 first, alone until it holds the VIP, then d1 until it stands by: started together, the
 * node whose process comes up first on a loaded machine would claim when its initDead ends.
 */
async function d0ThenD1(t: Test, lab: Lab, cluster: HaagentCluster): Promise<void> {
  const [d0, d1] = cluster.nodes as [HaagentNode, HaagentNode];
  d0.start();
  t.ok(await waitSoleActive(lab, cluster.nodes, 'd0', 10_000), 'd0 active', { log: d0.logTail() });
  d1.start();
  t.ok(await waitGroup(d1, (s) => s === 'standby', 10_000), 'd1 standby', { log: d1.logTail() });
}

/** d0 active and known to the client, then stopped (SIGTERM): d1 holds the VIP. */
async function handOverToD1(t: Test, lab: Lab, cluster: HaagentCluster): Promise<void> {
  const [d0, d1] = cluster.nodes as [HaagentNode, HaagentNode];
  await d0ThenD1(t, lab, cluster);
  t.ok(await pingVip(lab), 'the client reaches the VIP');
  await d0.stop();
  t.ok(await waitSoleActive(lab, cluster.nodes, 'd1', 5000), 'd0 stopped: d1 holds the VIP', { log: d1.logTail() });
}

async function initDead(t: Test, lab: Lab): Promise<void> {
  const initDeadMs = 3000;
  const cluster = new HaagentCluster(lab, { ...TIMING, initDead: '3s' });
  const [d0, d1] = cluster.nodes as [HaagentNode, HaagentNode];
  const watch = await VipWatch.start(lab);
  try {
    d0.start();
    const window = await sample(d0, (s) => s.state === null || s.state === 'init', initDeadMs + 10_000);
    const init = window.filter((s) => s.state === 'init');
    const early = window.filter((s) => s.uptimeMs !== null && s.uptimeMs < initDeadMs);
    t.ok(init.length >= 5, `d0 alone: status sampled in init ${init.length} times`);
    t.ok(Math.max(...init.map((s) => s.uptimeMs ?? 0)) >= initDeadMs / 2, 'into the second half of the window', { uptimes: init.map((s) => s.uptimeMs) });
    // vipPresent null (not known yet) is no claim; the VIP watch below sees the address itself.
    t.same(early.filter((s) => s.state !== 'init' || s.vipPresent === true), [], `every sample within the first ${initDeadMs} ms: init, no VIP`);
    t.equal(transitionAt(d0, 'init', 'standby')?.reason, 'init-dead elapsed', 'init ended when initDead elapsed');
    t.ok(await waitGroup(d0, (s, v) => s === 'active' && v === true, 10_000), 'then d0 claims: active with the VIP', { log: d0.logTail() });
    // When the core started, at the latest: no answer can carry an uptime older than it.
    const coreStart = Math.min(...window.filter((s) => s.uptimeMs !== null && s.uptimeMs > 0).map((s) => s.at - s.uptimeMs!));
    const firstAdd = watch.events.find((e) => e.node === 'd0' && e.present);
    t.ok(firstAdd, 'the VIP appeared on d0');
    // 100 ms of slack: ip monitor stamps with the wall clock, this process with its own timer.
    t.ok(firstAdd && firstAdd.at - coreStart >= initDeadMs - 100, `added ${firstAdd ? (firstAdd.at - coreStart).toFixed(0) : '-'} ms after the start (initDead ${initDeadMs} ms)`);

    // The same window on d1, started while d0 is active: it learns the holder and stands by.
    d1.start();
    const d1window = (await sample(d1, (s) => s.uptimeMs === null || s.uptimeMs < initDeadMs + 500, initDeadMs + 10_000)).filter((s) => s.state !== null);
    const standby = transitionAt(d1, 'init', 'standby');
    t.match(standby?.reason ?? '', /^(learned the active node|heard every peer)$/, `d1 left init on hearing d0: "${standby?.reason}"`);
    t.ok(d1window.length >= 5 && d1window.every((s) => s.state === 'init' || s.state === 'standby'), `d1 never claimed in ${d1window.length} samples through its window`);
    t.equal(d1window.at(-1)?.state, 'standby', 'and is standby after it');
    t.same(watch.events.filter((e) => e.node === 'd1' && e.present), [], 'the VIP never appeared on d1');
    t.same(await cluster.activeNodes(), ['d0'], 'd0 is still the only active node');
  } finally {
    watch.stop();
    await finish(cluster);
  }
}

async function preemptOff(t: Test, lab: Lab): Promise<void> {
  const cluster = new HaagentCluster(lab, { ...TIMING, preempt: [false, true] });
  const [d0, d1] = cluster.nodes as [HaagentNode, HaagentNode];
  try {
    await handOverToD1(t, lab, cluster);
    const watch = await VipWatch.start(lab);
    try {
      d0.start();
      t.ok(await waitGroup(d0, (s) => s === 'standby', 10_000), 'd0 restarted: standby', { log: d0.logTail() });
      // Answered samples only: a status request that timed out on a loaded machine says nothing.
      const held = (await sample(d0, (s) => (s.uptimeMs ?? 0) < 3000, 10_000)).filter((s) => s.state !== null);
      const d1s = groupOf(await fastStatus(d1, 1000));
      t.ok(held.length >= 5 && held.every((s) => s.state === 'standby' && s.vipPresent === false), `d0 standby without the VIP in all ${held.length} samples over its first 3 s`);
      t.equal(d1s?.state, 'active', 'd1 still active');
      t.same(watch.events.filter((e) => e.node === 'd0' && e.present), [], 'the VIP never appeared on d0');
      t.same(watch.holders(), ['d1'], 'd1 holds it throughout');
      t.equal(await lab.neighMac(lab.client, VIP), lab.directors[1]!.mac, "the client's entry still names d1");
    } finally {
      watch.stop();
    }
  } finally {
    await finish(cluster);
  }
}

async function preemptDelay(t: Test, lab: Lab): Promise<void> {
  const delayMs = 2000;
  const cluster = new HaagentCluster(lab, { ...TIMING, preemptDelay: '2s' });
  const [d0] = cluster.nodes as [HaagentNode, HaagentNode];
  try {
    await handOverToD1(t, lab, cluster);
    const skip = logOf(d0).length;
    d0.start();
    t.ok(await waitSoleActive(lab, cluster.nodes, 'd0', delayMs + 10_000), 'd0 back: it preempts', { log: d0.logTail(30) });
    const back = transitionAt(d0, 'init', 'standby', skip);
    const took = transitionAt(d0, 'standby', 'active', skip);
    t.match(took?.reason ?? '', /^preempting d1/, `d0's reason: "${took?.reason}"`);
    const waited = back && took ? took.at - back.at : NaN;
    // The agent's log stamps whole milliseconds (Date.now() when the line is written): 5 ms of slack.
    t.ok(waited >= delayMs - 5, `d0 waited ${waited} ms in standby after hearing d1 (preemptDelay ${delayMs} ms)`);
    t.ok(waited <= delayMs + 3000, 'and took over within 3 s after the delay');
    t.ok(await waitFor(async () => (await lab.neighMac(lab.client, VIP)) === lab.directors[0]!.mac, 3000, 20), "the client's entry names d0 again");
  } finally {
    await finish(cluster);
  }
}

/** Frames of one sender cut into bursts: a pause longer than gapMs starts the next. */
function bursts(frames: readonly ArpFrame[], gapMs: number): ArpFrame[][] {
  const out: ArpFrame[][] = [];
  for (const f of [...frames].sort((a, b) => a.at - b.at)) {
    const last = out.at(-1);
    if (last && f.at - last.at(-1)!.at <= gapMs) last.push(f);
    else out.push([f]);
  }
  return out;
}

/** Gaps between consecutive times, ms. */
const gapsOf = (xs: readonly number[]): number[] => xs.slice(1).map((x, i) => x - xs[i]!);

async function garpBursts(t: Test, lab: Lab): Promise<void> {
  const count = 3;
  const spacingMs = 100;
  const refreshMs = 1000;
  const cluster = new HaagentCluster(lab, { ...TIMING, garp: { count, spacing: `${spacingMs}ms`, form: 'both', refresh: `${refreshMs}ms` } });
  const [d0, d1] = cluster.nodes as [HaagentNode, HaagentNode];
  const d0host = lab.directors[0]!;
  try {
    await d0ThenD1(t, lab, cluster);
    t.ok(await pingVip(lab), 'the client reaches the VIP');
    const capture = await lab.startArpCapture();
    // Node loss (link down, then SIGKILL): d0 neither answers ARP for the VIP it keeps nor
    // comes back, so everything d1 sends below is the takeover burst and its refreshes.
    await linkDown(d0host);
    await d0.kill();
    t.ok(await waitGroup(d1, (s, v) => s === 'active' && v === true, 5000), 'd1 takes over', { log: d1.logTail() });
    const first = await waitFor(() => garpsFor(capture.frames(), VIP).find((f) => f.srcMac === lab.directors[1]!.mac), 3000, 20);
    t.ok(first, "d1's first gratuitous ARP reached the client");
    // Three refresh periods and a bit: the last burst has time to finish.
    const windowMs = 3 * refreshMs + 500;
    await sleep(Math.max(0, (first?.at ?? epochNow()) + windowMs - epochNow()));
    const frames = garpsFor(await capture.stop(), VIP).filter((f) => f.srcMac === lab.directors[1]!.mac);
    const all = bursts(frames, refreshMs / 2);
    const end = (first?.at ?? 0) + windowMs;
    // A burst that began in the last 400 ms may still be under way at the end of the capture.
    const complete = all.filter((b) => b[0]!.at < end - 400);
    // U: request (arping -U), A: reply (arping -A).
    const summary = all.map((b) => `${(b[0]!.at - (first?.at ?? 0)).toFixed(0)} ms: ${b.map((f) => (f.op === 'request' ? 'U' : 'A')).join('')}`);
    t.comment(`d1's gratuitous ARPs by burst (from its first): ${summary.join(' | ')}`);
    t.ok(complete.length >= 3, `the takeover burst and at least two refreshes in ${windowMs} ms (${complete.length} complete bursts)`);
    for (const [i, b] of complete.entries()) {
      const what = i === 0 ? 'takeover burst' : `refresh ${i}`;
      const requests = b.filter((f) => f.op === 'request').map((f) => f.at);
      const replies = b.filter((f) => f.op === 'reply').map((f) => f.at);
      t.same([requests.length, replies.length], [count, count], `${what}: ${count} requests and ${count} replies`);
      const steps = gapsOf(requests);
      // The option itself is measured here: not early (a timer armed on a stale event-loop clock
      // can fire a few ms early, the capture stamps jitter), at most 500 ms late.
      t.ok(steps.every((g) => g >= spacingMs - 10 && g <= spacingMs + 500), `${what}: requests ${spacingMs} ms apart (${steps.map((g) => g.toFixed(1)).join(', ')})`);
    }
    const starts = all.map((b) => b[0]!.at);
    const periods = gapsOf(starts);
    // Each refresh is timed from the last one's timer, whose frames may have left a little late.
    t.ok(periods.every((g) => g >= refreshMs - 100 && g <= refreshMs + 1000), `one burst per refresh period, none in between (${periods.map((g) => g.toFixed(0)).join(', ')} ms)`);
  } finally {
    await linkUp(d0host);
    await finish(cluster, [d0]);
  }
}

t.test('initDead, preempt off, preemptDelay, GARP bursts and refresh', async (t) => {
  const lab = await Lab.create({ directors: 2 });
  try {
    await t.test('initDead', (t) => initDead(t, lab));
    await t.test('preempt off on the higher-priority node', (t) => preemptOff(t, lab));
    await t.test('preemptDelay', (t) => preemptDelay(t, lab));
    await t.test('takeover burst and periodic refresh', (t) => garpBursts(t, lab));
  } finally {
    t.same(await lab.destroy(), { leftNamespaces: [], leftPids: [] }, 'lab torn down');
  }
});

/**
 * Redundant heartbeat paths, drilled with the real agent: two directors joined by the service
 * segment (eth0, where the VIP lives) and a backbone (eth1, the lab's `backbone: true`), each
 * peer named with both of its addresses, the backbone path leaving from its own local address
 * (`bind` on the peer entry). Needs root and `npm run build`.
 *
 *   a) steady state: status shows both paths of the peer, each heard within the dead time;
 *   b) the backbone cut (d0's eth1 down): no failover, a "path silent" warning on both nodes,
 *      the path silent in status; back up, "heard again" and the path alive;
 *   c) the active's service link cut (d0's eth0 down, the backbone up): d1 takes over. The VIP
 *      interface is always tracked (docs/health.md): d0 goes to fault at the link event and
 *      tells d1 so over the backbone, so the handover does not wait for the dead time. The
 *      client's outage is printed; the assertion is only that it ends before the dead time,
 *      which a takeover driven by d1 missing d0 could not do.
 *
 * Before the agents start, `haagent check-config` runs in d0's namespace: the two binds are
 * d0's addresses there, and a bind that is not is refused (exit 78, file:line).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import t, { type Test } from 'tap';
import { EXIT } from '../../src/cli/exit.js';
import { HAAGENT_MAIN, HaagentCluster, haagentAvailable, type HaagentNode, type PeerEntry, type StatusRecord } from './agents/haagent.js';
import { outage } from './analyze.js';
import { epochNow, sleep, waitFor } from './exec.js';
import { linkDown, linkUp } from './faults.js';
import { Lab, VIP, type LabHost } from './lab.js';

if (process.getuid?.() !== 0) t.plan(0, 'network namespaces need root');
else if (!(await haagentAvailable())) t.plan(0, 'dist/src/main.js run is not available: run `npm run build`');

/**
 * Heartbeats every 20 ms, a peer dead after 1 s of silence: long enough that a takeover driven
 * by the dead time cannot pass for the fast one (its outage is most of the dead time: the
 * silence starts at the last heartbeat before the cut), short enough for a drill.
 */
const TIMING = { interval: '20ms', deadTime: '1s', initDead: '2s' };
const DEAD_MS = 1000;
/** How long the backbone cut is watched for a state change that must not come. */
const SAMPLE_MS = 2000;

/** Director i's peers: every other director on both paths, the backbone one bound to i's eth1 address. */
function twoPaths(lab: Lab, i: number): PeerEntry[] {
  const me = lab.directors[i]!;
  return lab.directors.filter((d) => d !== me).flatMap((d) => [
    { node: d.name, address: d.ip },
    { node: d.name, address: d.backboneIp!, bind: me.backboneIp! },
  ]);
}

/** The peer's path at address, as `node`'s status shows it. */
function pathOf(status: StatusRecord | null, peer: string, address: string): { lastHeardMsAgo: number; alive: boolean } | undefined {
  return status?.peers.find((p) => p.node === peer)?.paths.find((x) => x.address === address);
}

/** The log lines of n (JSON) whose msg matches re. */
function logLines(n: HaagentNode, re: RegExp): string[] {
  try {
    return readFileSync(n.logPath, 'utf8').split('\n').filter((l) => re.test(l));
  } catch {
    return [];
  }
}

/** The time of a JSON log line, or null. */
function logTime(line: string | undefined): Date | null {
  const m = line === undefined ? null : /"time":"([^"]+)"/.exec(line);
  return m ? new Date(m[1]!) : null;
}

/** Samples both nodes every 100 ms for ms: the states seen, and whether d0 ever lacked the VIP. */
async function sample(d0: HaagentNode, d1: HaagentNode, ms: number): Promise<{ states: Set<string>; vipGone: boolean }> {
  const states = new Set<string>();
  let vipGone = false;
  const until = epochNow() + ms;
  while (epochNow() < until) {
    states.add(`d0 ${await d0.groupState()}, d1 ${await d1.groupState()}`);
    if (!(await d0.vipPresent())) vipGone = true;
    await sleep(100);
  }
  return { states, vipGone };
}

async function checkConfigIn(lab: Lab, host: LabHost, file: string): Promise<{ code: number | null; stderr: string }> {
  const r = await lab.exec(host, [process.execPath, HAAGENT_MAIN, 'check-config', '--config', file], 10000);
  return { code: r.code, stderr: r.stderr };
}

async function checkConfigs(t: Test, lab: Lab, d0: HaagentNode): Promise<void> {
  const ok = await checkConfigIn(lab, d0.host, d0.configPath);
  t.equal(ok.code, EXIT.OK, 'check-config in d0\'s namespace: both binds are d0\'s addresses', { stderr: ok.stderr });
  const bad = `${d0.dir}/bad-bind.yaml`;
  writeFileSync(bad, readFileSync(d0.configPath, 'utf8').replace(`bind: ${d0.host.backboneIp}`, 'bind: 203.0.113.99'), { mode: 0o600 });
  const r = await checkConfigIn(lab, d0.host, bad);
  t.equal(r.code, EXIT.CONFIG, 'a path bind that is not d0\'s address: exit 78');
  t.match(r.stderr, /bad-bind\.yaml:\d+:\d+: heartbeat\.peers\[1\]\.bind: got "203\.0\.113\.99", expected an address of this host/, 'file:line:column, what was expected');
}

t.test('two heartbeat paths: a silent path warns, the active\'s lost link hands over through the other', async (t) => {
  const lab = await Lab.create({ directors: 2, backbone: true });
  const cluster = new HaagentCluster(lab, { ...TIMING, peers: lab.directors.map((_, i) => twoPaths(lab, i)) });
  const [d0, d1] = cluster.nodes as [HaagentNode, HaagentNode];
  const [h0, h1] = lab.directors as [LabHost, LabHost];
  try {
    await checkConfigs(t, lab, d0);
    await lab.startResponders();
    cluster.startAll();
    const up = await waitFor(async () => (await cluster.activeNodes()).join() === 'd0' && (await d1.groupState()) === 'standby', 15000, 100);
    t.ok(up, 'd0 active, d1 standby', { d0: d0.logTail(), d1: d1.logTail() });

    // a) both paths heard, each within the dead time
    const both = await waitFor(async () => {
      const s = await d1.status();
      return [h0.ip, h0.backboneIp!].every((a) => (pathOf(s, 'd0', a)?.alive ?? false) && pathOf(s, 'd0', a)!.lastHeardMsAgo < DEAD_MS);
    }, 5000, 50);
    const steady = await d1.status();
    t.ok(both, 'd1 hears d0 on both paths', { peers: steady?.peers });
    t.same(steady?.peers.find((p) => p.node === 'd0')?.paths.map((p) => p.address).sort(), [h0.ip, h0.backboneIp].sort(), 'status lists exactly the two paths');
    t.comment(`steady state, d1's view of d0: ${steady?.peers[0]?.paths.map((p) => `${p.address} heard ${p.lastHeardMsAgo} ms ago`).join(', ')}`);
    const cli = await d1.cliStatus();
    t.ok(cli?.peers[0]?.paths.every((p) => typeof p.lastHeardMsAgo === 'number'), '`haagent status --json` shows each path\'s last-heard');

    // b) the backbone cut: a warning, never a failover
    t.equal((await linkDown(h0, 'eth1')).code, 0, 'd0 eth1 down');
    const silent = await waitFor(async () => pathOf(await d1.status(), 'd0', h0.backboneIp!)?.alive === false, DEAD_MS * 10, 50);
    t.ok(silent, 'd1\'s status shows the backbone path silent', { peers: (await d1.status())?.peers });
    const cut = await sample(d0, d1, SAMPLE_MS);
    t.same([...cut.states], ['d0 active, d1 standby'], `no state change for ${SAMPLE_MS} ms with the backbone cut`);
    t.notOk(cut.vipGone, 'd0 kept the VIP throughout');
    t.equal((await d1.status())?.peers[0]?.alive, true, 'd0 is alive for d1 (its service path is)');
    const warn = new RegExp(`peer d0: path ${h0.backboneIp!.replace(/\./g, '\\.')} silent`);
    t.equal(logLines(d1, warn).length, 1, 'd1 logs the silent path once', { log: d1.logTail() });
    t.match(logLines(d1, warn)[0], /"level":40/, 'as a warning');
    t.equal(logLines(d0, /peer d1: path 203\.0\.113\.11 silent/).length, 1, 'd0 logs d1\'s backbone path silent too');
    t.equal((await linkUp(h0, 'eth1')).code, 0, 'd0 eth1 up');
    const back = await waitFor(async () => pathOf(await d1.status(), 'd0', h0.backboneIp!)?.alive === true, 5000, 50);
    t.ok(back, 'the backbone path is alive again in d1\'s status');
    const again = await waitFor(async () => logLines(d1, new RegExp(`peer d0: path ${h0.backboneIp!.replace(/\./g, '\\.')} heard again`)).length === 1, 3000, 50);
    t.ok(again, 'd1 logs that the path is heard again', { log: d1.logTail() });

    // c) the active's service link cut, the backbone up: d1 takes over
    const probe = await lab.startProbe();
    await sleep(300);
    const faultAt = epochNow();
    t.equal((await linkDown(h0, 'eth0')).code, 0, 'd0 eth0 down');
    const moved = await waitFor(async () => (await lab.neighMac(lab.client, VIP)) === h1.mac, 5000, 5);
    await sleep(300);
    const result = await probe.stop();
    t.ok(moved, 'the client\'s ARP entry names d1', { d0: d0.logTail(), d1: d1.logTail() });
    const o = outage(result.sentAt, result.replies, faultAt, result.intervalMs);
    t.equal(result.replies.reduce((a, b) => (b.seq > a.seq ? b : a), result.replies[0]!).by, 'd1', 'd1 answers the client at the end');
    t.equal(await d1.groupState(), 'active', 'd1 active');
    t.equal(await d0.groupState(), 'fault', 'd0 in fault (its VIP interface is down)');
    // d1 took over while d0 was alive for it, in fault: it heard that over the backbone, the
    // only path left, rather than missing d0 for the dead time.
    const seen = (await d1.status())?.peers.find((p) => p.node === 'd0');
    t.match(seen, { alive: true, groups: [{ name: 'web', state: 'fault', priority: 0 }] }, 'd1 hears d0 alive, in fault', { peers: seen });
    const serviceSilent = await waitFor(async () => pathOf(await d1.status(), 'd0', h0.ip)?.alive === false, DEAD_MS * 10, 50);
    t.ok(serviceSilent && pathOf(await d1.status(), 'd0', h0.backboneIp!)?.alive, 'its service path falls silent, the backbone carries it');
    t.comment(`service link of the active cut: client outage ${o.outageMs.toFixed(1)} ms (${o.lost} probes lost, every ${result.intervalMs} ms); dead time ${DEAD_MS} ms`);
    const linkEvent = logTime(logLines(d0, /"msg":"link eth0 down"/).at(-1));
    const active = logTime(logLines(d1, /"msg":"web: standby -> active"/).at(-1));
    t.comment(`agents' logs: d0 saw eth0 down at ${linkEvent?.toISOString()}, d1 active at ${active?.toISOString()}: ${linkEvent && active ? active.getTime() - linkEvent.getTime() : '?'} ms`);
    for (const [n, re] of [[d0, /link eth0 down|-> fault/], [d1, /-> active/]] as const) t.comment(`${n.name}: ${logLines(n, re).slice(-2).join('\n')}`);
    t.ok(o.outageMs < DEAD_MS / 2, `the outage is under half the dead time (${DEAD_MS} ms): d0's fault reached d1 over the backbone`, { outage: o, d0: d0.logTail(), d1: d1.logTail() });
    t.equal((await linkUp(h0, 'eth0')).code, 0, 'd0 eth0 up');
  } finally {
    await cluster.stopAll();
    t.same(await lab.destroy(), { leftNamespaces: [], leftPids: [] }, 'the lab left nothing behind');
    cluster.cleanup();
  }
});

/**
 * Fault drill with the real agent in namespaces (3 directors: d0 150, d1 100, d2 50). Each
 * case injects one host-side fault and checks the log line, the resulting state, and that
 * the VIP is on one node only once the fault clears:
 *
 *   1. d1's eth0 renamed away (the link monitor notices) -> fault with a clear line, d2 takes
 *      the VIP (the kernel refusing the VIP itself is drilled in ipv6-vip.test.ts)
 *   2. arping missing from PATH -> the agent still takes the VIP; report what the client sees
 *   3. the key file group/world-readable, missing or a directory -> exit 78, nothing changed
 *   4. the control socket path taken (regular file; another live agent) -> refused
 *   5. the state directory read-only (tmpfs in a private mount namespace) -> warning, works
 *   6. the clock stepped back 10 minutes (bootId file in the future) -> peers accept restarts
 *   7. 30 restarts of the active agent (HAAGENT_RESTARTS=N for more) -> one active at the end, dual presence only in faults
 *
 * The wall clock is never changed (it is the host's). That timers use the monotonic clock is
 * checked statically at the end, without root. Needs root and `npm run build`.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { HaagentCluster, haagentAvailable, type HaagentNode } from './agents/haagent.js';
import { epochNow, sleep, waitFor, within } from './exec.js';
import { Lab, REPO_ROOT, VIP } from './lab.js';
import {
  addrSnapshot, findLog, logOf, readConfig, renameLink, runToExit, startWrapped, variantConfig, waitGroup, waitSoleActive,
} from '../fixtures/security/drill.js';
import { restartDrill } from '../fixtures/security/restarts.js';
import { dropDelta, fastStatus, groupOf, socketOf, VipWatch } from '../fixtures/security/watch.js';
import { request } from '../../src/daemon/control.js';

const skip = process.getuid?.() !== 0 ? 'network namespaces need root' : !(await haagentAvailable()) ? 'dist/src/main.js is not available: run `npm run build`' : false;
const RESTARTS = Number(process.env.HAAGENT_RESTARTS ?? '30');
const ERROR = 50;
const WARN = 40;

interface Ctx {
  t: Test;
  lab: Lab;
  cluster: HaagentCluster;
  nodes: [HaagentNode, HaagentNode, HaagentNode];
}

/** SIGTERM (graceful) then a plain start, waiting until `node` is the sole active again. */
async function bounce(c: Ctx, node: HaagentNode, expectActive: string): Promise<boolean> {
  if (node.proc?.alive()) await node.stop();
  node.start();
  return waitSoleActive(c.lab, c.nodes, expectActive, 10_000);
}

/** 1a. eth0 renamed away on d1: the link monitor sees it go; d1 faults, d2 takes over from d0. */
async function linkRenamed({ t, lab, nodes: [d0, d1, d2] }: Ctx): Promise<void> {
  const mark = logOf(d1).length;
  await renameLink(d1.host, 'eth0', 'eth9');
  t.ok(await waitGroup(d1, (s) => s === 'fault', 3000), 'd1 goes to fault as soon as eth0 is gone');
  const g1 = groupOf(await fastStatus(d1));
  // pino writes asynchronously: the line may land a moment after the state changed.
  const line = await waitFor(() => findLog(logOf(d1), /"to":"fault"/, ERROR, mark), 3000, 50);
  t.ok(line, `error-level log line: ${line?.msg} (${String(line?.reason)})`);
  const at = epochNow();
  await d0.stop();
  const d2took = await waitGroup(d2, (s, v) => s === 'active' && v === true, 5000);
  t.ok(d2took, `d0 stopped: d2 takes the VIP, passing over d1 (${(epochNow() - at).toFixed(0)} ms)`);
  t.equal(groupOf(await fastStatus(d1))?.state, 'fault', `d1 stays in fault (${g1?.faultReason})`);
  const addrs = await addrSnapshot(d1.host);
  const has = addrs.includes(` ${VIP}/32 `);
  t.notOk(has, 'no VIP anywhere on d1', { diagnostic: has, addrs, log: d1.logTail(30) });
  await renameLink(d1.host, 'eth9', 'eth0');
  // Back in the election, d1 (100) outranks d2 (50) and preempts it while d0 is down.
  const back = await waitSoleActive(lab, [d1, d2], 'd1', 10_000);
  t.ok(back, 'with eth0 back d1 leaves fault and preempts d2', { diagnostic: !back, log: d1.logTail(30) });
  d0.start();
  t.ok(await waitSoleActive(lab, [d0, d1, d2], 'd0', 10_000), 'd0 back: the VIP on d0 only');
}

async function arpingMissing(c: Ctx): Promise<void> {
  const { t, lab, nodes: [d0, d1] } = c;
  const bin = mkdtempSync(join(c.cluster.dir, 'bin-'));
  symlinkSync('/usr/sbin/ip', join(bin, 'ip')); // ip stays reachable, arping does not
  const probe = await lab.startProbe({ intervalMs: 10 }); // client traffic: an ARP entry to move
  await d0.stop();
  t.ok(await waitSoleActive(lab, c.nodes, 'd1', 5000), 'd1 active while d0 is down');
  const tr = groupOf(await fastStatus(d1))?.transitions;
  // An agent that could take the VIP but never announce it would strand the clients on the
  // old MAC: it refuses to start instead, before touching anything.
  const r = await runToExit(lab, d0, d0.configPath, ['env', `PATH=${bin}`]);
  t.equal(r.code, 69, 'refused: exit 69 (EX_UNAVAILABLE)');
  t.match(r.stderr, /arping not found in PATH/, `clear message: ${r.stderr.trim().split('\n').pop()}`);
  t.notOk(await d0.vipPresent(), 'no VIP on d0');
  t.equal(groupOf(await fastStatus(d1))?.transitions, tr, 'd1 kept the VIP without a transition');
  t.ok(await bounce(c, d0, 'd0'), 'restarted with arping, d0 active');
  t.ok(await waitFor(async () => (await lab.neighMac(lab.client, VIP)) === d0.host.mac, 3000, 10), 'with arping back the client follows d0');
  await probe.stop();
}

async function badKeys({ t, lab, cluster, nodes: [d0] }: Ctx): Promise<void> {
  const key = join(cluster.dir, 'key');
  const cases: { name: string; prepare: (p: string) => void; expect: RegExp }[] = [
    { name: 'world-readable (0644)', prepare: (p) => (copyFileSync(key, p), chmodSync(p, 0o644)), expect: /mode 0644 lets group or others access it; run: chmod 600/ },
    { name: 'group-readable (0640)', prepare: (p) => (copyFileSync(key, p), chmodSync(p, 0o640)), expect: /mode 0640 lets group or others/ },
    { name: 'missing', prepare: () => undefined, expect: /missing; create it with: haagent keygen/ },
    { name: 'a directory', prepare: (p) => mkdirSync(p), expect: /not a regular file/ },
    // Opened with O_NOFOLLOW|O_NONBLOCK: a link is refused, a FIFO without a writer at once.
    { name: 'a symbolic link to the good key', prepare: (p) => symlinkSync(key, p), expect: /is a symbolic link \(refused: another user could point it elsewhere\)/ },
    { name: 'a FIFO', prepare: (p) => execFileSync('mkfifo', ['-m', '0600', p]), expect: /a FIFO \(named pipe\), not a regular file/ },
    { name: 'owned by nobody', prepare: (p) => (copyFileSync(key, p), chownSync(p, 65534, 65534)), expect: /owned by uid 65534, must be owned by root: another user could replace the key; run: chown root / },
  ];
  const before = await addrSnapshot(d0.host);
  for (const [i, k] of cases.entries()) {
    const dir = join(cluster.dir, `badkey-${i}`);
    const keyFile = join(dir, 'the-key');
    const cfg = variantConfig(d0, dir, (y) => (y.heartbeat.keyFile = keyFile));
    k.prepare(keyFile);
    const r = await runToExit(lab, d0, cfg);
    t.equal(r.code, 78, `key ${k.name}: exit 78`);
    t.match(r.stderr, k.expect, `key ${k.name}: ${r.stderr.trim()}`);
    t.notOk(existsSync(join(dir, 'state')) || existsSync(join(dir, 'agent.sock')), `key ${k.name}: no state directory, no socket created`);
  }
  t.equal(await addrSnapshot(d0.host), before, 'addresses in d0 unchanged by the refused starts');
  t.equal(groupOf(await fastStatus(d0))?.state, 'active', 'the running d0 is untouched');
}

async function socketTaken(c: Ctx): Promise<void> {
  const { t, lab, nodes: [d0, d1] } = c;
  // a. a regular file where the socket goes, no agent running
  await d0.stop();
  t.ok(await waitSoleActive(lab, c.nodes, 'd1', 5000), 'd1 active while d0 is down');
  const tr = groupOf(await fastStatus(d1))?.transitions;
  writeFileSync(socketOf(d0), 'precious\n');
  const mark = logOf(d0).length;
  const proc = d0.start();
  const line = await waitFor(() => findLog(logOf(d0), /exists and is not a socket; refusing to remove it/, 0, mark), 10_000, 50);
  t.ok(line, `clear log line: ${String((line?.err as { message?: string } | undefined)?.message ?? line?.msg)}`);
  const exit = await within(proc.exited, 3000, null);
  t.test('a refused start exits', async (tt) => {
    tt.equal(exit?.code, 69, 'exit 69 within 3 s of the refusal');
  });
  if (!exit) {
    const held = (await lab.exec(d0.host, ['ss', '-uanp'])).stdout.includes(`${d0.host.ip}:694`);
    t.comment(`refused start still running 3 s later (pid ${proc.pid}), UDP ${d0.host.ip}:694 held: ${held}; SIGTERM ends it`);
    proc.kill('SIGTERM');
    await within(proc.exited, 5000, null);
  }
  t.equal(readFileSync(socketOf(d0), 'utf8'), 'precious\n', 'the file is left as it was');
  t.notOk(await d0.vipPresent(), 'no VIP added on d0');
  t.equal(groupOf(await fastStatus(d1))?.transitions, tr, 'd1 kept the VIP without a transition');
  // b. another live agent: the same config started twice (systemd plus a manual run)
  rmSync(socketOf(d0));
  t.ok(await bounce(c, d0, 'd0'), 'd0 active again');
  const second = await runToExit(lab, d0, d0.configPath);
  t.equal(second.code, 69, 'a second agent on the same host is refused (exit 69)');
  t.ok(d0.proc?.alive() && groupOf(await fastStatus(d0))?.state === 'active', 'the first agent keeps running, active');
  const vipKept = await d0.vipPresent();
  t.test('a refused second start leaves the running agent\'s VIP alone', async (tt) => {
    tt.ok(vipKept, 'VIP still on d0 eth0');
    tt.match(second.stdout + second.stderr, /already running|in use by another/, 'the message names the running agent');
  });
  if (!vipKept) {
    await sleep(2000);
    const g = groupOf(await fastStatus(d0));
    t.comment(`second start removed the live VIP: 2 s later d0 says ${g?.state} vipPresent=${String(g?.vipPresent)}, VIP on d0 eth0: ${await d0.vipPresent()}`);
  }
  t.ok(await bounce(c, d0, 'd0'), 'd0 restarted, the VIP back on d0');
}

async function readOnlyState(c: Ctx): Promise<void> {
  const { t, lab, nodes: [d0, d1] } = c;
  const stateDir = readConfig(d1).stateDir;
  await d1.stop();
  const mark = logOf(d1).length;
  const mountRo = 'mount -t tmpfs -o ro,size=64k tmpfs "$1" && shift && exec "$@"';
  startWrapped(lab, d1, ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', mountRo, 'sh', stateDir]);
  t.ok(await waitGroup(d1, (s) => s === 'standby', 10_000), 'd1 runs and is standby with a read-only state directory');
  const warn = await waitFor(() => findLog(logOf(d1), /cannot persist bootId/, WARN, mark), 3000, 50);
  t.ok(warn, `warning logged: ${String(warn?.msg).slice(0, 160)}`);
  t.ok((await fastStatus(d0))?.peers.find((p) => p.node === 'd1')?.alive, 'd0 accepts its heartbeats (bootId from the wall clock)');
  const m = await request(socketOf(d1), { cmd: 'maintenance', on: true });
  t.notOk(m.ok, `maintenance cannot be recorded and is refused: ${m.message}`);
  const to = await request(socketOf(d1), { cmd: 'takeover', group: 'web' });
  t.ok(to.ok && (await waitSoleActive(lab, c.nodes, 'd1', 5000)), 'it can still take the VIP (operator takeover)');
  await d1.stop();
  d1.start();
  t.ok(await waitSoleActive(lab, c.nodes, 'd0', 10_000), 'd1 back on its normal state directory, d0 active');
}

async function clockBack(c: Ctx): Promise<void> {
  const { t, nodes: [d0, d1] } = c;
  const file = join(readConfig(d1).stateDir, 'boot-id');
  const future = BigInt(Date.now() + 600_000);
  const before = (await fastStatus(d0))!;
  for (const [i, want] of [future + 1n, future + 2n].entries()) {
    await d1.stop();
    if (i === 0) writeFileSync(file, `${future}\n`, { mode: 0o600 });
    d1.start();
    const seen = await waitFor(async () => (await fastStatus(d0))?.peers.find((p) => p.node === 'd1' && p.alive && p.bootId === String(want)), 10_000, 25);
    t.ok(seen, `restart ${i + 1} with the wall clock 10 min behind the last bootId: bootId ${want} = previous + 1, d0 accepts it`);
  }
  const drops = dropDelta(before, (await fastStatus(d0))!);
  t.notOk(drops['old-boot'], `d0 counted no old-boot (${JSON.stringify(drops)})`);
  t.equal(groupOf(await fastStatus(d0))?.state, 'active', 'd0 stayed active');
}

t.test('fault drill', { skip }, async (t) => {
  const lab = await Lab.create({ directors: 3 });
  const cluster = new HaagentCluster(lab);
  const c: Ctx = { t, lab, cluster, nodes: cluster.nodes as Ctx['nodes'] };
  let watch: VipWatch | null = null;
  try {
    await lab.startResponders();
    cluster.startAll();
    t.ok(await waitSoleActive(lab, c.nodes, 'd0', 10_000), 'd0 active, d1 and d2 standby');
    const only = process.env.HAAGENT_DRILL_CASES?.split(',');
    for (const [name, fn] of [
      ['1a. VIP interface renamed away', linkRenamed], ['2. arping missing', arpingMissing], ['3. bad key file', badKeys],
      ['4. control socket taken', socketTaken], ['5. read-only state directory', readOnlyState], ['6. clock stepped back', clockBack],
    ] as const) {
      if (!only || only.includes(name.split('.')[0]!)) await t.test(name, async (tt) => fn({ ...c, t: tt }));
    }
    watch = await VipWatch.start(lab);
    if (!only || only.includes('7')) await t.test(`7. ${RESTARTS} restarts of the active agent`, async (tt) => restartDrill(tt, lab, c.nodes, watch!, RESTARTS));
  } finally {
    watch?.stop();
    await cluster.stopAll();
    t.same(await lab.destroy(), { leftNamespaces: [], leftPids: [] }, 'lab torn down');
    cluster.cleanup();
  }
});

t.test('timers use the monotonic clock; the wall clock only seeds the bootId', async (t) => {
  const src = (p: string): string => readFileSync(join(REPO_ROOT, 'src', p), 'utf8').replace(/\/\*[^]*?\*\/|\/\/.*$/gm, '');
  const wall = /Date\.now\(|new Date\(|\bDate\(\)/;
  for (const f of readdirSync(join(REPO_ROOT, 'src', 'core')).filter((x) => x.endsWith('.ts'))) {
    const text = src(`core/${f}`);
    t.notMatch(text, wall, `core/${f} reads no wall clock`);
    t.notMatch(text, /performance\.now|hrtime|setTimeout|setInterval|Math\.random/, `core/${f} reads no clock, sets no timer, draws no random number`);
  }
  t.notMatch(src('daemon/driver.ts'), wall, 'the driver takes time only from its injected Clock');
  t.match(src('adapters/clock.ts'), /performance\.now\(\)/, 'the real Clock is performance.now() (CLOCK_MONOTONIC)');
  const agentWall = ['daemon/agent.ts', 'daemon/agent-adapters.ts'].flatMap((f) => src(f).split('\n')).filter((l) => /Date\.now\(/.test(l));
  t.ok(agentWall.length > 0 && agentWall.every((l) => l.includes('loadAndBumpBootId')), 'in the agent, Date.now() only seeds the bootId');
});

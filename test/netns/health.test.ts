// Health tracking against the real kernel, inside two throwaway network namespaces joined by a
// veth pair (A eth0 198.51.100.1/24 -- B eth0 198.51.100.2/24). Nothing touches the root
// namespace; both namespaces are deleted in teardown, even on failure. Needs root; skipped
// otherwise. The LinkMonitor runs from dist/ inside A (npm run build first; `npm test` does).
//  (a) LinkMonitor reports admin down/up and carrier loss/return; the latency from just before
//      the `ip link set` spawn to the line arriving here is measured and commented, and so is the
//      lag behind a reference `ip monitor` (see the note on linkwatch below).
//  (b) the ping probe reaches B from A, and fails once A's link is down.
import t, { type Test } from 'tap';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { SpawnRunner } from '../../src/adapters/runner.js';
import { pingCheck } from '../../src/health/ping.js';
import { LineSplitter, parseMonitorLine } from '../../src/health/link-parse.js';
import type { CommandRunner } from '../../src/ports/index.js';

const NS_PREFIX = 'haahlt';
const run = `${NS_PREFIX}-${process.pid}-${Math.random().toString(36).slice(2, 7)}`;
const NS_A = `${run}-a`;
const NS_B = `${run}-b`;
const FIXTURE = fileURLToPath(new URL('../fixtures/health/link-watch.mjs', import.meta.url));
const BUILT = fileURLToPath(new URL('../../dist/src/health/link-monitor.js', import.meta.url));
/** The requirement (brief): a link change is reported within 100 ms. */
const MAX_LATENCY_MS = 100;
/**
 * The kernel batches carrier (operstate) changes through linkwatch, at most one batch a second
 * for the whole host (net/core/link_watch.c: "one per second so that a runaway driver does not
 * cause a storm"). So a carrier change can reach every netlink listener, `ip monitor` included,
 * up to a second late, more so while other namespaces on the machine toggle links. What is ours
 * is measured against a reference `ip -o monitor link` started by this test in the same
 * namespace: our report must follow the kernel's announcement within MAX_LATENCY_MS. Only admin
 * down is announced synchronously (dev_close), so only it is also held to MAX_LATENCY_MS end to
 * end.
 */

function sh(...argv: string[]): string {
  return execFileSync(argv[0], argv.slice(1), { timeout: 5000, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function has(binary: string): boolean {
  try {
    sh('sh', '-c', `command -v ${binary}`);
    return true;
  } catch {
    return false;
  }
}

function skipReason(): string | false {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  try {
    sh('ip', 'netns', 'list');
  } catch {
    return '`ip netns` does not work here';
  }
  return false;
}

/** Namespaces left by an earlier run of this file that died (its pid is gone). */
function sweepStale(): void {
  for (const line of sh('ip', 'netns', 'list').split('\n')) {
    const m = new RegExp(`^(${NS_PREFIX}-(\\d+)-\\w+-[ab])\\b`).exec(line);
    if (!m || Number(m[2]) === process.pid) continue;
    try {
      process.kill(Number(m[2]), 0);
    } catch {
      sh('ip', 'netns', 'del', m[1]);
    }
  }
}

function buildLab(): void {
  sh('ip', 'netns', 'add', NS_A);
  sh('ip', 'netns', 'add', NS_B);
  // Both ends are created directly inside the namespaces: the root namespace never sees them.
  sh('ip', 'link', 'add', 'eth0', 'netns', NS_A, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', NS_B);
  for (const [ns, addr] of [[NS_A, '198.51.100.1/24'], [NS_B, '198.51.100.2/24']]) {
    sh('ip', '-n', ns, 'addr', 'add', addr, 'dev', 'eth0');
    sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
    sh('ip', '-n', ns, 'link', 'set', 'eth0', 'up');
  }
}

function teardown(): void {
  for (const ns of [NS_A, NS_B]) {
    try {
      sh('ip', 'netns', 'del', ns);
    } catch {
      // not created
    }
  }
}

/** `ip -n NS link set eth0 up|down`, asynchronously so the event loop keeps reading the fixture. */
function setLink(ns: string, state: 'up' | 'down'): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('ip', ['-n', ns, 'link', 'set', 'eth0', state], { timeout: 5000 }, (err) => (err ? reject(err) : resolve()));
  });
}

interface Line {
  ev: string;
  iface?: string;
  up?: boolean;
  pid?: number;
  at: number;
}

/** The fixture's JSON lines, each stamped with its arrival time here; waits are bounded. */
class Watcher {
  readonly lines: Line[] = [];
  private wake: (() => void) | null = null;

  /** parse: a fixture JSON line, or (for the reference ip monitor) a monitor line. */
  constructor(
    readonly child: ChildProcess,
    parse: (line: string) => Omit<Line, 'at'> | null = (l) => JSON.parse(l),
  ) {
    const splitter = new LineSplitter((l) => {
      const parsed = l.trim() ? parse(l) : null;
      if (!parsed) return;
      this.lines.push({ ...parsed, at: performance.now() });
      this.wake?.();
    });
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (c: string) => splitter.push(c));
  }

  /** The first line at index >= from matching pred, or undefined after ms. */
  async next(from: number, pred: (l: Line) => boolean, ms: number): Promise<Line | undefined> {
    const until = performance.now() + ms;
    for (;;) {
      const hit = this.lines.slice(from).find(pred);
      if (hit) return hit;
      const left = until - performance.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
  }
}

/** Toggles a link; checks and comments how long until the fixture reports eth0 in that state. */
async function measure(t: Test, w: Watcher, ref: Watcher, ns: string, state: 'up' | 'down', what: string, endToEnd: boolean): Promise<void> {
  const up = state === 'up';
  const from = w.lines.length;
  const refFrom = ref.lines.length;
  const t0 = performance.now();
  await setLink(ns, state);
  const line = await w.next(from, (l) => l.ev === 'link' && l.iface === 'eth0' && l.up === up, 3000);
  const kernel = await ref.next(refFrom, (l) => l.iface === 'eth0' && l.up === up, 3000);
  if (!line || !kernel) {
    t.fail(`${what}: no report within 3 s (ours: ${line ? 'yes' : 'no'}, reference ip monitor: ${kernel ? 'yes' : 'no'})`);
    return;
  }
  const total = line.at - t0;
  const lag = line.at - kernel.at;
  t.comment(`${what}: reported ${total.toFixed(1)} ms after the ip spawn started; kernel announced it at ${(kernel.at - t0).toFixed(1)} ms; our lag ${lag.toFixed(1)} ms`);
  t.ok(lag < MAX_LATENCY_MS, `${what}: reported within ${MAX_LATENCY_MS} ms of the kernel's announcement`);
  if (endToEnd) t.ok(total < MAX_LATENCY_MS, `${what}: reported within ${MAX_LATENCY_MS} ms of the command`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function stopFixture(t: Test, w: Watcher, monitorPid: number | undefined): Promise<void> {
  const exited = new Promise<void>((resolve) => w.child.once('exit', () => resolve()));
  w.child.kill('SIGTERM');
  const clean = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 3000))]);
  if (!clean) w.child.kill('SIGKILL');
  t.ok(clean, 'the fixture stops on SIGTERM');
  if (monitorPid === undefined) return;
  // The fixture's `ip monitor` child must die with it; if it did not, kill it by its PID.
  const until = performance.now() + 2000;
  while (alive(monitorPid) && performance.now() < until) await new Promise((r) => setTimeout(r, 10));
  const left = alive(monitorPid);
  if (left) process.kill(monitorPid, 'SIGKILL');
  t.notOk(left, 'its ip monitor child is gone too');
}

const reason = skipReason();
t.test('health tracking in network namespaces', { skip: reason }, async (t) => {
  sweepStale();
  t.teardown(teardown);
  buildLab();

  t.test('LinkMonitor inside a namespace reports link changes fast', { skip: existsSync(BUILT) ? false : 'run `npm run build` first' }, async (t) => {
    const child = spawn('ip', ['netns', 'exec', NS_A, process.execPath, FIXTURE, 'eth0', 'eth5'], { stdio: ['pipe', 'pipe', 'inherit'] });
    t.teardown(() => child.kill('SIGKILL'));
    const w = new Watcher(child);
    const refChild = spawn('ip', ['-n', NS_A, '-o', 'monitor', 'link'], { stdio: ['ignore', 'pipe', 'inherit'] });
    t.teardown(() => refChild.kill('SIGKILL'));
    const ref = new Watcher(refChild, (l) => {
      const ev = parseMonitorLine(l);
      return ev ? { ev: 'kernel', iface: ev.iface, up: ev.up } : null;
    });
    const ready = await w.next(0, (l) => l.ev === 'ready', 5000);
    t.ok(ready?.pid, 'started ip monitor');
    t.ok(await w.next(0, (l) => l.ev === 'link' && l.iface === 'eth0' && l.up === true, 5000), 'initial read: eth0 up');
    t.ok(await w.next(0, (l) => l.ev === 'link' && l.iface === 'eth5' && l.up === false, 5000), 'initial read: a missing interface is down');
    await measure(t, w, ref, NS_A, 'down', 'admin down (ip link set eth0 down)', true);
    await measure(t, w, ref, NS_A, 'up', 'admin up', false);
    await measure(t, w, ref, NS_B, 'down', 'carrier lost (peer set down)', false);
    await measure(t, w, ref, NS_B, 'up', 'carrier back', false);
    t.notOk(w.lines.some((l) => l.ev === 'monitor-exit'), 'ip monitor never died');
    await stopFixture(t, w, ready?.pid);
  });

  t.test('ping probe reaches the peer and fails with the link down', { skip: has('ping') ? false : 'ping is not installed (Debian package iputils-ping)' }, async (t) => {
    const base = new SpawnRunner();
    const inA: CommandRunner = { run: (argv, ms) => base.run(['ip', 'netns', 'exec', NS_A, ...argv], ms) };
    t.match(await pingCheck({ host: '198.51.100.2', timeout: 1000 }, inA), { ok: true, detail: /^reply from 198\.51\.100\.2 in [\d.]+ ms$/ });
    await setLink(NS_A, 'down');
    try {
      const r = await pingCheck({ host: '198.51.100.2', timeout: 1000 }, inA);
      t.match(r, { ok: false });
      t.ok(r.ms < 3000, `bounded by the timeout (${r.ms} ms: ${r.detail})`);
    } finally {
      await setLink(NS_A, 'up');
    }
  });
});

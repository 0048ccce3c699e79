// The real adapters against real binaries, inside two network namespaces joined by a veth pair
// (A 198.51.100.1/24 -- B 198.51.100.2/24) and a second one for a second heartbeat path (wA
// 203.0.113.1/24 -- wB 203.0.113.2/24). Nothing is added to the root namespace; both
// namespaces are deleted in teardown, even on failure. Needs root; skipped otherwise.
// UDP nodes run from dist/ (npm run build first; `npm test` does).
import t, { type Test } from 'tap';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { IpVipHost } from '../../src/adapters/ip-host.js';
import { IpBatch, spawnBatchChild } from '../../src/adapters/ip-batch.js';
import { SpawnRunner } from '../../src/adapters/runner.js';
import { ChildTracker, type ChildExit, type ChildStarter } from '../../src/adapters/child-tracker.js';
import { ArpingAnnouncer } from '../../src/adapters/arping.js';
import { UdpTransport } from '../../src/adapters/udp-transport.js';
import type { CommandRunner } from '../../src/ports/index.js';
import type { GarpConfig, Vip } from '../../src/config/types.js';

const NS_PREFIX = 'haaadp';
const run = `${NS_PREFIX}-${process.pid}-${Math.random().toString(36).slice(2, 7)}`;
const NS_A = `${run}-a`;
const NS_B = `${run}-b`;
const FIXTURE = fileURLToPath(new URL('../fixtures/adapters/udp-node.mjs', import.meta.url));
const BUILT = fileURLToPath(new URL('../../dist/src/adapters/udp-transport.js', import.meta.url));
const VIP4: Vip = { address: '198.51.100.100', prefix: 32, family: 4 };
const VIP6: Vip = { address: '2001:db8::100', prefix: 128, family: 6 };

function sh(...argv: string[]): string {
  return execFileSync(argv[0], argv.slice(1), { timeout: 5000, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
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

/** Polls check() every 10 ms, at most `ms`; never sleeps unbounded. */
async function waitFor<T>(check: () => T | undefined | false, ms: number): Promise<T | undefined> {
  const until = performance.now() + ms;
  for (;;) {
    const v = check();
    if (v) return v;
    if (performance.now() > until) return undefined;
    await new Promise((r) => setTimeout(r, 10));
  }
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
  sh('ip', 'link', 'add', 'vA', 'netns', NS_A, 'type', 'veth', 'peer', 'name', 'vB', 'netns', NS_B);
  sh('ip', 'link', 'add', 'wA', 'netns', NS_A, 'type', 'veth', 'peer', 'name', 'wB', 'netns', NS_B);
  const links = [[NS_A, 'vA', '198.51.100.1/24'], [NS_B, 'vB', '198.51.100.2/24'], [NS_A, 'wA', '203.0.113.1/24'], [NS_B, 'wB', '203.0.113.2/24']];
  for (const [ns, dev, addr] of links) {
    sh('ip', '-n', ns, 'addr', 'add', addr, 'dev', dev);
    sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
    sh('ip', '-n', ns, 'link', 'set', dev, 'up');
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

/** Runs the adapters' commands inside a namespace without teaching them about namespaces. */
function inNs(ns: string, runner: CommandRunner): CommandRunner {
  return { run: (argv, ms) => runner.run(['ip', 'netns', 'exec', ns, ...argv], ms) };
}
function trackerInNs(ns: string, tracker: ChildStarter): ChildStarter {
  return {
    start: (argv, ms, onExit) => tracker.start(['ip', 'netns', 'exec', ns, ...argv], ms, onExit),
    killAll: () => tracker.killAll(),
    running: () => tracker.running(),
  };
}

function macOf(ns: string, dev: string): string {
  return JSON.parse(sh('ip', '-n', ns, '-json', 'link', 'show', 'dev', dev))[0].address;
}
function neighMac(ns: string, dev: string, ip: string): string | undefined {
  const out = JSON.parse(sh('ip', '-n', ns, '-json', 'neigh', 'show', ip, 'dev', dev));
  return out[0]?.lladdr;
}

const reason = skipReason();
t.test('adapters in network namespaces', { skip: reason }, async (t) => {
  sweepStale();
  t.teardown(teardown);
  buildLab();
  const host = new IpVipHost(inNs(NS_A, new SpawnRunner()));
  /** Whether vA holds address/prefix now, as the kernel lists it. */
  const holds = async (address: string, prefix: number) => (await host.listAddresses('vA')).some((a) => a.local === address && a.prefixlen === prefix);

  t.test('IpVipHost adds and removes a /32 VIP, idempotently', async (t) => {
    t.same(await host.ensurePresent(VIP4, 'vA'), { ok: true, changed: true });
    t.same(await host.ensurePresent(VIP4, 'vA'), { ok: true, changed: false });
    t.equal(await holds(VIP4.address, VIP4.prefix), true);
    const listed = (await host.listAddresses('vA')).find((a) => a.local === VIP4.address);
    t.match(listed, { prefixlen: 32, family: 4, secondary: false });
    t.same(await host.ensureAbsent(VIP4, 'vA'), { ok: true, changed: true });
    t.same(await host.ensureAbsent(VIP4, 'vA'), { ok: true, changed: false });
    t.equal(await holds(VIP4.address, VIP4.prefix), false);
    t.equal(await holds('198.51.100.1', 24), true, 'primary seen');
  });

  t.test('IpVipHost adds an IPv6 VIP with nodad: usable at once, never dadfailed', async (t) => {
    t.same(await host.ensurePresent(VIP6, 'vA'), { ok: true, changed: true });
    const a = (await host.listAddresses('vA')).find((x) => x.local === VIP6.address);
    t.match(a, { family: 6, prefixlen: 128, dadfailed: false });
    t.same(await host.ensureAbsent(VIP6, 'vA'), { ok: true, changed: true });
  });

  t.test('IpVipHost reports a missing device with the command line', async (t) => {
    const r = await host.ensurePresent(VIP4, 'nosuchdev0');
    t.equal(r.ok, false);
    if (!r.ok) t.match(r.error, /ip addr add 198.51.100.100\/32 dev nosuchdev0: exit 1/);
    await t.rejects(host.listAddresses('nosuchdev0'), { name: 'IpCommandError' });
  });

  t.test('IpVipHost through ip -batch: same outcomes, state read back in the batch', async (t) => {
    const deaths: string[] = [];
    const batch = new IpBatch({ start: (argv) => spawnBatchChild(['ip', 'netns', 'exec', NS_A, ...argv]), onDeath: (why) => deaths.push(why) });
    const bhost = new IpVipHost(inNs(NS_A, new SpawnRunner()), { batch });
    t.teardown(() => batch.close());
    t.same(await bhost.ensurePresent(VIP4, 'vA'), { ok: true, changed: true });
    t.same(await bhost.ensurePresent(VIP4, 'vA'), { ok: true, changed: false }, 'a second add: already there');
    t.equal(await holds(VIP4.address, VIP4.prefix), true, 'the kernel has it');
    t.same(await bhost.ensureAbsent(VIP4, 'vA'), { ok: true, changed: true });
    t.same(await bhost.ensureAbsent(VIP4, 'vA'), { ok: true, changed: false });
    t.equal(await holds(VIP4.address, VIP4.prefix), false);
    // A /24 VIP inside the primary's subnet: the primary 198.51.100.1/24 must not count as it.
    const wide = { ...VIP4, prefix: 24 };
    t.same(await bhost.ensureAbsent(wide, 'vA'), { ok: true, changed: false }, 'absent although the primary shares the prefix');
    t.same(await bhost.ensurePresent(wide, 'vA'), { ok: true, changed: true });
    t.same(await bhost.ensureAbsent(wide, 'vA'), { ok: true, changed: true });
    t.same(await bhost.ensurePresent(VIP6, 'vA'), { ok: true, changed: true });
    t.match((await host.listAddresses('vA')).find((x) => x.local === VIP6.address), { family: 6, prefixlen: 128, dadfailed: false });
    t.same(await bhost.ensureAbsent(VIP6, 'vA'), { ok: true, changed: true });
    const bad = await bhost.ensurePresent(VIP4, 'nosuchdev0');
    t.equal(bad.ok, false);
    if (!bad.ok) t.match(bad.error, /ip addr add 198.51.100.100\/32 dev nosuchdev0 \(ip -batch\): .*Cannot find device "nosuchdev0"/);
    t.same(deaths, [], 'one child served every call');

    // Time per VIP change, spawn against batch (printed, not asserted).
    const med = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1]!.toFixed(2);
    const time = async (h: IpVipHost) => {
      const ms: number[] = [];
      for (let i = 0; i < 15; i++) {
        const t0 = performance.now();
        await h.ensurePresent(VIP4, 'vA');
        ms.push(performance.now() - t0);
        await h.ensureAbsent(VIP4, 'vA');
      }
      return med(ms);
    };
    t.comment(`ip addr add, median of 15: spawn ${await time(host)} ms, ip -batch ${await time(bhost)} ms (includes ip netns exec)`);
  });

  t.test('ip -batch: a killed helper falls back to one spawn per call, then restarts', async (t) => {
    const deaths: string[] = [];
    let now = 0;
    const pids: number[] = [];
    const batch = new IpBatch({
      now: () => now,
      start: (argv) => {
        const c = spawnBatchChild(['ip', 'netns', 'exec', NS_A, ...argv]);
        if (c.pid) pids.push(c.pid);
        return c;
      },
      onDeath: (why) => deaths.push(why),
    });
    const runner = new SpawnRunner();
    let spawned = 0;
    const bhost = new IpVipHost({ run: (argv, ms) => (spawned++, runner.run(['ip', 'netns', 'exec', NS_A, ...argv], ms)) }, { batch });
    t.teardown(() => batch.close());
    t.same(await bhost.ensurePresent(VIP4, 'vA'), { ok: true, changed: true });
    t.equal(spawned, 0, 'served by the batch');
    process.kill(pids[0]!, 'SIGKILL');
    for (let i = 0; i < 100 && deaths.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    t.match(deaths, [/exited|signal/], 'the death is reported');
    t.same(await bhost.ensureAbsent(VIP4, 'vA'), { ok: true, changed: true }, 'still works');
    t.equal(spawned, 1, 'by one spawn');
    t.equal(pids.length, 1, 'no restart within the hold time');
    now += 6000;
    t.same(await bhost.ensurePresent(VIP4, 'vA'), { ok: true, changed: true });
    t.equal(pids.length, 2, 'restarted after the hold');
    t.equal(spawned, 1, 'and served by the new child');
    t.same(await bhost.ensureAbsent(VIP4, 'vA'), { ok: true, changed: true });
  });

  t.test('ArpingAnnouncer moves the peer neighbour entry (request and reply forms)', async (t) => {
    t.same(await host.ensurePresent(VIP4, 'vA'), { ok: true, changed: true });
    const macA = macOf(NS_A, 'vA');
    const tracker = new ChildTracker();
    const failures: ChildExit[] = [];
    const announcer = new ArpingAnnouncer(trackerInNs(NS_A, tracker), { onFailure: (e) => failures.push(e) });
    t.teardown(() => announcer.close());
    for (const form of ['request', 'reply'] as const) {
      // B holds a stale entry pointing elsewhere; arp_accept=0 updates existing entries only.
      sh('ip', '-n', NS_B, 'neigh', 'replace', VIP4.address, 'lladdr', '02:00:00:00:00:01', 'dev', 'vB', 'nud', 'stale');
      const garp: GarpConfig = { count: 1, spacing: 0, form, refresh: 0 };
      t.same(await announcer.announce(VIP4, 'vA', garp), { sent: 1, errors: [] }, `${form}: started`);
      const moved = await waitFor(() => neighMac(NS_B, 'vB', VIP4.address) === macA, 2000);
      t.ok(moved, `${form}: B now maps the VIP to A's MAC`);
    }
    await waitFor(() => tracker.running() === 0, 3000);
    t.same(failures, [], 'every arping exited 0');
    t.same(await host.ensureAbsent(VIP4, 'vA'), { ok: true, changed: true });
  });

  t.test('ArpingAnnouncer reports arping exit 2 (bad device) through onFailure', async (t) => {
    const failures: ChildExit[] = [];
    const tracker = new ChildTracker();
    const announcer = new ArpingAnnouncer(trackerInNs(NS_A, tracker), { onFailure: (e) => failures.push(e) });
    t.teardown(() => announcer.close());
    const r = await announcer.announce(VIP4, 'nosuchdev0', { count: 1, spacing: 0, form: 'request', refresh: 0 });
    t.same(r, { sent: 1, errors: [] }, 'the spawn itself succeeds');
    await waitFor(() => failures.length > 0, 3000);
    t.equal(failures[0]?.code, 2);
    t.match(failures[0]?.stderr, /nosuchdev0/);
  });

  t.test('time from announce() to the first frame on the wire (printed, not asserted)', async (t) => {
    t.same(await host.ensurePresent(VIP4, 'vA'), { ok: true, changed: true });
    const dump = spawn('ip', ['netns', 'exec', NS_B, 'tcpdump', '-i', 'vB', '-n', '-l', '-tt', '--immediate-mode', '-c', '1', 'arp'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.teardown(() => dump.kill('SIGKILL'));
    const out = collect(dump);
    t.ok(await waitFor(() => out.err.includes('listening on'), 3000), 'tcpdump listening');
    const announcer = new ArpingAnnouncer(trackerInNs(NS_A, new ChildTracker()));
    t.teardown(() => announcer.close());
    const t0 = performance.timeOrigin + performance.now();
    await announcer.announce(VIP4, 'vA', { count: 1, spacing: 0, form: 'request', refresh: 0 });
    const line = await waitFor(() => out.lines[0], 3000);
    t.ok(line, 'frame captured');
    if (line) t.comment(`first frame ${(Number(line.split(' ')[0]) * 1000 - t0).toFixed(1)} ms after announce()`);
    t.same(await host.ensureAbsent(VIP4, 'vA'), { ok: true, changed: true });
  });

  t.test('UdpTransport.open rejects a bind it cannot make, and mixed address families', async (t) => {
    // In this (root) namespace 198.51.100.1 is not local: the bind fails, nothing is changed.
    const opts = { bind: '198.51.100.1', port: 0, peers: [{ address: '198.51.100.2', port: 6940 }], multicast: null };
    await t.rejects(UdpTransport.open(opts), { code: 'EADDRNOTAVAIL' });
    await t.rejects(UdpTransport.open({ ...opts, bind: null, multicast: '2001:db8::1' }), /mix IPv4 and IPv6/);
  });

  const needsDist = { skip: existsSync(BUILT) ? false : 'run `npm run build` first (dist/ missing)' };

  t.test('UdpTransport: heartbeats flow; a killed peer is reported unreachable', needsDist, async (t) => {
    const b = udpNode(t, NS_B, '198.51.100.2', '198.51.100.1');
    t.ok(await waitFor(() => b.events.some((e) => e.ev === 'ready'), 5000), 'B ready');
    const a = udpNode(t, NS_A, '198.51.100.1', '198.51.100.2');
    t.ok(await waitFor(() => a.events.find((e) => e.ev === 'ready'), 5000), 'A ready');
    t.match(a.events.find((e) => e.ev === 'ready'), { connected: ['198.51.100.2'] }, 'peer socket connected');
    const heard = await waitFor(() => a.events.find((e) => e.ev === 'msg') && b.events.find((e) => e.ev === 'msg'), 5000);
    t.ok(heard, 'each side received the other');
    t.match(a.events.find((e) => e.ev === 'msg'), { address: '198.51.100.2', text: /^hb \d+$/ });
    t.match(b.events.find((e) => e.ev === 'msg'), { address: '198.51.100.1' }, 'source is the bind address');
    t.notOk(a.events.some((e) => e.ev === 'unreachable'), 'no unreachable while B listens');

    const killedAt = performance.now();
    b.child.kill('SIGKILL'); // B's kernel stays up and now answers port unreachable.
    const hit = await waitFor(() => a.events.find((e) => e.ev === 'unreachable'), 2000);
    t.match(hit, { address: '198.51.100.2' }, 'A saw ICMP port unreachable from B');
    if (hit) {
      const since = Number(hit.sinceLastSendMs).toFixed(2);
      t.comment(`unreachable ${(performance.now() - killedAt).toFixed(1)} ms after the kill (heartbeat every 10 ms), ${since} ms after the send`);
    }
    a.child.kill('SIGTERM');
    t.ok(await waitFor(() => a.events.find((e) => e.ev === 'closed'), 3000), 'A closed cleanly');
  });

  t.test('UdpTransport: opened with the link down, sends fail softly, connects once it is up', needsDist, async (t) => {
    sh('ip', '-n', NS_A, 'link', 'set', 'vA', 'down');
    t.teardown(() => sh('ip', '-n', NS_A, 'link', 'set', 'vA', 'up'));
    const b = udpNode(t, NS_B, '198.51.100.2', '198.51.100.1');
    t.ok(await waitFor(() => b.events.some((e) => e.ev === 'ready'), 5000), 'B ready');
    const a = udpNode(t, NS_A, '198.51.100.1', '198.51.100.2');
    t.match(await waitFor(() => a.events.find((e) => e.ev === 'ready'), 5000), { connected: [] }, 'no route: not connected');
    t.match(await waitFor(() => a.events.find((e) => e.ev === 'send-error'), 2000), { target: '198.51.100.2', code: 'ENETUNREACH' });
    sh('ip', '-n', NS_A, 'link', 'set', 'vA', 'up');
    const up = await waitFor(() => a.events.find((e) => e.ev === 'connected'), 3000);
    t.match(up, { peers: ['198.51.100.2'] }, 'reconnected after the link came up');
    t.ok(await waitFor(() => b.events.find((e) => e.ev === 'msg'), 3000), 'B hears A');
    b.child.kill('SIGKILL');
    t.ok(await waitFor(() => a.events.find((e) => e.ev === 'unreachable'), 2000), 'unreachable works on the late connection');
  });

  t.test('UdpTransport: a path with a bind of its own leaves from it, connected or not', needsDist, async (t) => {
    // A's second path cannot connect at start (wA down) and is not retried (reconnect 60 s):
    // its heartbeats go through the unconnected socket of its own address, not through the
    // one bound to 198.51.100.1, which would send them from that address.
    sh('ip', '-n', NS_A, 'link', 'set', 'wA', 'down');
    t.teardown(() => sh('ip', '-n', NS_A, 'link', 'set', 'wA', 'up'));
    const two = (service: string, backbone: string, local: string) => [{ address: service, port: 6940 }, { address: backbone, port: 6940, bind: local }];
    const b = udpNode(t, NS_B, '198.51.100.2', '', { peers: two('198.51.100.1', '203.0.113.1', '203.0.113.2') });
    t.ok(await waitFor(() => b.events.some((e) => e.ev === 'ready'), 5000), 'B ready', { err: b.err });
    const a = udpNode(t, NS_A, '198.51.100.1', '', { peers: two('198.51.100.2', '203.0.113.2', '203.0.113.1'), reconnectMs: 60000 });
    t.match(await waitFor(() => a.events.find((e) => e.ev === 'ready'), 5000), { connected: ['198.51.100.2'] }, 'A: the second path is not connected', { err: a.err });
    sh('ip', '-n', NS_A, 'link', 'set', 'wA', 'up');
    const from = (o: Output, address: string) => o.events.some((e) => e.ev === 'msg' && e.address === address);
    t.ok(await waitFor(() => from(b, '203.0.113.1'), 3000), 'B hears A from its second path\'s address', { addresses: [...new Set(b.events.map((e) => e.address))] });
    t.ok(from(b, '198.51.100.1'), 'and from its first');
    t.ok(await waitFor(() => from(a, '203.0.113.2') && from(a, '198.51.100.2'), 3000), 'A hears B on both paths (B\'s second is connected)');
    t.notOk(a.events.some((e) => e.ev === 'connected'), 'A\'s second path is still not connected: all of that went through its own address\'s socket');
  });
});

interface Output {
  lines: string[];
  events: Record<string, unknown>[];
  err: string;
}

/** A fixture heartbeat node in a namespace, SIGKILLed at teardown if still running; `more` overrides its options. */
function udpNode(t: Test, ns: string, self: string, peer: string, more: Record<string, unknown> = {}): Output & { child: ChildProcess } {
  const opts = { bind: self, port: 6940, peers: [{ address: peer, port: 6940 }], everyMs: 10, runMs: 10000, reconnectMs: 200, ...more };
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, FIXTURE, JSON.stringify(opts)], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => child.kill('SIGKILL'));
  return Object.assign(collect(child), { child });
}

function collect(child: ChildProcess): Output {
  const o: Output = { lines: [], events: [], err: '' };
  let partial = '';
  child.stdout?.on('data', (c: Buffer) => {
    const parts = (partial + c.toString()).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      o.lines.push(line);
      if (line.startsWith('{')) o.events.push(JSON.parse(line));
    }
  });
  child.stderr?.on('data', (c: Buffer) => (o.err += c.toString()));
  return o;
}

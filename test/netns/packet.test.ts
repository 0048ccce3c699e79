/**
 * The AF_PACKET announcer for real, in a lab (namespaces created and deleted here): d0 sends
 * both gratuitous ARP forms for the lab VIP through PacketAnnouncer and the addon, then
 * iputils arping sends the same two; tcpdump on the client captures all four, and each
 * announcer frame must be byte-identical to arping's. Also: the scheduler calls on a child
 * process (this process never changes its own scheduling). Latencies are printed, never
 * asserted (the machine may be busy). Needs root, `npm run build` and the addon built.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { garpFrame } from '../../src/adapters/arp-frame.js';
import { loadNative, nativeAddonPath } from '../../src/adapters/native.js';
import { HAAGENT_NODE_FLAGS } from './agents/haagent.js';
import { run, waitFor, within } from './exec.js';
import { distScript, drillSkipReason, Lab, REPO_ROOT, VIP, VIP_CIDR, type LabProcess } from './lab.js';

const HELPER = distScript('packet-send');
/** announcer runs, each in a fresh process (a standby's first takeover is its first burst). */
const RUNS = 5;

function skipReason(): string | null {
  const why = drillSkipReason(['adapters/packet-announcer', 'adapters/native', 'adapters/arp-frame']);
  if (why) return why;
  const src = join(REPO_ROOT, 'test', 'netns', 'packet-send.ts');
  if (!existsSync(HELPER) || statSync(src).mtimeMs > statSync(HELPER).mtimeMs) return `${HELPER} is missing or stale: run \`npm run build\``;
  if (!existsSync(nativeAddonPath() ?? '')) return 'the native addon is not built: run `npx node-gyp rebuild`';
  return null;
}

const skip = skipReason();
if (skip) t.plan(0, skip);

interface Captured {
  /** epoch ms of the kernel's capture timestamp. */
  at: number;
  bytes: Buffer;
}

/** tcpdump -xx on the client: each frame is a header line (timestamp first) and its hex lines. */
async function capture(lab: Lab, srcMac: string): Promise<{ proc: LabProcess; frames: Captured[] }> {
  const frames: Captured[] = [];
  let listening: () => void = () => undefined;
  const ready = new Promise<boolean>((resolve) => (listening = () => resolve(true)));
  const argv = ['tcpdump', '-i', 'eth0', '-n', '-l', '-e', '-xx', '-tt', '--time-stamp-precision=nano', '--immediate-mode', `arp and ether src ${srcMac}`];
  const proc = lab.spawn(lab.client, argv, {
    onLine: (line, stream) => {
      if (stream === 'stderr') {
        if (line.includes('listening on')) listening();
        return;
      }
      const head = /^(\d+\.\d+) /.exec(line);
      if (head) frames.push({ at: parseFloat(head[1]!) * 1000, bytes: Buffer.alloc(0) });
      const hex = /^\s+0x[0-9a-f]+:\s+((?:[0-9a-f]{2,4}\s?)+)/.exec(line);
      const last = frames[frames.length - 1];
      if (hex && last) last.bytes = Buffer.concat([last.bytes, Buffer.from(hex[1]!.replace(/\s+/g, ''), 'hex')]);
    },
  });
  if (!(await within(ready, 5000, false))) throw new Error('tcpdump on the client did not start listening');
  return { proc, frames };
}

async function helper(lab: Lab | null, ns: string | null, args: string[]): Promise<Record<string, unknown>> {
  // With the installed agent's node flags, as it would run.
  const argv = [process.execPath, ...HAAGENT_NODE_FLAGS, HELPER, ...args];
  const r = lab && ns ? await lab.exec(ns, argv, 10000) : await run(argv, 10000);
  if (r.code !== 0) throw new Error(`packet-send ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

const us = (ms: number) => `${Math.round(ms * 1000)} us`;

t.test('PacketAnnouncer puts arping\'s exact frames on the wire, in process', async (t) => {
  const lab = await Lab.create({ directors: 2 });
  try {
    const d0 = lab.directors[0]!;
    const mac = Buffer.from(d0.mac.replace(/:/g, ''), 'hex');
    const added = await lab.exec(d0, ['ip', 'addr', 'add', VIP_CIDR, 'dev', 'eth0']);
    t.equal(added.code, 0, `VIP ${VIP_CIDR} on d0 (in its namespace)`);
    const { proc, frames } = await capture(lab, d0.mac);

    // Fresh processes, each as an agent's first takeover: construct, prepare, announce once.
    const runs: Record<string, unknown>[] = [];
    for (let i = 0; i < RUNS; i++) {
      const before = frames.length;
      const ours = await helper(lab, d0.ns, ['announce', '--iface', 'eth0', '--vip', VIP, '--form', 'both']);
      runs.push(ours);
      t.equal(ours.prepared, null, `run ${i}: prepare() opened the socket`);
      t.same(ours.outcome, { sent: 2, errors: [] }, `run ${i}: two frames handed to the kernel, no error`);
      t.same(ours.fallback, [], `run ${i}: arping fallback never used`);
      t.ok(await waitFor(() => frames.length >= before + 2 && frames[before + 1]!.bytes.length >= 42, 3000, 10), `run ${i}: both frames reached the client`);
    }

    const arpU = await helper(lab, d0.ns, ['arping', '--iface', 'eth0', '--vip', VIP, '--form', 'request']);
    const arpA = await helper(lab, d0.ns, ['arping', '--iface', 'eth0', '--vip', VIP, '--form', 'reply']);
    t.same([arpU.code, arpA.code], [0, 0], 'arping -U and -A ran');
    const total = 2 * RUNS + 2;
    t.ok(await waitFor(() => frames.length >= total && frames[total - 1]!.bytes.length >= 42, 3000, 10), "arping's frames reached the client");
    proc.kill('SIGINT');
    await within(proc.exited, 3000, null);

    t.equal(frames.length, total, `exactly ${total} ARP frames from d0: nothing else was sent`);
    const hex = frames.map((f) => f.bytes.toString('hex'));
    const [arpingReq, arpingRep] = hex.slice(2 * RUNS);
    t.equal(arpingReq, garpFrame('request', mac, VIP).toString('hex'), 'arping -U sent garpFrame(request)');
    t.equal(arpingRep, garpFrame('reply', mac, VIP).toString('hex'), 'arping -A sent garpFrame(reply)');
    for (let i = 0; i < RUNS; i++) {
      t.equal(hex[2 * i], arpingReq, `run ${i}: request frame byte-identical to arping -U`);
      t.equal(hex[2 * i + 1], arpingRep, `run ${i}: reply frame byte-identical to arping -A`);
    }

    // Capture timestamps (the kernel's, realtime) against the helper's epoch clock: both
    // realtime, comparable to some tens of microseconds.
    const first = runs.map((r, i) => frames[2 * i]!.at - (r.calledAt as number));
    const returned = runs.map((r) => (r.returnedAt as number) - (r.calledAt as number));
    const list = (xs: number[]) => xs.map(us).join(', ');
    t.comment(`fresh processes: constructor (warm-up) ${list(runs.map((r) => r.constructMs as number))}; prepare (socket) ${list(runs.map((r) => r.prepareMs as number))}`);
    t.comment(`first frame on the client after announce() was called: ${list(first)}`);
    t.comment(`announce() returned (both frames sent) after: ${list(returned)}`);
    t.comment(`arping -U: frame on the client ${us(frames[2 * RUNS]!.at - (arpU.calledAt as number))} after its spawn`);

    const timed = await helper(lab, d0.ns, ['time', '--iface', 'eth0', '--vip', VIP, '--count', '200']);
    const ns = [...(timed.ns as number[])].sort((a, b) => a - b);
    const pick = (q: number) => ns[Math.min(ns.length - 1, Math.floor(q * ns.length))]!;
    t.comment(`packetSend over ${ns.length} calls (veth): first ${us((timed.ns as number[])[0]! / 1e6)}, median ${us(pick(0.5) / 1e6)}, p99 ${us(pick(0.99) / 1e6)}, max ${us(ns[ns.length - 1]! / 1e6)}`);
  } finally {
    const report = await lab.destroy();
    t.same(report, { leftNamespaces: [], leftPids: [] }, 'lab removed');
  }
});

t.test('setScheduler/getScheduler on a child: SCHED_RR 1 with reset-on-fork, one thread, not inherited', async (t) => {
  const load = loadNative();
  if (!load.ok) throw new Error(load.reason);
  const mine = load.native.getScheduler(0);
  const out = await helper(null, null, ['sched']);
  t.same(out.self, { policy: 'rr', priority: 1, resetOnFork: true }, "the child's main thread runs SCHED_RR 1, reset on fork");
  t.equal(out.tid, out.pid, 'tid 0 was its main thread');
  t.same(out.otherThread, { policy: 'other', priority: 0, resetOnFork: false }, 'its other threads keep SCHED_OTHER (per thread)');
  t.same(out.child, { policy: 'other', priority: 0, resetOnFork: false }, 'a process it spawned did not inherit the realtime policy');
  t.same(load.native.getScheduler(0), mine, "this test process's scheduling is unchanged");
});

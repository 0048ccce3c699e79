/**
 * An IPv6 VIP end to end: the client reaches 2001:db8::100 on d0; d0's agent is SIGKILLed
 * (its kernel keeps the address and would keep answering); d1 takes over and its unsolicited
 * neighbour advertisement (Override, hop limit 255) moves the client's neighbour entry to d1
 * at once, as a gratuitous ARP does for IPv4. Needs root and `npm run build`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import t from 'tap';
import { parse, stringify } from 'yaml';
import { HaagentCluster, haagentAvailable } from './agents/haagent.js';
import { epochNow, sleep, waitFor } from './exec.js';
import { Lab } from './lab.js';
import { findLog, logOf, waitGroup } from '../fixtures/security/drill.js';
import { fastStatus, groupOf } from '../fixtures/security/watch.js';

if (process.getuid?.() !== 0) t.plan(0, 'network namespaces need root');
else if (!(await haagentAvailable())) t.plan(0, 'dist/src/main.js run is not available: run `npm run build`');

const VIP6 = '2001:db8::100';

function useVip6(cluster: HaagentCluster): void {
  for (const n of cluster.nodes) {
    const cfg = parse(readFileSync(n.configPath, 'utf8')) as { groups: Record<string, unknown>[] };
    cfg.groups[0]!.vip = `${VIP6}/64`;
    writeFileSync(n.configPath, stringify(cfg), { mode: 0o600 });
  }
}

t.test('IPv6 VIP: the new active announces with a neighbour advertisement', async (t) => {
  const lab = await Lab.create({ directors: 2 });
  const cluster = new HaagentCluster(lab, { interval: '50ms', deadTime: '150ms', initDead: '300ms' });
  try {
    useVip6(cluster);
    const [d0, d1] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]];
    const client = lab.client;
    await lab.exec(client, ['ip', 'addr', 'add', '2001:db8::1/64', 'dev', 'eth0', 'nodad']);
    cluster.startAll();
    t.ok(await d0.waitState('active', 10000), 'd0 active', { log: d0.logTail() });
    const neigh = async () => /lladdr ([0-9a-f:]{17})/.exec((await lab.exec(client, ['ip', '-6', 'neigh', 'show', VIP6])).stdout)?.[1] ?? null;
    const ping = () => lab.exec(client, ['ping', '-6', '-c', '1', '-W', '1', VIP6], 3000);
    const first = await waitFor(async () => (await ping()).code === 0, 5000, 100);
    t.ok(first, 'the client reaches the VIP');
    t.equal(await neigh(), lab.directors[0]!.mac, "the client's entry points at d0");

    const frames: string[] = [];
    let listening: () => void = () => undefined;
    const ready = new Promise<void>((r) => (listening = r));
    lab.spawn(client, ['tcpdump', '-i', 'eth0', '-n', '-l', '-e', '-v', '--immediate-mode', 'icmp6 and ip6[40] == 136'], {
      onLine: (line, stream) => (stream === 'stdout' ? frames.push(line) : line.includes('listening on') && listening()),
    });
    await Promise.race([ready, sleep(5000)]);

    const at = epochNow();
    await d0.kill();
    const moved = await waitFor(async () => (await neigh()) === lab.directors[1]!.mac, 3000, 5);
    const movedMs = epochNow() - at;
    t.ok(moved, `the client's entry moved to d1 (${movedMs.toFixed(0)} ms after the kill)`, { log: d1.logTail() });
    t.ok(await d1.waitState('active', 1000), 'd1 active');
    t.equal((await ping()).code, 0, 'the client reaches the VIP on d1');
    await sleep(300);
    const na = frames.join('\n');
    t.match(na, new RegExp(`${lab.directors[1]!.mac} > 33:33:00:00:00:01.*hlim 255.*neighbor advertisement, length 32, tgt is ${VIP6}, Flags \\[override\\]`), 'an unsolicited NA from d1: all-nodes, hop limit 255, Override');
    const unsolicited = frames.filter((l) => l.includes(`${lab.directors[1]!.mac} > 33:33:00:00:00:01`));
    t.ok(unsolicited.length >= 1 && unsolicited.every((l) => l.includes('Flags [override]')), `every NA to all-nodes carries Override alone (${unsolicited.length})`);
    const status = await d1.status();
    t.ok((status?.groups[0]?.announcements ?? 0) >= 1, `status counts the announcements (${status?.groups[0]?.announcements})`);
    t.comment(`IPv6 takeover after SIGKILL: client neighbour entry on d1 after ${movedMs.toFixed(0)} ms (interval 50 ms, dead time 150 ms)`);
    await d0.release();
    // The raw ICMPv6 socket must not keep the process alive after a graceful stop.
    const exit = await d1.stop(4000);
    t.same(exit?.code, 0, 'd1 stops gracefully after announcing (exit 0)');
    t.notOk(await lab.hasAddress(lab.directors[1]!, `${VIP6}/64`), 'and leaves no VIP behind');
  } finally {
    await cluster.stopAll().catch(() => undefined);
    await lab.destroy();
    cluster.cleanup();
  }
});

/**
 * The kernel itself refuses the VIP: IPv6 is switched off on d1's eth0, so its add is answered
 * "IPv6 is disabled on this device" (EACCES). d1 must fault with that reason in status and an
 * error line, hold no VIP, and retry until the interface takes it.
 */
t.test('the kernel refuses the VIP: fault with the reason, retried until it works', async (t) => {
  const lab = await Lab.create({ directors: 2 });
  const cluster = new HaagentCluster(lab, { interval: '50ms', deadTime: '150ms', initDead: '300ms' });
  const d1host = lab.directors[1]!;
  const ipv6On = (on: boolean) => lab.exec(d1host, ['sysctl', '-qw', `net.ipv6.conf.eth0.disable_ipv6=${on ? 0 : 1}`]);
  try {
    useVip6(cluster);
    const [d0, d1] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]];
    t.equal((await ipv6On(false)).code, 0, "IPv6 off on d1's eth0");
    cluster.startAll();
    t.ok(await d0.waitState('active', 10000), 'd0 active', { log: d0.logTail() });
    t.ok(await d1.waitState('standby', 5000), 'd1 standby: nothing has asked it for the VIP yet', { log: d1.logTail() });
    const mark = logOf(d1).length;
    await d0.stop();
    t.ok(await waitGroup(d1, (s) => s === 'fault', 3000), 'd0 stopped: d1 tries to take over and faults', { log: d1.logTail() });
    const g1 = groupOf(await fastStatus(d1));
    t.match(g1?.faultReason ?? '', /cannot add VIP.*EACCES/, `status says why: ${g1?.faultReason}`);
    const line = await waitFor(() => findLog(logOf(d1), /"to":"fault".*cannot add VIP/, 50, mark), 3000, 50);
    t.ok(line, `error-level log line: ${String(line?.reason)}`);
    t.notOk(await lab.hasAddress(d1host, `${VIP6}/64`), 'no VIP on d1');
    t.equal((await ipv6On(true)).code, 0, 'IPv6 back on');
    const took = await waitGroup(d1, (s, v) => s === 'active' && v === true, 15_000);
    t.ok(took, 'd1 retries, leaves fault and holds the VIP', { log: d1.logTail(30) });
    t.ok(await lab.hasAddress(d1host, `${VIP6}/64`), 'the VIP is on d1');
  } finally {
    await cluster.stopAll().catch(() => undefined);
    await lab.destroy();
    cluster.cleanup();
  }
});

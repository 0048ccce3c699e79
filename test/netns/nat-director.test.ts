/**
 * An LVS-NAT-style director pair whose one group holds two VIPs: the service address
 * 198.51.100.100 on eth0 (the client side) and the real server's gateway 203.0.113.1/24 on
 * eth1 (the internal segment, lab-internal.ts). Each director DNATs UDP to the service
 * address onto the real server n0 and forwards; n0's default route is the gateway VIP, so
 * its replies reach the client only through the director that holds both VIPs. If only the
 * outside address moved, requests would reach the new director and the replies would go to
 * a gateway nobody holds.
 *
 * The client's probe keeps a request/reply exchange with n0 through the active director
 * across a crash of the active (SIGKILL, then `haagent release` as systemd's ExecStopPost
 * runs it), a link down of the active's eth0, and a planned stop. After each, the exchange
 * resumes through the other director (its forward counters move, the old one's do not), both
 * VIPs are on it and on no other. Outage figures are comments, not assertions: the bounds
 * only say "it moved" on a busy 2-core machine. Needs root and `npm run build`.
 */
import t, { type Test } from 'tap';
import { outage } from './analyze.js';
import { HaagentCluster, haagentAvailable, type HaagentNode } from './agents/haagent.js';
import { epochNow, sleep, waitFor } from './exec.js';
import { linkDown, linkUp } from './faults.js';
import { GATEWAY_CIDR, GATEWAY_VIP } from './lab-internal.js';
import { Lab, UDP_PORT, VIP, VIP_CIDR, type LabHost } from './lab.js';

if (process.getuid?.() !== 0) t.plan(0, 'network namespaces need root');
else if (!(await haagentAvailable())) t.plan(0, 'dist/src/main.js run is not available: run `npm run build`');

/** "It moved" within this; generous, not a performance claim. */
const MOVED_WITHIN_MS = 3000;

/** DNAT of the service address onto the real server, and counters of what is forwarded each way. */
async function natDirector(lab: Lab, d: LabHost, real: LabHost): Promise<void> {
  const nft = async (...args: string[]) => {
    const r = await lab.exec(d, ['nft', ...args]);
    if (r.code !== 0) throw new Error(`nft ${args.join(' ')} in ${d.ns}: ${r.stderr.trim()}`);
  };
  await nft('add', 'table', 'ip', 'nat');
  await nft('add', 'chain', 'ip', 'nat', 'pre', '{ type nat hook prerouting priority -100; }');
  await nft('add', 'rule', 'ip', 'nat', 'pre', 'ip', 'daddr', VIP, 'udp', 'dport', String(UDP_PORT), 'dnat', 'to', real.ip);
  await nft('add', 'table', 'ip', 'drill');
  await nft('add', 'chain', 'ip', 'drill', 'counted', '{ type filter hook forward priority 0; }');
  await nft('add', 'rule', 'ip', 'drill', 'counted', 'ip', 'daddr', real.ip, 'udp', 'dport', String(UDP_PORT), 'counter');
  await nft('add', 'rule', 'ip', 'drill', 'counted', 'ip', 'saddr', real.ip, 'udp', 'sport', String(UDP_PORT), 'counter');
}

/** Requests and replies d has forwarded so far. */
async function forwarded(lab: Lab, d: LabHost): Promise<{ requests: number; replies: number }> {
  const r = await lab.exec(d, ['nft', 'list', 'chain', 'ip', 'drill', 'counted']);
  const counts = [...r.stdout.matchAll(/counter packets (\d+)/g)].map((m) => Number(m[1]));
  if (r.code !== 0 || counts.length !== 2) throw new Error(`cannot read the forward counters of ${d.ns}: ${r.stderr.trim() || r.stdout}`);
  return { requests: counts[0]!, replies: counts[1]! };
}

/** Which of the two VIPs each director holds, e.g. { d0: 'both', d1: 'none' }. */
async function placement(lab: Lab): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const d of lab.directors) {
    const outside = await lab.hasAddress(d, VIP_CIDR, 'eth0');
    const inside = await lab.hasAddress(d, GATEWAY_CIDR, 'eth1');
    out[d.name] = outside && inside ? 'both' : outside ? 'outside only' : inside ? 'gateway only' : 'none';
  }
  return out;
}

const only = (lab: Lab, holder: string) => Object.fromEntries(lab.directors.map((d) => [d.name, d.name === holder ? 'both' : 'none']));

/** Both neighbour entries (the client's for the service VIP, n0's for the gateway) name `to`. */
async function pointsAt(lab: Lab, real: LabHost, to: HaagentNode): Promise<{ client: boolean; real: boolean }> {
  const port = lab.internal!.ports[lab.directors.indexOf(to.host)]!;
  return { client: (await lab.neighMac(lab.client, VIP)) === to.host.mac, real: (await lab.neighMac(real, GATEWAY_VIP)) === port.mac };
}

/** Waits (bounded) until `holder` alone holds both VIPs, is the only active node and both neighbour entries name it. */
async function settled(lab: Lab, cluster: HaagentCluster, real: LabHost, holder: HaagentNode, timeoutMs: number): Promise<boolean> {
  const want = JSON.stringify(only(lab, holder.name));
  return (
    (await waitFor(async () => {
      if (JSON.stringify(await placement(lab)) !== want) return false;
      if ((await cluster.activeNodes()).join() !== holder.name) return false;
      const p = await pointsAt(lab, real, holder);
      return p.client && p.real;
    }, timeoutMs, 50)) ?? false
  );
}

type Fault = 'crash' | 'link down' | 'planned stop';

/**
 * The fault; resolves with what still runs after it: after a crash, `haagent release` as
 * systemd's ExecStopPost runs it (the killed agent's kernel keeps both VIPs until then), side
 * by side with the peer's takeover.
 */
async function inject(fault: Fault, from: HaagentNode): Promise<Promise<void>> {
  if (fault === 'crash') {
    await from.kill();
    return from.release().then((r) => {
      if (r.code !== 0) throw new Error(`haagent release after the crash: exit ${r.code}: ${r.stderr}`);
    });
  }
  if (fault === 'link down') await linkDown(from.host);
  else await from.stop();
  return Promise.resolve();
}

/** One fault on `from` with the exchange running; checks it resumed through `to` with both VIPs there alone. */
async function round(t: Test, lab: Lab, real: LabHost, from: HaagentNode, to: HaagentNode, fault: Fault): Promise<void> {
  const probe = await lab.startProbe();
  await sleep(300);
  const faultAt = epochNow();
  // When each neighbour entry first named the new director, ms after the fault: watched from
  // the fault on, side by side with it (a killed agent's exit is reaped late).
  const moved: { client: number | null; real: number | null } = { client: null, real: null };
  const watching = waitFor(async () => {
    const p = await pointsAt(lab, real, to);
    if (p.client) moved.client ??= epochNow() - faultAt;
    if (p.real) moved.real ??= epochNow() - faultAt;
    return p.client && p.real;
  }, MOVED_WITHIN_MS + 2000, 5);
  await (await inject(fault, from));
  await watching;
  const { client: clientAt, real: realAt } = moved;
  const before = { from: await forwarded(lab, from.host), to: await forwarded(lab, to.host) };
  await sleep(400);
  const after = { from: await forwarded(lab, from.host), to: await forwarded(lab, to.host) };
  const result = await probe.stop();
  const o = outage(result.sentAt, result.replies, faultAt, result.intervalMs);
  const lastAnswered = Math.max(...result.replies.map((r) => r.sentAt));
  t.ok(clientAt !== null && clientAt < MOVED_WITHIN_MS, `${fault}: the client's entry for ${VIP} names ${to.name}`);
  t.ok(realAt !== null && realAt < MOVED_WITHIN_MS, `${fault}: n0's entry for the gateway ${GATEWAY_VIP} names ${to.name}`);
  t.ok(Number.isFinite(o.outageMs) && o.outageMs < MOVED_WITHIN_MS, `${fault}: the exchange resumed (outage ${o.outageMs.toFixed(1)} ms)`);
  t.ok(lastAnswered > faultAt + o.outageMs, `${fault}: answers up to the end of the round`);
  t.ok(after.to.requests > before.to.requests && after.to.replies > before.to.replies, `${fault}: requests and replies go through ${to.name}`, { before: before.to, after: after.to });
  t.same(after.from, before.from, `${fault}: nothing goes through ${from.name} any more`);
  const where = (await waitFor(async () => JSON.stringify(await placement(lab)) === JSON.stringify(only(lab, to.name)), 3000, 50)) ?? false;
  t.ok(where, `${fault}: both VIPs on ${to.name}, on no other`, { placement: await placement(lab), log: where ? '' : from.logTail() });
  t.comment(`${fault} ${from.name}->${to.name}: outage ${o.outageMs.toFixed(1)} ms (${o.lost} lost of ${result.sentAt.length}), client ARP moved after ${clientAt?.toFixed(1) ?? '-'} ms, gateway ARP on n0 after ${realAt?.toFixed(1) ?? '-'} ms`);
}

/** Brings d0 back after a round and waits until it holds both VIPs alone again (it preempts). */
async function restore(t: Test, lab: Lab, cluster: HaagentCluster, real: LabHost, d0: HaagentNode, fault: Fault): Promise<void> {
  if (fault === 'link down') {
    await linkUp(d0.host);
  } else d0.start();
  const ok = await settled(lab, cluster, real, d0, 10_000);
  t.ok(ok, `after the ${fault}: d0 back, holding both VIPs alone`, { placement: await placement(lab), active: await cluster.activeNodes(), log: ok ? '' : d0.logTail() });
  if (!ok) throw new Error('d0 did not come back');
}

t.test('NAT director pair: both VIPs move together across a crash, a link down and a planned stop', async (t) => {
  const lab = await Lab.create({ directors: 2, internal: { realServers: 1 } });
  const cluster = new HaagentCluster(lab, { vips: [VIP_CIDR, { address: GATEWAY_CIDR, interface: 'eth1' }] });
  try {
    const real = lab.host('n0');
    for (const d of lab.directors) await natDirector(lab, d, real);
    await lab.startResponders([real]);
    cluster.startAll();
    const [d0, d1] = cluster.nodes as [HaagentNode, HaagentNode];
    // n0 learns the gateway's MAC from its first reply, so send a few before checking.
    const warm = await lab.startProbe();
    const up = await settled(lab, cluster, real, d0, 10_000);
    await warm.stop();
    t.ok(up, 'd0 active, holding both VIPs alone', { placement: await placement(lab), logs: up ? '' : `${d0.logTail()}\n${d1.logTail()}` });
    if (!up) return;
    const status = await d0.cliStatus();
    t.same(status?.groups[0]?.vips, [{ vip: VIP_CIDR, interface: 'eth0' }, { vip: GATEWAY_CIDR, interface: 'eth1' }], '`haagent status --json` lists both VIPs');
    t.equal(status?.groups[0]?.vip, VIP_CIDR, 'and keeps vip as the first');

    await round(t, lab, real, d0, d1, 'crash');
    await restore(t, lab, cluster, real, d0, 'crash');
    await round(t, lab, real, d0, d1, 'link down');
    t.equal(await d0.groupState(), 'fault', 'd0 with its eth0 down is in fault, its gateway VIP on eth1 removed too');
    await restore(t, lab, cluster, real, d0, 'link down');
    await round(t, lab, real, d0, d1, 'planned stop');
  } finally {
    await cluster.stopAll();
    t.same(await lab.destroy(), { leftNamespaces: [], leftPids: [] }, 'lab torn down');
    cluster.cleanup();
  }
});

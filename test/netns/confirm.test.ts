/**
 * The announcement check (src/core/confirm.ts) against a real Linux router: the lab's client
 * (198.51.100.1) is the gateway. Its ARP entry for the VIP is stale, pointing at the old
 * active d0, which then dies (agent SIGKILLed, link down). Every gratuitous ARP is lost on the
 * way (the router's drop_gratuitous_arp), so the takeover burst of the new active d1 changes
 * nothing, as when a burst is lost.
 *
 * - Control, no `confirm`: seconds after d1 took over, the router still sends to d0's MAC.
 * - With `confirm: { gateway }`: the router also ignores the first probes (arp_ignore 8: it
 *   neither answers nor learns), so d1 re-announces and asks again; once the router answers
 *   again, its entry points at d1 within the documented bound, and d1's status says
 *   confirmed after two attempts or more.
 *
 * Needs root and `npm run build`.
 */
import t, { type Test } from 'tap';
import { delVip } from './agents/common.js';
import { HaagentCluster, haagentAvailable, type HaagentNode, type HaagentOptions } from './agents/haagent.js';
import { epochNow, run, sleep, waitFor } from './exec.js';
import { linkDown, linkUp } from './faults.js';
import { Lab, VIP } from './lab.js';
import { waitGroup, waitSoleActive } from '../fixtures/security/drill.js';
import { fastStatus, groupOf } from '../fixtures/security/watch.js';

if (process.getuid?.() !== 0) t.plan(0, 'network namespaces need root');
else if (!(await haagentAvailable())) t.plan(0, 'dist/src/main.js run is not available: run `npm run build`');

const TIMING: HaagentOptions = { interval: '100ms', deadTime: '600ms', initDead: '600ms', garp: { count: 1 } };
/** docs/operations.md: the router answers probe n within settle + sum of the waits before it + n s. */
const BOUND_MS = 6000;

const sysctl = (lab: Lab, key: string, value: number) => run(['ip', 'netns', 'exec', lab.client.ns, 'sysctl', '-q', '-w', `net.ipv4.conf.eth0.${key}=${value}`]);

/**
 * d0 active, d1 standby, the router's entry for the VIP stale on d0's MAC; then d0 dies and
 * d1 takes over. Returns when d1 holds the VIP (epoch ms), or null.
 */
async function crashD0(t: Test, lab: Lab, cluster: HaagentCluster, beforeCrash: () => Promise<void>): Promise<number | null> {
  const [d0, d1] = cluster.nodes as [HaagentNode, HaagentNode];
  d0.start();
  t.ok(await waitSoleActive(lab, cluster.nodes, 'd0', 10_000), 'd0 active', { log: d0.logTail() });
  d1.start();
  t.ok(await waitGroup(d1, (s) => s === 'standby', 10_000), 'd1 standby', { log: d1.logTail() });
  // What traffic to the VIP leaves on a router: an entry for d0's MAC, since gone stale.
  await run(['ip', '-n', lab.client.ns, 'neigh', 'replace', VIP, 'lladdr', d0.host.mac, 'nud', 'stale', 'dev', 'eth0']);
  t.equal(await lab.neighMac(lab.client, VIP), d0.host.mac, "the router's entry points at d0");
  await beforeCrash();
  await d0.kill();
  await linkDown(d0.host);
  const ok = await waitGroup(d1, (s, v) => s === 'active' && v === true, 10_000);
  t.ok(ok, 'd0 dead: d1 active with the VIP', { log: d1.logTail() });
  return ok ? epochNow() : null;
}

async function finish(lab: Lab, cluster: HaagentCluster): Promise<void> {
  const d0 = cluster.nodes[0]!;
  await cluster.stopAll();
  await delVip(d0.host);
  await linkUp(d0.host);
  await run(['ip', '-n', lab.client.ns, 'neigh', 'del', VIP, 'dev', 'eth0']);
  await sysctl(lab, 'arp_ignore', 0);
  cluster.cleanup();
}

t.test('a stale router entry and lost gratuitous ARPs: assumed without the check, confirmed with it', async (t) => {
  const lab = await Lab.create({ directors: 2 });
  try {
    const dropped = await sysctl(lab, 'drop_gratuitous_arp', 1);
    t.equal(dropped.code, 0, 'the router drops every gratuitous ARP', { stderr: dropped.stderr });

    await t.test('control: no confirm, the router keeps the dead node', async (t) => {
      const cluster = new HaagentCluster(lab, TIMING);
      try {
        const at = await crashD0(t, lab, cluster, async () => undefined);
        if (at === null) return;
        await sleep(3000);
        const d1 = cluster.nodes[1]!;
        t.equal(await lab.neighMac(lab.client, VIP), cluster.nodes[0]!.host.mac, '3 s after the takeover the router still sends to d0: the lost burst is not noticed');
        t.ok(((await fastStatus(d1))?.groups[0]?.announcements ?? 0) >= 1, 'd1 did announce');
        t.equal(groupOf(await fastStatus(d1))?.confirm, null, 'no check in status');
        t.equal(groupOf(await fastStatus(d1))?.vipPresent, true, 'd1 holds the VIP all the same');
      } finally {
        await finish(lab, cluster);
      }
    });

    await t.test('confirm: re-announced and asked until the router answers, then it points at d1', async (t) => {
      const cluster = new HaagentCluster(lab, { ...TIMING, confirm: { gateway: lab.client.ip, attempts: 6 } });
      const d1 = cluster.nodes[1]!;
      try {
        // The router neither answers nor learns from the first probes.
        const at = await crashD0(t, lab, cluster, async () => void (await sysctl(lab, 'arp_ignore', 8)));
        if (at === null) return;
        const retried = await waitFor(async () => ((groupOf(await fastStatus(d1))?.confirm?.attempts ?? 0) >= 2 ? true : null), 8000, 25);
        t.ok(retried, 'd1 asked at least twice while the router was silent', { log: d1.logTail() });
        t.equal(await lab.neighMac(lab.client, VIP), cluster.nodes[0]!.host.mac, 'meanwhile the router still sends to d0 (burst and first probe lost)');
        t.match(groupOf(await fastStatus(d1))?.confirm, { state: 'pending', gateway: lab.client.ip }, 'status: pending');
        await sysctl(lab, 'arp_ignore', 0);
        const answering = epochNow();
        const flipped = await waitFor(async () => ((await lab.neighMac(lab.client, VIP)) === d1.host.mac ? true : null), BOUND_MS, 10);
        const flipMs = Math.round(epochNow() - answering);
        t.ok(flipped, `the router points at d1 ${flipMs} ms after it answers again (bound ${BOUND_MS} ms), ${Math.round(epochNow() - at)} ms after the takeover`);
        const ok = await waitFor(async () => (groupOf(await fastStatus(d1))?.confirm?.state === 'confirmed' ? true : null), BOUND_MS, 25);
        const c = groupOf(await fastStatus(d1))?.confirm;
        t.ok(ok, 'status: confirmed', { confirm: c, log: d1.logTail() });
        t.ok((c?.attempts ?? 0) >= 2, `after ${c?.attempts} attempts`);
        t.comment(`confirmed ${Math.round(c?.confirmedAfterMs ?? -1)} ms after the takeover, gateway answered in ${c?.lastLatencyMs} ms, ${c?.probes} probes`);
        t.match(d1.logTail(40), /announcement not confirmed yet[\s\S]*announcement confirmed/, 'both logged');
      } finally {
        await finish(lab, cluster);
      }
    });
  } finally {
    const left = await lab.destroy();
    t.same(left, { leftNamespaces: [], leftPids: [] }, 'lab cleaned up');
  }
});

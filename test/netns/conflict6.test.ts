/**
 * VIP conflict detection for an IPv6 VIP: the active director's duplicate address probes
 * (a Neighbor Solicitation from :: to the VIP's solicited-node group, RFC 4862) run and find
 * nobody while only it holds 2001:db8::100 (the control: the probes are seen on the wire,
 * no conflict, no probe error, and the probes leave no neighbour entry behind); then a rogue
 * host adds the same address (nodad, so its kernel keeps it) and answers the next probe: the
 * active counts the conflict in status and metrics, names the rogue's MAC, logs it, stays
 * active, and re-announces (the client's neighbour entry is on it again). Needs root and
 * `npm run build`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import t from 'tap';
import { parse, stringify } from 'yaml';
import { HaagentCluster, haagentAvailable } from './agents/haagent.js';
import { epochNow, sleep, waitFor } from './exec.js';
import { Lab } from './lab.js';

if (process.getuid?.() !== 0) t.plan(0, 'network namespaces need root');
else if (!(await haagentAvailable())) t.plan(0, 'dist/src/main.js run is not available: run `npm run build`');

const VIP6 = '2001:db8::100';

/** The conflict counter of group web in d0's /metrics, scraped from the client namespace. */
async function conflictMetric(lab: Lab, url: string): Promise<number | null> {
  const js = `require('http').get(${JSON.stringify(url)},r=>{let s='';r.on('data',d=>s+=d).on('end',()=>process.stdout.write(s))}).on('error',e=>{console.error(e.message);process.exit(1)})`;
  const r = await lab.exec(lab.client, [process.execPath, '-e', js], 5000);
  const m = /^haagent_vip_conflicts_total\{group="web"\} (\d+)$/m.exec(r.stdout);
  return m ? Number(m[1]) : null;
}

t.test('IPv6 VIP: no conflict while alone; a rogue holding the VIP is detected and named', async (t) => {
  const lab = await Lab.create({ directors: 2, realServers: 1 });
  const cluster = new HaagentCluster(lab);
  try {
    const [d0] = cluster.nodes as [(typeof cluster.nodes)[0]];
    const rogue = lab.realServers[0]!;
    const metricsUrl = `http://${d0.host.ip}:9694/metrics`;
    for (const n of cluster.nodes) {
      const cfg = parse(readFileSync(n.configPath, 'utf8')) as { groups: Record<string, unknown>[]; metrics?: unknown };
      cfg.groups[0]!.vip = `${VIP6}/64`;
      if (n === d0) cfg.metrics = { listen: `${d0.host.ip}:9694` };
      writeFileSync(n.configPath, stringify(cfg), { mode: 0o600 });
    }
    // Every solicitation and advertisement that crosses the segment, seen from the client.
    const cap = await lab.startCapture(lab.client, 'icmp6 and (ip6[40] == 135 or ip6[40] == 136)', { flags: ['-e'] });
    cluster.startAll();
    t.ok(await d0.waitState('active', 20000), 'd0 active', { log: d0.logTail() });
    const activeAt = epochNow();

    // Control: the five fast probes after the takeover (about a second each) and the first
    // steady one, with nobody else holding the VIP.
    await sleep(7000);
    const probes = cap.lines.filter((l) => l.includes(`${d0.host.mac} > 33:33:ff:00:01:00`) && l.includes(`:: > ff02::1:ff00:100`) && l.includes(`who has ${VIP6}`));
    t.ok(probes.length >= 4, `d0 probed ${probes.length} times in ${((epochNow() - activeAt) / 1000).toFixed(1)} s: from ::, to the solicited-node group`, { lines: cap.lines.slice(0, 10) });
    const alone = await d0.status();
    t.equal(alone?.groups[0]?.conflicts, 0, 'no conflict while d0 alone holds the VIP');
    t.equal(await conflictMetric(lab, metricsUrl), 0, 'metrics: 0 conflicts');
    const log0 = readFileSync(d0.logPath, 'utf8');
    t.notMatch(log0, /VIP CONFLICT/, 'no conflict logged');
    t.notMatch(log0, /conflict probe failed/, 'no probe failed (the probes really ran)');
    t.equal(await lab.neighMac(lab.client, VIP6), null, "the probes taught the client's neighbour table nothing");
    // Now the client talks to the VIP, so it has an entry the rogue's answers can move.
    await lab.exec(lab.client, ['ip', 'addr', 'add', '2001:db8::1/64', 'dev', 'eth0', 'nodad']);
    const ping = await waitFor(async () => (await lab.exec(lab.client, ['ping', '-6', '-c', '1', '-W', '1', VIP6], 3000)).code === 0, 8000, 100);
    t.ok(ping, 'the client reaches the VIP');
    t.equal(await lab.neighMac(lab.client, VIP6), d0.host.mac, "the client's entry points at d0");

    const at = epochNow();
    t.equal((await lab.exec(rogue, ['ip', 'addr', 'add', `${VIP6}/64`, 'dev', 'eth0', 'nodad'])).code, 0, 'the rogue adds the VIP (nodad)');
    const seen = await waitFor(async () => ((await d0.status())?.groups[0]?.conflicts ?? 0) > 0, 9000, 100);
    t.ok(seen, 'd0 counted the conflict', { log: d0.logTail(15) });
    t.comment(`IPv6 conflict seen ${(epochNow() - at).toFixed(0)} ms after the rogue added the VIP (steady probe every 5 s)`);
    const st = await d0.status();
    t.same(st?.groups[0]?.lastConflict?.macs, [rogue.mac], `status names the rogue's MAC (${rogue.mac}), and only it`);
    t.ok(((await conflictMetric(lab, metricsUrl)) ?? 0) >= 1, 'metrics count it');
    t.match(readFileSync(d0.logPath, 'utf8'), new RegExp(`VIP CONFLICT: ${VIP6} is also answered by ${rogue.mac}`), 'logged loudly with the MAC');
    t.equal(st?.groups[0]?.state, 'active', 'd0 stays active');
    // The rogue's answer (to all-nodes, Override) moves the client's entry to it; d0's
    // re-announcement moves it back.
    const na = (mac: string) => (l: string) => l.includes(`${mac} > 33:33:00:00:00:01`) && l.includes(`advertisement, tgt is ${VIP6}`);
    const rogueAt = cap.lines.findIndex(na(rogue.mac));
    t.ok(rogueAt >= 0, "the rogue's answer to the probe crossed the segment (to all-nodes)", { lines: cap.lines.slice(-10) });
    const back = cap.lines.slice(rogueAt + 1).find(na(d0.host.mac));
    t.ok(back, 'd0 advertised the VIP after it', { lines: cap.lines.slice(-10) });
    const stamp = (l: string | undefined) => {
      const m = /^(\d\d):(\d\d):(\d\d\.\d+)/.exec(l ?? '');
      return m ? (Number(m[1]) * 60 + Number(m[2])) * 60_000 + Number(m[3]) * 1000 : NaN;
    };
    t.comment(`d0's advertisement ${(stamp(back) - stamp(cap.lines[rogueAt])).toFixed(1)} ms after the rogue's answer (capture times on the client)`);
    t.ok(await waitFor(async () => (await lab.neighMac(lab.client, VIP6)) === d0.host.mac, 5000, 10), "re-announced: the client's entry is on d0", { neigh: (await lab.exec(lab.client, ['ip', '-6', 'neigh'])).stdout });
    await cap.stop();
  } finally {
    await cluster.stopAll().catch(() => undefined);
    await lab.destroy();
    cluster.cleanup();
  }
});

/**
 * Self-test of the drill lab, with no haagent involved: the VIP is moved by hand (ip addr +
 * arping), so a failure here is the harness's, not the agent's. Needs root and `npm run build`.
 */
import t from 'tap';
import { existsSync } from 'node:fs';
import { answerRuns, arpChangeAfter, garpsFor, outage } from './analyze.js';
import { epochNow, run, sleep, waitFor } from './exec.js';
import { clearNetem, hang, heal, kill, linkDown, linkUp, netem, partitionDirectors, qdiscs } from './faults.js';
import { BACKBONE_NET, distScript, Lab, VIP, VIP_CIDR, type LabHost } from './lab.js';
import { listNamespaces, MARKER_DIR, parseNsName, sweep } from './sweep.js';

if (process.getuid?.() !== 0) t.plan(0, 'network namespaces need root');

/** UDP echoes from `from` to `to`'s responder (port 7000), via the probe's ping mode. */
async function ping(lab: Lab, from: LabHost, to: string, count = 2, timeoutMs = 100): Promise<number> {
  const r = await lab.exec(from, [process.execPath, distScript('probe'), 'ping', '--to', to, '--count', String(count), '--timeout', String(timeoutMs)]);
  if (r.code !== 0) throw new Error(`ping failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { received: number }).received;
}

function pidGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

t.test('lab: hand-moved VIP, faults, teardown', async (t) => {
  const before = await listNamespaces();
  const lab = await Lab.create({ directors: 2 });
  const started: number[] = [];
  try {
    const [d0, d1] = lab.directors;
    const listed = await listNamespaces();
    for (const ns of [lab.switchNs, lab.client.ns, d0.ns, d1.ns]) t.ok(listed.includes(ns), `namespace ${ns} exists`);
    t.ok(existsSync(`${MARKER_DIR}/${lab.prefix}.json`), 'creator marker written');

    const responders = await lab.startResponders();
    started.push(...responders.map((p) => p.pid));
    t.equal(await ping(lab, lab.client, d0.ip), 2, 'client reaches d0 responder');

    await t.test('VIP moved by hand from d0 to d1 is seen by probe, ARP watcher and tcpdump', async (t) => {
      t.equal((await run(['ip', '-n', d0.ns, 'addr', 'add', VIP_CIDR, 'dev', 'eth0'])).code, 0);
      const capture = await lab.startArpCapture();
      started.push(capture.proc.pid);
      started.push(lab.spawn(d0, ['arping', '-U', '-c', '1', '-I', 'eth0', VIP]).pid);
      const probe = await lab.startProbe({ tcp: true });
      started.push(probe.proc.pid);
      const onD0 = await waitFor(async () => (await lab.arpEntry(lab.client, VIP))?.mac === d0.mac, 3000, 20);
      t.ok(onD0, 'client learned the VIP at d0');
      await sleep(100); // let d0 answer a stretch of probes before the move

      const faultAt = epochNow();
      await run(['ip', '-n', d0.ns, 'addr', 'del', VIP_CIDR, 'dev', 'eth0']);
      await run(['ip', '-n', d1.ns, 'addr', 'add', VIP_CIDR, 'dev', 'eth0']);
      started.push(lab.spawn(d1, ['arping', '-U', '-c', '1', '-I', 'eth0', VIP]).pid);
      const onD1 = await waitFor(async () => (await lab.arpEntry(lab.client, VIP))?.mac === d1.mac, 3000, 20);
      t.ok(onD1, 'client ARP entry moved to d1');
      await sleep(100);

      const result = await probe.stop();
      const frames = await capture.stop();
      const runs = answerRuns(result.replies).map((r) => r.by);
      t.equal(runs[0], 'd0', 'd0 answered first');
      t.equal(runs[runs.length - 1], 'd1', 'd1 answered last');
      const change = arpChangeAfter(result.arp, faultAt, d1.mac);
      t.ok(change, 'probe ARP watcher saw the MAC change to d1');
      const garps = garpsFor(frames, VIP);
      t.ok(garps.some((f) => f.srcMac === d0.mac), 'tcpdump saw d0 announce');
      t.ok(garps.some((f) => f.srcMac === d1.mac && f.op === 'request'), 'tcpdump saw d1 announce (arping -U)');
      const o = outage(result.sentAt, result.replies, faultAt, result.intervalMs);
      t.ok(Number.isFinite(o.outageMs), 'outage is finite');
      t.equal(o.firstAfter?.by, 'd1');
      t.ok(result.tcp.some((a) => a.ok && a.by === 'd0') && result.tcp.some((a) => a.ok && a.by === 'd1'), 'tcp probes reached both');
      t.comment(`hand move: outage ${o.outageMs.toFixed(1)} ms (${o.lost} lost), ARP update ${change ? (change.at - faultAt).toFixed(1) : '-'} ms`);
    });

    await t.test('link down silences a director, link up restores it', async (t) => {
      t.equal((await linkDown(d1)).code, 0);
      t.equal(await ping(lab, lab.client, VIP, 2, 80), 0, 'no answer while d1 eth0 is down');
      t.equal((await linkUp(d1)).code, 0);
      const back = await waitFor(async () => (await ping(lab, lab.client, VIP, 1, 100)) === 1, 5000, 50);
      t.ok(back, 'answers again after link up');
    });

    await t.test('partition cuts director to director, not client to director', async (t) => {
      t.equal(await ping(lab, d0, d1.ip), 2, 'd0 reaches d1 before');
      await partitionDirectors(lab);
      t.equal(await ping(lab, d0, d1.ip, 2, 80), 0, 'd0 -> d1 blocked');
      t.equal(await ping(lab, d1, d0.ip, 2, 80), 0, 'd1 -> d0 blocked');
      t.equal(await ping(lab, lab.client, d0.ip), 2, 'client -> d0 still works');
      t.equal(await ping(lab, lab.client, d1.ip), 2, 'client -> d1 still works');
      await heal(lab);
      t.ok(await waitFor(async () => (await ping(lab, d0, d1.ip, 1, 100)) === 1, 3000, 20), 'healed');
    });

    await t.test('netem on the heartbeat path (or the interface) when the kernel has it', async (t) => {
      const outcome = await netem(d0, { lossPct: 5, delayMs: 10, jitterMs: 2 });
      if (!outcome.ok) {
        t.match(outcome.error, /unknown|not supported|No such/i, 'the missing qdisc is reported, not hidden');
        t.pass('netem effect', { skip: `netem unavailable on this kernel: ${outcome.error}` });
        return;
      }
      t.match(await qdiscs(d0), /netem/, `netem applied (${outcome.scope})`);
      await clearNetem(d0);
      t.notMatch(await qdiscs(d0), /netem/, 'netem cleared');
    });

    await t.test('hang freezes a process for a while; kill stops it', async (t) => {
      const r0 = responders[0];
      const frozen = hang(r0, 1500); // long enough that the ping helper starts and times out inside it
      t.equal(await ping(lab, lab.client, d0.ip, 1, 100), 0, 'stopped responder is silent');
      await frozen;
      t.equal(await ping(lab, lab.client, d0.ip, 1, 200), 1, 'answers after SIGCONT');
      t.ok(kill(r0, 'SIGTERM'));
      t.same(await r0.exited, { code: 0, signal: null }, 'responder exits cleanly on SIGTERM');
      t.notOk(kill(r0, 'SIGKILL'), 'no signal to an exited process');
    });

    await t.test('sweep deletes namespaces of dead creators and keeps live ones', async (t) => {
      const gone = lab.spawn(lab.client, ['true']);
      await gone.exited;
      const stale = `hat${gone.pid.toString(36)}zzzz-sw`;
      t.equal((await run(['ip', 'netns', 'add', stale])).code, 0);
      const report = await sweep();
      t.ok(report.deleted.includes(stale), 'stale namespace deleted');
      t.ok(report.kept.includes(lab.switchNs), 'this live run kept');
      t.notOk((await listNamespaces()).includes(stale));
    });
  } finally {
    const report = await lab.destroy();
    t.same(report, { leftNamespaces: [], leftPids: [] }, 'destroy left nothing behind');
  }
  const after = await listNamespaces();
  t.same(after.filter((n) => n.startsWith(lab.prefix)), [], 'no namespace of this run is listed');
  // Other suites may create namespaces meanwhile; judge only the ones this process made.
  const mine = (names: string[]): string[] => names.filter((n) => parseNsName(n)?.pid === process.pid);
  t.same(mine(after), mine(before), 'no namespace of this process added since the start');
  t.ok(started.every(pidGone), 'every process the lab started is gone');
  t.notOk(existsSync(`${MARKER_DIR}/${lab.prefix}.json`), 'marker removed');
});

t.test('lab with a backbone: eth1 joins the directors only; cutting it leaves eth0 alone', async (t) => {
  const lab = await Lab.create({ directors: 2, backbone: true });
  try {
    const [d0, d1] = lab.directors;
    t.same(lab.directors.map((d) => d.backboneIp), [`${BACKBONE_NET}.10`, `${BACKBONE_NET}.11`], 'eth1 addresses from the backbone net');
    t.equal(lab.client.backboneIp, undefined, 'the client has none');
    t.ok(await lab.hasAddress(d0, `${d0.backboneIp}/24`, 'eth1'), 'd0 eth1 holds its address');
    await lab.startResponders();
    t.equal(await ping(lab, d0, d1.backboneIp!), 2, 'd0 reaches d1 over the backbone');
    t.equal(await ping(lab, lab.client, d1.backboneIp!, 1, 80), 0, 'the client has no way onto the backbone');
    t.equal((await linkDown(d0, 'eth1')).code, 0);
    t.equal(await ping(lab, d0, d1.backboneIp!, 1, 80), 0, 'backbone cut');
    t.equal(await ping(lab, d0, d1.ip), 2, 'the service segment still joins them');
    t.equal((await linkUp(d0, 'eth1')).code, 0);
    t.ok(await waitFor(async () => (await ping(lab, d0, d1.backboneIp!, 1, 100)) === 1, 5000, 50), 'backbone back');
  } finally {
    t.same(await lab.destroy(), { leftNamespaces: [], leftPids: [] }, 'destroy left nothing behind');
  }
  t.same((await listNamespaces()).filter((n) => n.startsWith(lab.prefix)), [], 'no namespace of this run is listed');
});

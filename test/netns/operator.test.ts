/**
 * Operator commands through the real control socket, in namespaces: standby hands over with
 * no more outage than a planned stop, takeover takes back, maintenance survives a restart,
 * reload refuses an invalid file and a one-group change leaves the other group alone, and
 * `haagent events` streams the transitions. Needs root and `npm run build`.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import t, { type Test } from 'tap';
import { parse, stringify } from 'yaml';
import { HaagentCluster, HAAGENT_MAIN, haagentAvailable, type HaagentNode } from './agents/haagent.js';
import { outage } from './analyze.js';
import { epochNow, sleep, waitFor } from './exec.js';
import { Lab, VIP } from './lab.js';

if (process.getuid?.() !== 0) t.plan(0, 'network namespaces need root');
else if (!(await haagentAvailable())) t.plan(0, 'dist/src/main.js run is not available: run `npm run build`');

const VIP2 = '198.51.100.101/32';
const VIP3 = '198.51.100.102/32';

function cli(lab: Lab, n: HaagentNode, args: string[]) {
  return lab.exec(n.host, [process.execPath, HAAGENT_MAIN, ...args, '--config', n.configPath], 10000);
}

/** Adds a second group "db" to every node's config (same priorities as web). */
function addDbGroup(cluster: HaagentCluster): void {
  for (const n of cluster.nodes) {
    const cfg = parse(readFileSync(n.configPath, 'utf8')) as { groups: Record<string, unknown>[] };
    cfg.groups.push({ ...cfg.groups[0], name: 'db', vip: VIP2 });
    writeFileSync(n.configPath, stringify(cfg), { mode: 0o600 });
  }
}

async function up(t: Test, lab: Lab, cluster: HaagentCluster): Promise<[HaagentNode, HaagentNode]> {
  await lab.startResponders();
  cluster.startAll();
  const ok = await waitFor(async () => (await cluster.activeNodes()).join() === 'd0' && (await cluster.activeNodes('db')).join() === 'd0', 10000, 100);
  t.ok(ok, 'd0 active for both groups', { diagnostic: !ok, log: cluster.nodes[0]!.logTail() });
  return [cluster.nodes[0]!, cluster.nodes[1]!];
}

t.test('standby, takeover, maintenance, reload, events', async (t) => {
  const lab = await Lab.create({ directors: 2 });
  const cluster = new HaagentCluster(lab);
  addDbGroup(cluster);
  let ev: ReturnType<typeof spawn> | null = null;
  try {
    const [d0, d1] = await up(t, lab, cluster);

    // events: follow the stream while the operator acts
    const events: string[] = [];
    ev = spawn('ip', ['netns', 'exec', d0.host.ns, process.execPath, HAAGENT_MAIN, 'events', '--config', d0.configPath], { stdio: ['ignore', 'pipe', 'ignore'] });
    ev.stdout!.setEncoding('utf8').on('data', (d: string) => events.push(...d.split('\n').filter(Boolean)));
    await sleep(300);

    // standby: hand over web only, measure what the client sees
    const probe = await lab.startProbe();
    await sleep(200);
    const at = epochNow();
    const sb = await cli(lab, d0, ['standby', 'web']);
    t.equal(sb.code, 0, `standby exits 0: ${sb.stdout.trim()} ${sb.stderr.trim()}`);
    t.match(sb.stdout, /handing over/);
    await waitFor(async () => (await lab.neighMac(lab.client, VIP)) === d1.host.mac, 3000, 5);
    await sleep(200);
    const res = await probe.stop();
    const o = outage(res.sentAt, res.replies, at, res.intervalMs);
    t.comment(`standby handover: outage ${o.outageMs.toFixed(1)} ms, ${o.lost} probes lost`);
    t.ok(o.outageMs < 100, 'standby outage is that of a planned handover (no dead-time wait)');
    t.same(await cluster.activeNodes('web'), ['d1'], 'd1 holds web');
    t.same(await cluster.activeNodes('db'), ['d0'], 'db untouched');
    await sleep(500);
    t.equal(await d0.groupState('web'), 'standby', 'd0 does not preempt back after standby');

    // takeover
    const to = await cli(lab, d0, ['takeover', 'web']);
    t.equal(to.code, 0, `takeover exits 0: ${to.stdout.trim()}`);
    t.same(await cluster.activeNodes('web'), ['d0']);
    const bad = await cli(lab, d0, ['takeover', 'nosuchgroup']);
    t.equal(bad.code, 1, 'takeover of an unknown group is refused');
    t.match(bad.stdout, /no group named nosuchgroup/);

    // maintenance survives a restart
    const mon = await cli(lab, d0, ['maintenance', 'on']);
    t.equal(mon.code, 0, `maintenance on: ${mon.stdout.trim()}`);
    t.same(await cluster.activeNodes('web'), ['d1']);
    await d0.stop();
    d0.start();
    t.ok(await waitFor(async () => (await d0.status()) !== null, 5000, 50), 'd0 back');
    await sleep(700);
    const st = await d0.status();
    t.equal(st?.maintenance, true, 'still in maintenance after restart');
    t.same(await cluster.activeNodes('web'), ['d1'], 'd1 still holds web');
    const moff = await cli(lab, d0, ['maintenance', 'off']);
    t.equal(moff.code, 0, `maintenance off: ${moff.stdout.trim()}`);
    t.ok(await waitFor(async () => (await cluster.activeNodes('web')).join() === 'd0', 3000, 50), 'd0 preempts back');
    // the first follower ended with the restarted process; follow the new one
    const ev2 = spawn('ip', ['netns', 'exec', d0.host.ns, process.execPath, HAAGENT_MAIN, 'events', '--config', d0.configPath], { stdio: ['ignore', 'pipe', 'ignore'] });
    const events2: string[] = [];
    ev2.stdout.setEncoding('utf8').on('data', (d: string) => events2.push(...d.split('\n').filter(Boolean)));
    t.teardown(() => void ev2.kill('SIGKILL'));
    await sleep(300);
    t.ok(await waitFor(async () => (await cluster.activeNodes('db')).join() === 'd0', 3000, 50), 'db back on d0');

    // reload: an invalid file changes nothing
    const good = readFileSync(d0.configPath, 'utf8');
    // an applied-looking change (priority 10) next to an invalid key: nothing may be applied
    writeFileSync(d0.configPath, good.replace('priority: 150', 'priority: 10\n    bogusKey: 1'));
    // --config with the invalid file: the CLI warns and still asks the agent, whose answer is the refusal
    const rl = await lab.exec(d0.host, [process.execPath, HAAGENT_MAIN, 'reload', '--config', d0.configPath], 10000);
    t.equal(rl.code, 78, 'reload of an invalid file exits 78');
    t.match(rl.stderr, /reload refused[^]*bogusKey/);
    writeFileSync(d0.configPath, good, { mode: 0o600 });
    t.equal((await d0.status())?.groups.find((g) => g.name === 'web')?.advertisedPriority, 150, 'old config still in force');

    // reload: lower only db's priority below d1 -> db moves, web untouched
    const cfg = parse(good) as { groups: { name: string; priority: number }[] };
    cfg.groups.find((g) => g.name === 'db')!.priority = 50;
    writeFileSync(d0.configPath, stringify(cfg), { mode: 0o600 });
    const webBefore = (await d0.status())!.groups.find((g) => g.name === 'web')!;
    const rl2 = await cli(lab, d0, ['reload']);
    t.equal(rl2.code, 0, `reload applies: ${rl2.stdout.trim()} ${rl2.stderr.trim()}`);
    t.ok(await waitFor(async () => (await cluster.activeNodes('db')).join() === 'd1', 3000, 50), 'db moved to d1');
    const webAfter = (await d0.status())!.groups.find((g) => g.name === 'web')!;
    t.equal(webAfter.state, 'active');
    t.equal(webAfter.transitions, webBefore.transitions, 'web had no transition during the reload');
    t.ok(await d0.vipPresent(), 'web VIP still on d0');

    // reload: a new group with a failing exec check joins in fault; fixing the check by
    // reload makes it active; dropping the group releases its VIP. web never moves.
    const withApi = (command: string[] | null) => {
      for (const n of cluster.nodes) {
        const c = parse(readFileSync(n.configPath, 'utf8')) as { groups: Record<string, unknown>[] };
        c.groups = c.groups.filter((g) => g.name !== 'api');
        if (command) c.groups.push({ ...c.groups[0], name: 'api', vip: VIP3, checks: [{ name: 'app', type: 'exec', command, interval: '200ms', rise: 1, fall: 1 }] });
        writeFileSync(n.configPath, stringify(c), { mode: 0o600 });
      }
      return Promise.all(cluster.nodes.map((n) => cli(lab, n, ['reload'])));
    };
    const api = async (n: HaagentNode) => (await n.status())?.groups.find((g) => g.name === 'api');
    const r1 = await withApi(['/bin/false']);
    t.same(r1.map((r) => r.code), [0, 0], 'a new group with a check reloads (no restart)');
    t.ok(await waitFor(async () => (await api(d0))?.state === 'fault' && (await api(d1))?.state === 'fault', 5000, 50), 'api joins in fault on both: its check fails');
    t.match((await api(d0))?.checks, [{ name: 'app', state: 'failing' }], 'status shows the check');
    t.notOk(await lab.hasAddress(d0.host, VIP3), 'no api VIP while the check fails');
    await withApi(['/bin/true']);
    t.ok(await waitFor(async () => (await api(d0))?.state === 'active' && (await api(d1))?.state === 'standby', 5000, 50), 'the check fixed by reload: api active on d0');
    t.ok(await waitFor(() => lab.hasAddress(d0.host, VIP3), 2000, 50), 'api VIP on d0');
    await withApi(null);
    t.ok(await waitFor(async () => !(await lab.hasAddress(d0.host, VIP3)), 3000, 50), 'api dropped by reload: its VIP released');
    const webEnd = (await d0.status())!.groups.find((g) => g.name === 'web')!;
    t.equal(webEnd.transitions, webBefore.transitions, 'web had no transition through the three reloads');

    // a warning of the election reaches the stream too: d1 dies, d0 says so
    await d1.kill();
    const note = await waitFor(() => events2.map((l) => JSON.parse(l) as { event: string; level?: string; peer?: string; msg?: string }).find((e) => e.event === 'note' && e.peer === 'd1'), 5000, 50);
    t.match(note, { event: 'note', level: 'warn', peer: 'd1', msg: /^peer d1 dead/ }, 'events streamed the warning that d1 is dead');
    t.ok(events2.some((l) => l.includes('"event":"peer-down"') && l.includes('"peer":"d1"')), 'events streamed peer-down for d1');
    t.ok(events2.some((l) => l.includes('"event":"check"') && l.includes('"check":"app"')), 'events streamed the api check\'s changes');
    const chk = await lab.exec(d0.host, [process.execPath, HAAGENT_MAIN, 'status', '--check', '--config', d0.configPath], 10000);
    t.equal(chk.code, 2, `status --check is CRITICAL with the only peer dead: ${chk.stdout.trim()}`);
    t.match(chk.stdout, /^HAAGENT CRITICAL - no peer alive \(d1 dead\)/);

    ev.kill('SIGTERM');
    const transitions = events.map((l) => JSON.parse(l) as { event: string; group?: string; to?: string }).filter((e) => e.event === 'transition');
    t.ok(transitions.some((e) => e.group === 'web' && e.to === 'standby'), 'events streamed the standby transition');
    t.ok(events.some((l) => l.includes('"event":"maintenance"') && l.includes('"on":true')), 'events streamed maintenance on');
    t.ok(events2.some((l) => l.includes('"event":"reload"')), 'events streamed the reload');
  } finally {
    ev?.kill('SIGKILL');
    await cluster.stopAll();
    const left = await lab.destroy();
    cluster.cleanup();
    t.same(left.leftNamespaces, [], 'no namespace left');
  }
});

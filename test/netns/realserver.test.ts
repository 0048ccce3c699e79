/**
 * The real-server role end to end, with the compiled CLI (`npm run build` first; `npm test`
 * does), in the lab of lab.ts: a switch namespace with a bridge, client c (198.51.100.1),
 * directors d0 (.10, holds the VIP 198.51.100.100/32 on eth0) and d1 (.11, idle), real servers
 * r0 (.20) and r1 (.21); MACs 02:00:00:00:00:xx. Nothing touches the root namespace; the lab is
 * destroyed in `finally`, even on failure. Needs root; skipped otherwise.
 *
 * The story: the VIP on the real servers' lo WITHOUT the role makes them answer ARP for it
 * (the "ARP problem"); `realserver up` stops that (only d0 answers) while a frame sent to r0's
 * MAC still reaches r0's service (direct routing); `realserver down` restores the sysctls it
 * found, removes the VIP it added and leaves alone the one that was there before.
 */
import t, { type Test } from 'tap';
import { join } from 'node:path';
import { parseArpingReplies } from '../../src/adapters/arp-detect.js';
import { run } from './exec.js';
import { distScript, drillSkipReason, Lab, REPO_ROOT, VIP, VIP_CIDR, type LabHost } from './lab.js';

const MAIN = join(REPO_ROOT, 'dist', 'src', 'main.js');
const SYSCTLS = ['all/arp_ignore', 'all/arp_announce', 'eth0/arp_ignore', 'eth0/arp_announce'];

const skip = drillSkipReason(['cli/realserver', 'realserver/apply', 'realserver/plan', 'realserver/arp-check', 'adapters/sysctl']);
if (skip !== null) t.plan(0, skip);

interface CliRun {
  code: number;
  out: string;
}

/** The real CLI inside host's namespace; stdout and stderr together, as an operator sees them. */
async function haagent(lab: Lab, host: LabHost, args: string[]): Promise<CliRun> {
  const r = await lab.exec(host, [process.execPath, MAIN, 'realserver', ...args], 15000);
  return { code: r.code, out: (r.stdout + r.stderr).trimEnd() };
}

/** Every MAC that answers an ARP request for the VIP from the client (three requests, ~3 s). */
async function whoAnswers(lab: Lab): Promise<string[]> {
  const r = await lab.exec(lab.client, ['arping', '-c', '3', '-I', 'eth0', VIP], 8000);
  if (r.code !== 0 && r.code !== 1) throw new Error(`arping: exit ${r.code}: ${r.stderr}`);
  return [...new Set(parseArpingReplies(r.stdout).map((x) => x.mac))].sort();
}

async function sysctls(lab: Lab, host: LabHost): Promise<number[]> {
  const r = await lab.exec(host, ['cat', ...SYSCTLS.map((s) => `/proc/sys/net/ipv4/conf/${s}`)]);
  if (r.code !== 0) throw new Error(`cat sysctls in ${host.ns}: ${r.stderr}`);
  return r.stdout.trim().split('\n').map(Number);
}

async function onLo(host: LabHost): Promise<boolean> {
  const r = await run(['ip', '-n', host.ns, '-o', 'addr', 'show', 'dev', 'lo']);
  return r.stdout.split(/\s+/).includes(VIP_CIDR);
}

async function must(lab: Lab, host: LabHost, argv: string[]): Promise<void> {
  const r = await lab.exec(host, argv);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} in ${host.ns}: exit ${r.code}: ${r.stderr}`);
}

/** UDP echoes from the client to the VIP (responders answer with their name). */
async function pingVip(lab: Lab): Promise<string[]> {
  const r = await lab.exec(lab.client, [process.execPath, distScript('probe'), 'ping', '--to', VIP, '--count', '3', '--timeout', '200']);
  if (r.code !== 0) throw new Error(`probe ping: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { by: string[] }).by;
}

t.test('realserver role in namespaces: the ARP problem, up, direct routing, down', async (t) => {
  const lab = await Lab.create({ directors: 2, realServers: 2 });
  try {
    await story(t, lab);
  } finally {
    const left = await lab.destroy();
    t.same(left, { leftNamespaces: [], leftPids: [] }, 'lab destroyed: no namespace, no process left');
  }
});

async function story(t: Test, lab: Lab): Promise<void> {
  const [d0, d1] = lab.directors;
  const [r0, r1] = lab.realServers;
  const macName = new Map(lab.hosts.map((h) => [h.mac, h.name]));
  const named = (macs: string[]): string => macs.map((m) => `${m} (${macName.get(m) ?? '?'})`).join(', ') || 'none';
  const state = (h: LabHost): string => join(lab.dir, `${h.name}-realserver.json`);
  const directorMacs = lab.directors.flatMap((d) => ['--director-mac', d.mac]);

  await must(lab, d0, ['ip', 'addr', 'add', VIP_CIDR, 'dev', 'eth0']);
  for (const r of [r0, r1]) await must(lab, r, ['ip', 'addr', 'add', VIP_CIDR, 'dev', 'lo']);
  // A non-default value found on r1 must come back after down (not the kernel default).
  await must(lab, r1, ['sh', '-c', 'echo 1 > /proc/sys/net/ipv4/conf/all/arp_announce']);
  const original = { r0: await sysctls(lab, r0), r1: await sysctls(lab, r1) };

  const before = await whoAnswers(lab);
  t.comment(`BEFORE (VIP on lo, no role): ARP for ${VIP} answered by ${named(before)}`);
  t.same(before, [d0.mac, r0.mac, r1.mac].sort(), 'without the role both real servers answer ARP for the VIP');
  const leak = await haagent(lab, d0, ['check', '--from-director', '--vip', VIP, '--interface', 'eth0', ...directorMacs]);
  t.comment(`check --from-director on d0, before:\n${leak.out}`);
  t.equal(leak.code, 1, 'check --from-director flags the leak');
  t.match(leak.out, r0.mac);
  t.match(leak.out, r1.mac);
  t.equal((await haagent(lab, r0, ['check', '--vip', VIP, '--interface', 'eth0'])).code, 1, 'local check on r0: not safe');

  // r0: the role adds the VIP itself; r1: the VIP was there before, the role must leave it there.
  await must(lab, r0, ['ip', 'addr', 'del', VIP_CIDR, 'dev', 'lo']);
  const up0 = await haagent(lab, r0, ['up', '--vip', VIP, '--interface', 'eth0', '--state-file', state(r0)]);
  const up1 = await haagent(lab, r1, ['up', '--vip', VIP, '--interface', 'eth0', '--state-file', state(r1)]);
  t.comment(`up on r0:\n${up0.out}\nup on r1:\n${up1.out}`);
  t.equal(up0.code, 0, 'up on r0');
  t.equal(up1.code, 0, 'up on r1');
  t.match(up0.out, 'set net.ipv4.conf.all.arp_ignore 0 -> 1');
  t.match(up0.out, `added ${VIP_CIDR} to lo`);
  t.match(up1.out, 'set net.ipv4.conf.all.arp_announce 1 -> 2');
  t.notMatch(up1.out, 'added', 'r1 already had the VIP');
  const again = await haagent(lab, r0, ['up', '--vip', VIP, '--interface', 'eth0', '--state-file', state(r0)]);
  t.same(again, { code: 0, out: 'nothing to change' }, 'up is idempotent');
  t.same(await sysctls(lab, r0), [1, 2, 1, 2], 'r0 sysctls set');
  t.equal((await haagent(lab, r0, ['check', '--vip', VIP, '--interface', 'eth0'])).code, 0, 'local check on r0: safe');

  const after = await whoAnswers(lab);
  t.comment(`AFTER realserver up: ARP for ${VIP} answered by ${named(after)}`);
  t.same(after, [d0.mac], 'only the director answers');
  const clean = await haagent(lab, d0, ['check', '--from-director', '--vip', VIP, '--interface', 'eth0', ...directorMacs]);
  t.comment(`check --from-director on d0, after:\n${clean.out}`);
  t.equal(clean.code, 0, 'check --from-director on the VIP holder: nobody else answers');
  const standby = await haagent(lab, d1, ['check', '--from-director', '--vip', VIP, '--interface', 'eth0', ...directorMacs]);
  t.comment(`check --from-director on d1 (standby), after:\n${standby.out}`);
  t.equal(standby.code, 0, 'from the standby: exactly one director answers');

  await t.test('direct routing: a frame to r0 MAC with the VIP as destination reaches r0 service', async (t) => {
    await lab.startResponders([d0, r0]);
    t.same(await pingVip(lab), ['d0', 'd0', 'd0'], 'by ARP the client reaches the director');
    // What the LVS director does: forward the frame unchanged to a real server MAC.
    await must(lab, lab.client, ['ip', 'neigh', 'replace', VIP, 'lladdr', r0.mac, 'dev', 'eth0', 'nud', 'permanent']);
    t.same(await pingVip(lab), ['r0', 'r0', 'r0'], 'the real server accepts the VIP-addressed packets');
  });

  const down0 = await haagent(lab, r0, ['down', '--state-file', state(r0)]);
  const down1 = await haagent(lab, r1, ['down', '--state-file', state(r1)]);
  t.comment(`down on r0:\n${down0.out}\ndown on r1:\n${down1.out}`);
  t.equal(down0.code, 0, 'down on r0');
  t.equal(down1.code, 0, 'down on r1');
  t.same(await sysctls(lab, r0), original.r0, 'r0 sysctls back to what up found');
  t.same(await sysctls(lab, r1), original.r1, 'r1 sysctls back to what up found (all.arp_announce 1)');
  t.equal(await onLo(r0), false, 'the VIP up added is gone from r0 lo');
  t.equal(await onLo(r1), true, 'the VIP that was on r1 lo before up is still there');
  t.same(await pingVip(lab), [], 'without the VIP on lo, r0 drops the packets for it');
  const restored = await whoAnswers(lab);
  t.comment(`AFTER realserver down: ARP for ${VIP} answered by ${named(restored)}`);
  t.same(restored, [d0.mac, r1.mac].sort(), 'r1 (VIP on lo, sysctls restored) leaks again: down really restored');
}

/**
 * The IPv6 announcer's raw ICMPv6 socket only sends: after an announcement, ICMPv6 traffic
 * in the namespace (pings to ::1 and to all-nodes on the link, each echo and reply a copy
 * for every raw ICMPv6 socket that lets them in, and the NAs themselves looped back) must
 * not wake its receive path nor queue anything on it. Before the fix the addon's read watcher
 * fired for every such packet (recvReady > 0); with the read watcher paused but no filter,
 * the kernel queued them unread (rx_queue > 0 in /proc/net/raw6). One namespace, created and
 * deleted here (named like a lab's, so sweep() removes it after a crashed run), with a veth
 * pair; the helper (ndisc-quiet.ts) runs inside it. Needs root and `npm run build`.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { HAAGENT_NODE_FLAGS } from './agents/haagent.js';
import { must, run, waitFor } from './exec.js';
import { distScript, drillSkipReason, REPO_ROOT } from './lab.js';
import { deleteNamespaces, makePrefix, removeMarker, sweep, writeMarker } from './sweep.js';

const HELPER = distScript('ndisc-quiet');

function skipReason(): string | null {
  const why = drillSkipReason(['adapters/ndisc']);
  if (why) return why;
  const src = join(REPO_ROOT, 'test', 'netns', 'ndisc-quiet.ts');
  if (!existsSync(HELPER) || statSync(src).mtimeMs > statSync(HELPER).mtimeMs) return `${HELPER} is missing or stale: run \`npm run build\``;
  return null;
}

const skip = skipReason();
if (skip) t.plan(0, skip);

t.test('after an announcement, ICMPv6 traffic neither wakes nor fills the raw socket', async (t) => {
  await sweep();
  const prefix = makePrefix();
  const ns = `${prefix}d0`;
  writeMarker(prefix);
  try {
    await must(['ip', 'netns', 'add', ns]);
    // No duplicate address detection: the link-local addresses are usable at once.
    await must(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.default.accept_dad=0']);
    await must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    await must(['ip', '-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']);
    await must(['ip', '-n', ns, 'link', 'set', 'eth1', 'up']);
    await must(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
    const linkLocal = await waitFor(async () => {
      const out = await must(['ip', '-n', ns, '-6', 'addr', 'show', 'dev', 'eth0', 'scope', 'link']);
      return out.includes('inet6 fe80') && !out.includes('tentative');
    }, 5000, 50);
    t.ok(linkLocal, 'eth0 has its link-local address');

    const r = await run(['ip', 'netns', 'exec', ns, process.execPath, ...HAAGENT_NODE_FLAGS, HELPER, 'run', '--iface', 'eth0', '--ping', '::1,ff02::1%eth0', '--count', '50'], 60_000);
    t.equal(r.code, 0, `the helper ran${r.code === 0 ? '' : `: ${r.stderr.trim()}`}`);
    if (r.code !== 0) return;
    const out = JSON.parse(r.stdout) as {
      outcome: { sent: number; errors: string[] };
      sockets: number;
      recvReadyDuringAnnounce: number;
      recvReady: number;
      recvPaused: boolean | null;
      filter: string;
      raw6: { protocol: number; rxQueue: number; drops: number }[];
      icmpIn: number;
      pings: string[];
    };
    t.comment(`pings: ${out.pings.join('; ')}; ICMPv6 messages received by the namespace meanwhile: ${out.icmpIn}`);
    t.same(out.outcome, { sent: 3, errors: [] }, 'the announcement went out: 3 NAs');
    t.equal(out.sockets, 1, 'one raw socket');
    t.ok(out.icmpIn >= 100, `the traffic was there: ${out.icmpIn} ICMPv6 messages came in after the announcement`);
    t.equal(out.recvReadyDuringAnnounce, 0, 'the read watcher never fired during the announcement (its own NAs loop back)');
    t.equal(out.recvReady, 0, 'nor after it: the socket was never woken to read');
    t.equal(out.recvPaused, true, 'its read watcher is paused');
    t.equal(out.filter, 'ff'.repeat(32), 'ICMP6_FILTER reads back as all 256 types blocked');
    t.same(out.raw6.map((x) => x.protocol), [58], "the socket's row in /proc/net/raw6 (protocol 58)");
    t.same(out.raw6.map((x) => [x.rxQueue, x.drops]), [[0, 0]], 'the kernel queued nothing on it and dropped nothing for it');
  } finally {
    const left = await deleteNamespaces([ns]);
    removeMarker(prefix);
    t.same(left, [], 'namespace removed');
  }
});

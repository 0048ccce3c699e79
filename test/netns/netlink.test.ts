/**
 * NetlinkVipHost for real, in one namespace created and deleted here (named like a lab's, so
 * sweep() removes it after a crashed run) with a veth pair: the helper (netlink-vip.ts, run
 * inside the namespace) adds and removes 198.51.100.100/32 and 2001:db8::100/128 (nodad)
 * through the addon, and each address must be exactly what `ip addr add ... [nodad]` makes:
 * the same `ip -json addr show` entry (prefix, scope, flags incl. nodad, no broadcast for the
 * /32). A second add and the del of an absent one are "unchanged", a missing interface is a
 * clean error, nothing goes to the fallback. Times are printed, never asserted (the machine
 * may be busy). Needs root, `npm run build` and the addon built.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { nativeAddonPath } from '../../src/adapters/native.js';
import { HAAGENT_NODE_FLAGS } from './agents/haagent.js';
import { must, run } from './exec.js';
import { distScript, drillSkipReason, REPO_ROOT } from './lab.js';
import { deleteNamespaces, makePrefix, removeMarker, sweep, writeMarker } from './sweep.js';

const HELPER = distScript('netlink-vip');

function skipReason(): string | null {
  const why = drillSkipReason(['adapters/netlink-host', 'adapters/native', 'adapters/arp-frame', 'adapters/ndisc']);
  if (why) return why;
  const src = join(REPO_ROOT, 'test', 'netns', 'netlink-vip.ts');
  if (!existsSync(HELPER) || statSync(src).mtimeMs > statSync(HELPER).mtimeMs) return `${HELPER} is missing or stale: run \`npm run build\``;
  if (!existsSync(nativeAddonPath() ?? '')) return 'the native addon is not built: run `npx node-gyp rebuild`';
  return null;
}

const skip = skipReason();
if (skip) t.plan(0, skip);

type Entry = Record<string, unknown>;

/** The helper inside ns, with the installed agent's node flags (as it would run). */
async function helper(ns: string, args: string[]): Promise<Record<string, unknown>> {
  const r = await run(['ip', 'netns', 'exec', ns, process.execPath, ...HAAGENT_NODE_FLAGS, HELPER, ...args], 30000);
  if (r.code !== 0) throw new Error(`netlink-vip ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

/** eth0's `ip -json addr show` entry for address, or null. */
async function entry(ns: string, address: string): Promise<Entry | null> {
  const [link] = JSON.parse(await must(['ip', '-n', ns, '-json', 'addr', 'show', 'dev', 'eth0'])) as { addr_info: Entry[] }[];
  return link?.addr_info.find((a) => a.local === address) ?? null;
}

const us = (ns: number) => `${Math.round(ns / 1000)} us`;

t.test('NetlinkVipHost adds and removes the VIP exactly as ip does', async (t) => {
  await sweep();
  const prefix = makePrefix();
  const ns = `${prefix}d0`;
  writeMarker(prefix);
  try {
    await must(['ip', 'netns', 'add', ns]);
    await must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    await must(['ip', '-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']);
    await must(['ip', '-n', ns, 'link', 'set', 'eth1', 'up']);
    await must(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);

    const cold: string[] = [];
    for (const [cidr, nodad] of [['198.51.100.100/32', false], ['2001:db8::100/128', true]] as const) {
      const address = cidr.split('/')[0]!;
      const ensure = (op: 'add' | 'del', iface = 'eth0') => helper(ns, ['ensure', '--op', op, '--vip', cidr, '--iface', iface]);

      const added = await ensure('add');
      t.same(added.outcome, { ok: true, changed: true }, `${cidr}: added`);
      t.same([added.fallback, added.reasons], [[], []], `${cidr}: the fallback was not used`);
      cold.push(`${cidr} ${us(added.ns as number)} (constructor and warm-up before it: ${us(added.constructNs as number)})`);
      const ours = await entry(ns, address);
      t.ok(ours, `${cidr} is on eth0`);
      t.same((await ensure('add')).outcome, { ok: true, changed: false }, `${cidr}: a second add is unchanged`);

      t.same((await ensure('del')).outcome, { ok: true, changed: true }, `${cidr}: removed`);
      t.equal(await entry(ns, address), null, `${cidr} is gone`);
      t.same((await ensure('del')).outcome, { ok: true, changed: false }, `${cidr}: the del of an absent one is unchanged`);

      await must(['ip', '-n', ns, 'addr', 'add', cidr, 'dev', 'eth0', ...(nodad ? ['nodad'] : [])]);
      const theirs = await entry(ns, address);
      await must(['ip', '-n', ns, 'addr', 'del', cidr, 'dev', 'eth0']);
      t.same(ours, theirs, `${cidr}: the same address as \`ip addr add ${cidr} dev eth0${nodad ? ' nodad' : ''}\``);
      t.match(ours, { prefixlen: Number(cidr.split('/')[1]), scope: 'global' }, `${cidr}: prefix and scope`);
      if (nodad) t.equal(ours?.nodad, true, `${cidr}: nodad, so never tentative`);
      else t.notOk(ours && 'broadcast' in ours, `${cidr}: no broadcast address`);
      if (nodad) t.notOk(ours?.tentative, `${cidr}: not tentative`);
    }

    const bad = await helper(ns, ['ensure', '--op', 'add', '--vip', '198.51.100.100/32', '--iface', 'nosuch0']);
    t.same(bad.outcome, { ok: false, error: 'netlink: add 198.51.100.100/32 dev nosuch0: no such device (ENODEV)' }, 'a missing interface is a clean error');
    t.same(bad.fallback, [], '... not handed to ip');

    const timed = await helper(ns, ['time', '--vip', '198.51.100.100/32', '--count', '50']);
    t.same([timed.failures, timed.fallback], [[], []], '50 adds and dels, all through netlink');
    const warm = [...(timed.ns as number[])].sort((a, b) => a - b);
    const pick = (q: number) => warm[Math.min(warm.length - 1, Math.floor(q * warm.length))]!;
    t.comment(`one add, the first in a fresh process (ifIndex + RTM_NEWADDR + ACK): ${cold.join('; ')}`);
    t.comment(`one add, ${warm.length} in one process: median ${us(pick(0.5))}, p99 ${us(pick(0.99))}, max ${us(warm[warm.length - 1]!)}`);

    const addon = await helper(ns, ['addon']);
    const ENODEV = 19;
    t.same(addon.answers, { add4: ENODEV, add6: ENODEV, del4: ENODEV, del6: ENODEV }, 'an absent interface index: ENODEV from the kernel, returned');
    t.equal(addon.opened, 1, 'one socket opened');
    t.equal(addon.openedAfter500, 1, '500 requests later still that one socket');
    t.same(addon.socket, { cloexec: true, protocol: 0, groups: '00000000' }, 'NETLINK_ROUTE, close-on-exec, no multicast group');
    t.same([addon.fuzzFailed, addon.unexpected], [false, []], 'arbitrary arguments: a TypeError or the kernel answer, never a crash');
  } finally {
    const left = await deleteNamespaces([ns]);
    removeMarker(prefix);
    t.same(left, [], 'namespace removed');
  }
});

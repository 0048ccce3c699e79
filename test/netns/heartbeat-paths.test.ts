/**
 * The heartbeat paths that are not the lab's default (unicast over IPv4), each with real agents:
 * multicast over IPv4, multicast over IPv6 and unicast over IPv6. For each, two directors elect
 * one active (d0, the higher priority), the heartbeats on the wire go where the configuration
 * says (captured on the lab switch), and a crash (SIGKILL) of d0 moves the VIP to d1, whose
 * gratuitous ARP moves the client. One lab serves the three: each cluster is stopped and its
 * VIP released before the next starts. Needs root and `npm run build`.
 */
import t, { type Test } from 'tap';
import { delVip } from './agents/common.js';
import { HaagentCluster, haagentAvailable, type HaagentOptions } from './agents/haagent.js';
import { waitFor } from './exec.js';
import { Lab, VIP, type LabHost } from './lab.js';
import { waitGroup, waitSoleActive } from '../fixtures/security/drill.js';
import { fastStatus } from '../fixtures/security/watch.js';

if (process.getuid?.() !== 0) t.plan(0, 'network namespaces need root');
else if (!(await haagentAvailable())) t.plan(0, 'dist/src/main.js run is not available: run `npm run build`');

/** Administratively scoped (RFC 2365): a group no router forwards. */
const GROUP4 = '239.255.6.94';
/**
 * Link-local scope, as VRRP's ff02::12: the kernel binds and joins such a group only on a
 * named interface, which the agent takes from heartbeat.bind (the interface holding it).
 */
const GROUP6 = 'ff02::6:94';
const TIMING: HaagentOptions = { interval: '50ms', deadTime: '150ms', initDead: '300ms' };

/** One heartbeat as tcpdump -n prints it: source, destination (addresses and ports). */
interface Sent {
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
}

const LINE = /\bIP6? (\S+)\.(\d+) > (\S+)\.(\d+): UDP/;

function heartbeatsIn(lines: readonly string[]): Sent[] {
  const out: Sent[] = [];
  for (const l of lines) {
    const m = LINE.exec(l);
    if (m) out.push({ src: m[1]!, srcPort: Number(m[2]), dst: m[3]!, dstPort: Number(m[4]) });
  }
  return out;
}

interface Path {
  label: string;
  opts: HaagentOptions;
  /** the address each director's heartbeats must go to, by its source address. */
  expectTo: (lab: Lab, from: string) => string;
  /** the address d1 must report d0's heartbeats from. */
  d0Address: (lab: Lab) => string;
}

/**
 * Elects, checks the wire and d1's view of d0, crashes d0, checks the takeover; leaves the
 * lab as it found it (no agent running, no VIP on any director).
 */
async function electAndCrash(t: Test, lab: Lab, path: Path): Promise<void> {
  const cluster = new HaagentCluster(lab, { ...TIMING, ...path.opts });
  const [d0, d1] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]];
  const capture = await lab.startCapture('sw', 'udp port 694', { iface: 'br0' });
  try {
    cluster.startAll();
    t.ok(await waitSoleActive(lab, cluster.nodes, 'd0', 10_000), `${path.label}: d0 is the only active node and the only VIP holder`, { log: d0.logTail() });
    t.ok(await waitGroup(d1, (s) => s === 'standby', 5000), `${path.label}: d1 standby`, { log: d1.logTail() });
    const d0Seen = async () => (await fastStatus(d1))?.peers.find((p) => p.node === 'd0' && p.alive);
    const peer = await waitFor(d0Seen, 3000, 50);
    t.ok(peer, `${path.label}: d1 hears d0`);
    t.equal(peer?.address, path.d0Address(lab), `${path.label}: from d0's address ${path.d0Address(lab)}`);

    const srcOf = (d: LabHost): string => (path.opts.ipv6Heartbeats ? d.ip6 : d.ip);
    const bySrc = (d: LabHost): Sent[] => heartbeatsIn(capture.lines).filter((s) => s.src === srcOf(d));
    // Several from each: d1 may have started well after d0 on a loaded machine.
    await waitFor(() => lab.directors.every((d) => bySrc(d).length >= 5), 5000, 50);
    for (const d of lab.directors) {
      const mine = bySrc(d);
      const want = path.expectTo(lab, srcOf(d));
      t.ok(mine.length >= 5, `${path.label}: ${d.name}'s heartbeats on the wire (${mine.length})`);
      t.same(mine.filter((s) => s.dst !== want || s.dstPort !== 694 || s.srcPort !== 694), [], `${path.label}: every one from ${srcOf(d)} port 694 to ${want} port 694`);
    }

    const ping = await waitFor(async () => (await lab.exec(lab.client, ['ping', '-c', '1', '-W', '1', VIP], 3000)).code === 0, 5000, 100);
    t.ok(ping, `${path.label}: the client reaches the VIP on d0`);
    const onD0 = await waitFor(async () => (await lab.neighMac(lab.client, VIP)) === lab.directors[0]!.mac, 3000, 20);
    t.ok(onD0, `${path.label}: the client's entry names d0`);

    await d0.kill();
    t.ok(await waitGroup(d1, (s, v) => s === 'active' && v === true, 5000), `${path.label}: d0 crashed: d1 active with the VIP`, { log: d1.logTail() });
    t.ok(await d1.vipPresent(), `${path.label}: the VIP is on d1's eth0`);
    const moved = await waitFor(async () => (await lab.neighMac(lab.client, VIP)) === lab.directors[1]!.mac, 3000, 20);
    t.ok(moved, `${path.label}: the client's entry moved to d1`);
  } finally {
    await capture.stop();
    await cluster.stopAll();
    // The VIP the killed agent left behind (the unit's ExecStopPost would run `haagent release`).
    await delVip(lab.directors[0]!);
    cluster.cleanup();
  }
  t.notOk(await lab.hasAddress(lab.directors[0]!) || (await lab.hasAddress(lab.directors[1]!)), `${path.label}: no VIP left on either director`);
}

const PATHS: Path[] = [
  {
    label: 'multicast IPv4',
    // bind is each director's own address, which is also how the agent picks the interface
    // the group is joined on and sent from (IP_MULTICAST_IF): eth0 here.
    opts: { multicast: GROUP4, peers: [[], []] },
    expectTo: () => GROUP4,
    d0Address: (lab) => lab.directors[0]!.ip,
  },
  {
    label: 'multicast IPv6',
    opts: { multicast: GROUP6, ipv6Heartbeats: true, peers: [[], []] },
    expectTo: () => GROUP6,
    d0Address: (lab) => lab.directors[0]!.ip6,
  },
  {
    label: 'unicast IPv6',
    opts: { ipv6Heartbeats: true },
    expectTo: (lab, from) => lab.directors.find((d) => d.ip6 !== from)!.ip6,
    d0Address: (lab) => lab.directors[0]!.ip6,
  },
];

t.test('heartbeats over multicast (IPv4, IPv6) and unicast IPv6: election and crash failover', async (t) => {
  const lab = await Lab.create({ directors: 2 });
  try {
    await lab.addIpv6();
    for (const path of PATHS) await t.test(path.label, (t) => electAndCrash(t, lab, path));
  } finally {
    t.same(await lab.destroy(), { leftNamespaces: [], leftPids: [] }, 'lab torn down');
  }
});

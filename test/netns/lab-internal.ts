/**
 * The lab's optional internal segment (Lab.create({ internal })): a second switch namespace
 * (`sw1`, its own bridge) joining every director's eth1 and the internal hosts n0, n1, ...,
 * as behind an LVS-NAT director pair. Directors forward (net.ipv4.ip_forward=1, set inside
 * their namespaces only); each internal host's default route is the gateway VIP, which only
 * the active director holds.
 *
 * Addresses (203.0.113.0/24): director i's eth1 .10+i (MAC 02:00:00:00:01:1i), internal host
 * i .20+i (02:00:00:00:01:2i) on its eth0; the gateway VIP is .1/24.
 */
import type { LabHost } from './lab.js';
import { must, run, waitFor } from './exec.js';

export const GATEWAY_VIP = '203.0.113.1';
export const GATEWAY_CIDR = `${GATEWAY_VIP}/24`;

export interface InternalOptions {
  /** internal hosts (real servers) behind the directors, named n0, n1, ... */
  realServers: number;
}

/** A director's side of the internal segment. */
export interface InternalPort {
  ip: string;
  mac: string;
}

export interface InternalSegment {
  switchNs: string;
  hosts: LabHost[];
  /** per director index: its eth1. */
  ports: InternalPort[];
}

const mac = (last: number) => `02:00:00:00:01:${last.toString(16).padStart(2, '0')}`;

/** The segment's names and addresses (nothing created yet). */
export function internalSegment(prefix: string, directors: number, opts: InternalOptions): InternalSegment {
  return {
    switchNs: `${prefix}sw1`,
    hosts: Array.from({ length: opts.realServers }, (_, i) => ({ name: `n${i}`, ns: `${prefix}n${i}`, ip: `203.0.113.${20 + i}`, ip6: '', mac: mac(0x20 + i), role: 'internal' as const })),
    ports: Array.from({ length: directors }, (_, i) => ({ ip: `203.0.113.${10 + i}`, mac: mac(0x10 + i) })),
  };
}

/** One veth from ns (named dev there) to the segment's bridge; addressed and up. */
async function plug(seg: InternalSegment, ns: string, dev: string, port: string, ip: string, m: string): Promise<void> {
  await must(['ip', '-n', ns, 'link', 'add', dev, 'address', m, 'type', 'veth', 'peer', 'name', port, 'netns', seg.switchNs]);
  await must(['ip', '-n', seg.switchNs, 'link', 'set', port, 'master', 'br0']);
  await must(['ip', '-n', seg.switchNs, 'link', 'set', port, 'up']);
  await must(['ip', '-n', ns, 'addr', 'add', `${ip}/24`, 'dev', dev]);
  await must(['ip', '-n', ns, 'link', 'set', dev, 'up']);
}

/** Wires the segment into namespaces that already exist (the lab created them all). */
export async function buildInternal(seg: InternalSegment, directors: readonly LabHost[]): Promise<void> {
  await must(['ip', '-n', seg.switchNs, 'link', 'set', 'lo', 'up']);
  await must(['ip', '-n', seg.switchNs, 'link', 'add', 'br0', 'type', 'bridge']);
  await must(['ip', '-n', seg.switchNs, 'link', 'set', 'br0', 'up']);
  for (const [i, d] of directors.entries()) {
    const p = seg.ports[i]!;
    await plug(seg, d.ns, 'eth1', `i-${d.name}`, p.ip, p.mac);
    // Forwarding in the director's own namespace: the root namespace is never touched.
    await must(['ip', 'netns', 'exec', d.ns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  }
  for (const h of seg.hosts) {
    await must(['ip', '-n', h.ns, 'link', 'set', 'lo', 'up']);
    await plug(seg, h.ns, 'eth0', `i-${h.name}`, h.ip, h.mac);
    // On-link: the gateway is in the host's own subnet, held by whichever director is active.
    await must(['ip', '-n', h.ns, 'route', 'add', 'default', 'via', GATEWAY_VIP, 'dev', 'eth0']);
  }
  const links = [...directors.map((d) => [d.ns, 'eth1'] as const), ...seg.hosts.map((h) => [h.ns, 'eth0'] as const)];
  for (const [ns, dev] of links) {
    const up = await waitFor(async () => (await run(['ip', '-n', ns, 'link', 'show', dev])).stdout.includes('state UP'), 3000, 20);
    if (!up) throw new Error(`${dev} in ${ns} did not come up`);
  }
}

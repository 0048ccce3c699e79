/**
 * FRR (8.x) in the BGP lab: the per-daemon configurations of an upstream router (bgpd with
 * maximum-paths, BFD through bfdd) and of a director (bgpd redistributing the connected /32s
 * of the VIP range), and a starter that runs zebra, bgpd and bfdd inside one namespace with
 * every socket, pid file and log under the lab's temp dir. docs/bgp.md shows the same text.
 */
import { chmodSync, chownSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BgpLab } from './bgp-lab.js';
import { DIRECTOR_AS, ROUTER_AS, VIP_RANGE, type BfdTiming } from './bgp-conf.js';
import { must, waitFor, type CommandResult } from './exec.js';
import type { LabHost } from './lab.js';

export const FRR_DIR = '/usr/lib/frr';
export const VTYSH = '/usr/bin/vtysh';

/** Only /32s inside the VIP range, in and out; everything else is denied. */
const FILTERS = [
  `ip prefix-list VIPS seq 10 permit ${VIP_RANGE} ge 32 le 32`,
  'route-map VIPS permit 10',
  ' match ip address prefix-list VIPS',
  // Redistributed routes are origin incomplete, BIRD's direct routes IGP: a router only
  // spreads over paths that tie on origin, so every director must announce the same one.
  ' set origin igp',
  'exit',
  'route-map NOTHING deny 10',
  'exit',
];

const NEIGHBOR_TIMERS = (n: string, bfd: boolean): string[] => [
  ` neighbor ${n} timers 1 3`,
  ` neighbor ${n} timers connect 1`,
  ` neighbor ${n} advertisement-interval 0`,
  ...(bfd ? [` neighbor ${n} bfd`, ` neighbor ${n} bfd profile lab`] : []),
];

/** bfdd's configuration: the `lab` profile the BGP neighbours name. */
export function frrBfdd(t: BfdTiming): string {
  return ['bfd', ' profile lab', `  receive-interval ${t.intervalMs}`, `  transmit-interval ${t.intervalMs}`, `  detect-multiplier ${t.multiplier}`, ' exit', 'exit', ''].join('\n');
}

/** The router's bgpd: a peer group of directors, multipath over all of them. */
export function frrRouterBgpd(o: { routerId: string; neighbors: readonly string[]; bfd: boolean }): string {
  return [
    ...FILTERS,
    `router bgp ${ROUTER_AS}`,
    ` bgp router-id ${o.routerId}`,
    ' neighbor DIRECTORS peer-group',
    ` neighbor DIRECTORS remote-as ${DIRECTOR_AS}`,
    ...NEIGHBOR_TIMERS('DIRECTORS', o.bfd),
    ...o.neighbors.map((n) => ` neighbor ${n} peer-group DIRECTORS`),
    ' address-family ipv4 unicast',
    '  maximum-paths 8',
    '  neighbor DIRECTORS route-map VIPS in',
    '  neighbor DIRECTORS route-map NOTHING out',
    ' exit-address-family',
    'exit',
    '',
  ].join('\n');
}

/** A director's bgpd: the connected /32s of the VIP range (haagent's device) go up, nothing comes in. */
export function frrDirectorBgpd(o: { routerId: string; neighbor: string; bfd: boolean }): string {
  return [
    ...FILTERS,
    `router bgp ${DIRECTOR_AS}`,
    ` bgp router-id ${o.routerId}`,
    ` neighbor ${o.neighbor} remote-as ${ROUTER_AS}`,
    ...NEIGHBOR_TIMERS(o.neighbor, o.bfd),
    ' address-family ipv4 unicast',
    '  redistribute connected route-map VIPS',
    `  neighbor ${o.neighbor} route-map VIPS out`,
    `  neighbor ${o.neighbor} route-map NOTHING in`,
    ' exit-address-family',
    'exit',
    '',
  ].join('\n');
}

export interface Frr {
  host: LabHost;
  /** the directory vtysh is pointed at (--vty_socket). */
  vtyDir: string;
}

/** zebra, then bgpd and bfdd, in host's namespace; resolves once vtysh answers for all three. */
export async function startFrr(bgp: BgpLab, host: LabHost, confs: { bgpd: string; bfdd?: string }): Promise<Frr> {
  const dir = bgp.dirOf(host, 'frr');
  // FRR drops to its own user (with the vty group it was built with): it must reach its files.
  const [uid, gid] = await Promise.all(['-u', '-g'].map(async (f) => Number((await must(['id', f, 'frr'])).trim())));
  chmodSync(bgp.lab.dir, 0o711);
  const zserv = join(dir, 'zserv.api');
  const common = (d: string): string[] => [
    '-f', join(dir, `${d}.conf`), '-i', join(dir, `${d}.pid`), '--vty_socket', dir, '-z', zserv,
    '-P', '0', '--log', `file:${join(dir, `${d}.log`)}`,
  ];
  const daemons: [string, string, string[]][] = [
    ['zebra', 'hostname zebra\n', []],
    ['bgpd', confs.bgpd, []],
    ...(confs.bfdd ? [['bfdd', confs.bfdd, ['--bfdctl', join(dir, 'bfdd.sock')]] as [string, string, string[]]] : []),
  ];
  for (const [d, conf, extra] of daemons) {
    writeFileSync(join(dir, `${d}.conf`), conf, { mode: 0o600 });
    chownSync(join(dir, `${d}.conf`), uid!, gid!);
    chownSync(dir, uid!, gid!);
    const proc = bgp.spawn(host, [join(FRR_DIR, d), ...common(d), ...extra], join(dir, `${d}.out`));
    const up = await waitFor(() => !proc.alive() || existsSync(join(dir, `${d}.vty`)), 5000, 50);
    if (!up || !proc.alive()) throw new Error(`${d} in ${host.ns} did not start (see ${dir})`);
  }
  return { host, vtyDir: dir };
}

/** vtysh -c CMD... against the lab's FRR of host. */
export function vtysh(bgp: BgpLab, frr: Frr, cmds: readonly string[]): Promise<CommandResult> {
  return bgp.lab.exec(frr.host, [VTYSH, '--vty_socket', frr.vtyDir, ...cmds.flatMap((c) => ['-c', c])], 5000);
}

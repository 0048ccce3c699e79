/**
 * `mode: bgp` groups: the `bgp:` mapping (style, device, the daemon readback, its poll), its
 * cross-field rules and its resolution. The VIPs of such a group are host routes on a device
 * the director's routing daemon (BIRD or FRR) exports from, so that the route is announced
 * exactly while haagent holds the VIP; nothing here speaks BGP.
 */
import { z } from 'zod';
import { DEFAULTS } from './defaults.js';
import { formatDuration } from './duration.js';
import { NAME_RE, durationIn, parseIfname } from './fields.js';
import { rawGroupVips } from './group-vips.js';
import { LIMITS } from './limits.js';
import type { PathKey } from './locate.js';
import { leaf } from './zod-leaf.js';
import type { BgpConfig, BgpDaemonConfig } from './types.js';

const PATH_EXPECT = 'an absolute path (starting with "/")';
const absPath = () => z.string({ error: PATH_EXPECT }).refine((s) => s.startsWith('/') && !s.includes('\0'), { error: PATH_EXPECT });


const PROTOCOL_EXPECT = 'the name of the BIRD protocol that speaks BGP to the router (e.g. upstream)';

const birdSchema = z.strictObject(
  {
    kind: z.literal('bird'),
    socket: absPath().optional(),
    protocol: z.string({ error: PROTOCOL_EXPECT }).regex(NAME_RE, { error: PROTOCOL_EXPECT }),
    birdc: absPath().optional(),
  },
  { error: 'a mapping with the keys kind, socket, protocol, birdc' },
);

const frrSchema = z.strictObject(
  { kind: z.literal('frr'), vtysh: absPath().optional(), socketDir: absPath().optional() },
  { error: 'a mapping with the keys kind, vtysh, socketDir' },
);

const DAEMON_EXPECT = 'a daemon to read back from: { kind: bird, socket: PATH, protocol: NAME } or { kind: frr }';

export const bgpSchema = z.strictObject(
  {
    style: z.enum(['active-standby', 'ecmp'], { error: 'one of active-standby, ecmp' }).optional(),
    device: leaf(parseIfname).optional(),
    daemon: z.discriminatedUnion('kind', [birdSchema, frrSchema], { error: (i) => (i.code === 'invalid_union' ? 'one of bird, frr' : DAEMON_EXPECT) }).optional(),
    poll: leaf(durationIn(LIMITS.bgpPoll.min, LIMITS.bgpPoll.max)).optional(),
  },
  { error: 'a mapping with the keys style, device, daemon, poll' },
);

export type RawBgp = z.output<typeof bgpSchema>;

type Obj = Record<string, unknown>;
const asObj = (v: unknown): Obj | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined);

export interface BgpIssue {
  path: PathKey[];
  expected: string;
  showValue?: boolean;
}

/**
 * The rules of one raw group: the `bgp` mapping only with `mode: bgp`; in a bgp group every
 * VIP a host route (/32 or /128: the daemon exports it as written, and a shorter prefix would
 * announce a whole subnet), none on an interface of its own (all go on the device), no `garp`
 * (nothing is announced by ARP), a device that is neither the group's interface nor tracked
 * (haagent creates and owns it). The ecmp style's sync rule is in sync.ts.
 */
export function checkBgp(g: Obj, i: number, out: BgpIssue[]): void {
  const at = (...rest: PathKey[]): PathKey[] => ['groups', i, ...rest];
  if (g.mode !== 'bgp') {
    if (g.bgp !== undefined) out.push({ path: at('bgp'), expected: 'no bgp mapping unless the group has mode: bgp' });
    return;
  }
  for (const v of rawGroupVips(g, i)) {
    const host = v.vip.family === 4 ? 32 : 128;
    if (v.vip.prefix !== host) out.push({ path: v.path, expected: `a host route (/${host}) in a bgp group: the routing daemon announces the prefix as it is on the device, and a shorter one would announce the whole subnet` });
    else if (v.iface !== undefined) out.push({ path: [...v.path, 'interface'], expected: 'no interface of its own in a bgp group: every VIP goes on bgp.device' });
  }
  if (g.garp !== undefined) out.push({ path: at('garp'), expected: 'no garp mapping in a bgp group: the routing daemon announces the VIPs, nothing is sent by ARP' });
  const bgp = asObj(g.bgp);
  const device = bgp?.device === undefined ? DEFAULTS.bgp.device : parseIfname(bgp.device).ok ? (bgp.device as string) : undefined;
  const devicePath = bgp?.device === undefined ? at('interface') : at('bgp', 'device');
  if (device !== undefined && device === g.interface) {
    out.push({ path: devicePath, expected: `a bgp.device other than the group's interface (${device}): haagent creates the device and owns every address on it` });
  }
  if (device !== undefined && Array.isArray(g.trackInterfaces)) {
    const j = g.trackInterfaces.indexOf(device);
    if (j >= 0) out.push({ path: at('trackInterfaces', j), expected: `an interface other than bgp.device (${device}): haagent creates it, so tracking it says nothing about the path to the router` });
  }
}

/** The devices of every bgp group: two groups may share one (each owns its own VIPs on it). */
export function bgpDevices(groups: readonly { mode?: string; bgp?: BgpConfig }[]): string[] {
  return [...new Set(groups.flatMap((g) => (g.mode === 'bgp' && g.bgp ? [g.bgp.device] : [])))];
}

/** The effective `bgp` of a validated bgp group. */
export function resolveBgp(raw: RawBgp | undefined): BgpConfig {
  const d = raw?.daemon;
  let daemon: BgpDaemonConfig | null = null;
  if (d?.kind === 'bird') daemon = { kind: 'bird', birdc: d.birdc ?? DEFAULTS.bgp.birdc, socket: d.socket ?? DEFAULTS.bgp.birdSocket, protocol: d.protocol };
  else if (d?.kind === 'frr') daemon = { kind: 'frr', vtysh: d.vtysh ?? DEFAULTS.bgp.vtysh, socketDir: d.socketDir ?? null };
  return { style: raw?.style ?? DEFAULTS.bgp.style, device: raw?.device ?? DEFAULTS.bgp.device, daemon, poll: raw?.poll ?? DEFAULTS.bgp.poll };
}

/** The `bgp` mapping as the file would write it (render.ts). */
export function renderBgp(b: BgpConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { style: b.style, device: b.device };
  if (b.daemon?.kind === 'bird') out.daemon = { kind: 'bird', socket: b.daemon.socket, protocol: b.daemon.protocol, birdc: b.daemon.birdc };
  else if (b.daemon?.kind === 'frr') out.daemon = { kind: 'frr', vtysh: b.daemon.vtysh, ...(b.daemon.socketDir === null ? {} : { socketDir: b.daemon.socketDir }) };
  out.poll = formatDuration(b.poll);
  return out;
}

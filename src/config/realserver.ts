/**
 * The `realserver` section: the LVS direct-routing real-server role run by the agent
 * (docs/direct-routing.md), and what it changes about the rest of the file. A file with
 * groups is a director's and needs cluster and heartbeat, as always; a file with only a
 * realserver section is a real server's, and a real server is not a director: no cluster,
 * no heartbeat, no key. Leaf parsers, cross-field rules, resolution and rendering of the
 * section live here so that the shared config files only call in.
 */
import { vipCidr } from './vip.js';
import { parseRealServerVip } from '../realserver/vip.js';
import { formatDuration } from './duration.js';
import { DEFAULTS } from './defaults.js';
import { EXPECT, parseIfname, parseIp, unusableVip, type Parsed } from './fields.js';
import { rawGroupVips } from './group-vips.js';
import type { PathKey } from './locate.js';
import type { RealServerConfig, Millis, Vip } from './types.js';

export const RS_EXPECT = {
  vip: 'an IPv4 address (/32) or IPv6 address (/128) to hold on lo (e.g. 198.51.100.100 or 2001:db8::100)',
  vips: 'a list of at least one VIP (e.g. [198.51.100.100, 2001:db8::100])',
  interface: `the interface the VIP traffic arrives on (e.g. eth0), not lo: ${EXPECT.ifname}`,
} as const;

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const no = <T>(expected: string): Parsed<T> => ({ ok: false, expected });

/**
 * A real-server VIP: the rules of `haagent realserver --vip` (src/realserver/vip.ts: host
 * prefix only, because a shorter prefix on lo makes the whole subnet local), plus the
 * addresses no director VIP may be either (multicast, loopback...) and no zone id.
 */
export function parseRealServerVipField(v: unknown): Parsed<Vip> {
  if (typeof v !== 'string' || v.includes('%')) return no(RS_EXPECT.vip);
  const r = parseRealServerVip(v);
  if (!r.ok) {
    // A valid address with the wrong prefix deserves the reason; anything else is just not a VIP.
    const ip = parseIp(v.split('/')[0]);
    if (!ip.ok) return no(RS_EXPECT.vip);
    const host = ip.value.family === 4 ? 32 : 128;
    return no(`${RS_EXPECT.vip}; a real server holds the VIP on lo as /${host} only (a shorter prefix makes the whole subnet local)`);
  }
  const bad = unusableVip({ address: r.vip.address, family: r.vip.family });
  return bad === null ? ok(r.vip) : no(`${RS_EXPECT.vip}; ${bad}`);
}

/** Like `--interface`: where the VIP traffic arrives, so never lo (the VIP sits there). */
export function parseRealServerIfname(v: unknown): Parsed<string> {
  const r = parseIfname(v);
  return r.ok && r.value !== 'lo' ? r : no(RS_EXPECT.interface);
}

type Obj = Record<string, unknown>;

export interface RoleIssue {
  path: PathKey[];
  expected: string;
  showValue?: boolean;
}

const asObj = (v: unknown): Obj | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;

/** Top-level keys that only mean something on a director. */
const DIRECTOR_ONLY = ['cluster', 'heartbeat', 'quorum', 'notify', 'notifyTimeout', 'metrics', 'realtime'] as const;

/**
 * Which parts are required: with groups (a director) cluster and heartbeat; with neither
 * groups nor realserver, the director parts (the common case: a director's file missing
 * something); with only realserver, none, and a director-only key is refused rather than
 * silently ignored (the operator may have meant this host to be a director too).
 */
export function checkRoles(root: Obj, out: RoleIssue[]): void {
  const director = root.groups !== undefined;
  const realServer = root.realserver !== undefined;
  if (!director && realServer) {
    for (const key of DIRECTOR_ONLY) {
      if (root[key] !== undefined) {
        out.push({ path: [key], expected: `no ${key} without groups: a file with only a realserver section runs the real-server role, not a director` });
      }
    }
    return;
  }
  const why = director ? 'required with groups' : 'required on a director; a real server has a realserver section instead';
  if (root.cluster === undefined) out.push({ path: ['cluster'], expected: `${EXPECT.name} (${why})` });
  if (root.heartbeat === undefined) out.push({ path: ['heartbeat'], expected: `a heartbeat mapping with peers or multicast (${why})` });
  if (!director) out.push({ path: ['groups'], expected: 'a list of at least one group (on a director), or a realserver section (on a real server)' });
}

/** Each VIP once, and none that a group of this file holds on an interface. */
export function checkRealServer(root: Obj, out: RoleIssue[]): void {
  const rs = asObj(root.realserver);
  if (!rs || !Array.isArray(rs.vips)) return;
  const groupVips = new Map<string, number>();
  if (Array.isArray(root.groups)) {
    root.groups.forEach((g, i) => {
      for (const { vip } of rawGroupVips(g, i)) if (!groupVips.has(vip.address)) groupVips.set(vip.address, i);
    });
  }
  const seen = new Map<string, number>();
  rs.vips.forEach((raw, j) => {
    const vip = parseRealServerVipField(raw);
    if (!vip.ok) return;
    const path = ['realserver', 'vips', j];
    const first = seen.get(vip.value.address);
    const group = groupVips.get(vip.value.address);
    if (first !== undefined) out.push({ path, expected: `a VIP not already listed (same as realserver.vips[${first}])` });
    else if (group !== undefined) {
      out.push({ path, expected: `a VIP no group has (groups[${group}] has ${vip.value.address}): an active director holds it on its interface, where the real-server role would flag it` });
    }
    if (first === undefined) seen.set(vip.value.address, j);
  });
}

/** The shape the schema yields for the section (schema.ts realserverSchema). */
export interface RawRealServer {
  vips: Vip[];
  interface?: string | undefined;
  stateFile?: string | undefined;
  recheck?: Millis | undefined;
  undoOnStop?: boolean | undefined;
}

export function resolveRealServer(raw: RawRealServer | undefined, stateDir: string): RealServerConfig | null {
  if (raw === undefined) return null;
  const d = DEFAULTS.realserver;
  return {
    vips: raw.vips,
    interface: raw.interface ?? null,
    // Joined by hand: stateDir is absolute and validated, and node:path would normalise "..".
    stateFile: raw.stateFile ?? `${stateDir.replace(/\/+$/, '')}/${d.stateFileName}`,
    recheck: raw.recheck ?? d.recheck,
    undoOnStop: raw.undoOnStop ?? d.undoOnStop,
  };
}

/** The section as the file writes it, every default filled in. */
export function renderRealServer(rs: RealServerConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { vips: rs.vips.map(vipCidr) };
  if (rs.interface !== null) out.interface = rs.interface;
  return Object.assign(out, { stateFile: rs.stateFile, recheck: formatDuration(rs.recheck), undoOnStop: rs.undoOnStop });
}

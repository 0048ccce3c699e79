/**
 * A group's VIPs as the file writes them: `vip: ADDR[/PREFIX]` (one VIP, on the group's
 * interface) or `vips:`, a list whose entries are `ADDR[/PREFIX]` (on the group's interface)
 * or `{ address: ADDR[/PREFIX], interface: IF }` (on another interface: a NAT director's
 * gateway address on the internal side). Exactly one of the two keys. The leaf parser, the
 * cross-field rules, the lenient reading `haagent release` makes of a broken file and the
 * resolution live here, so the shared config files only call in.
 */
import { EXPECT, parseIfname, parseVip, type Parsed } from './fields.js';
import { LIMITS } from './limits.js';
import type { PathKey } from './locate.js';
import type { Vip, VipPlacement } from './types.js';

export const VIPS_EXPECT = {
  entry: 'a VIP: an address with optional /prefix (e.g. 203.0.113.1/24), or { address: ADDRESS[/PREFIX], interface: IF } for a VIP on another interface than the group\'s',
  list: `a list of 1 to ${LIMITS.groupVips.max} VIPs (e.g. [198.51.100.100, { address: 203.0.113.1/24, interface: eth1 }])`,
} as const;

/** One entry of `vips:`; `iface` undefined: the group's interface. */
export interface VipEntry {
  vip: Vip;
  iface: string | undefined;
}

type Obj = Record<string, unknown>;

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const no = <T>(expected: string): Parsed<T> => ({ ok: false, expected });
const asObj = (v: unknown): Obj | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined);

/** `ADDR[/PREFIX]`, or the mapping `{ address, interface }` (interface optional). */
export function parseVipEntry(v: unknown): Parsed<VipEntry> {
  if (typeof v === 'string') {
    const r = parseVip(v);
    return r.ok ? ok({ vip: r.value, iface: undefined }) : no(r.expected);
  }
  const o = asObj(v);
  if (!o) return no(VIPS_EXPECT.entry);
  const keys = Object.keys(o);
  if (!keys.includes('address') || keys.some((k) => k !== 'address' && k !== 'interface')) return no(`${VIPS_EXPECT.entry}; the mapping has the keys address and interface`);
  const vip = parseVip(o.address);
  if (!vip.ok) return no(`${VIPS_EXPECT.entry}; address is ${vip.expected}`);
  if (o.interface === undefined) return ok({ vip: vip.value, iface: undefined });
  const iface = parseIfname(o.interface);
  return iface.ok ? ok({ vip: vip.value, iface: iface.value }) : no(`${VIPS_EXPECT.entry}; interface is ${EXPECT.ifname}`);
}

/** A VIP the raw group names, where it was written. */
export interface RawVip extends VipEntry {
  path: PathKey[];
}

/**
 * The VIPs a raw group entry names that read as VIPs (invalid ones are the schema's to
 * report), with their paths: from `vip` or from `vips`, whichever the entry has (both: `vip`).
 * Also what `haagent release` reads from a file that does not validate.
 */
export function rawGroupVips(g: unknown, i: number): RawVip[] {
  const o = asObj(g);
  if (!o) return [];
  if (o.vip !== undefined) {
    const r = parseVip(o.vip);
    return r.ok ? [{ vip: r.value, iface: undefined, path: ['groups', i, 'vip'] }] : [];
  }
  if (!Array.isArray(o.vips)) return [];
  return o.vips.flatMap((e, j) => {
    const r = parseVipEntry(e);
    return r.ok ? [{ ...r.value, path: ['groups', i, 'vips', j] }] : [];
  });
}

export interface VipsIssue {
  path: PathKey[];
  expected: string;
  showValue?: boolean;
}

/**
 * Per group: exactly one of vip and vips; a LevIP group has a single IPv4 /32 VIP on its own
 * interface (it goes on lo, where a shorter prefix would make the whole subnet local:
 * docs/levip.md); a VIP's interface is not listed again in trackInterfaces (it is always
 * tracked). Across the file: an address belongs to one group, once.
 */
export function checkGroupVips(groups: unknown[], out: VipsIssue[]): void {
  const owner = new Map<string, PathKey[]>();
  groups.forEach((raw, i) => {
    const g = asObj(raw);
    if (!g) return;
    if (g.vip !== undefined && g.vips !== undefined) out.push({ path: ['groups', i, 'vips'], expected: 'either vip (one VIP) or vips (a list), not both', showValue: false });
    if (g.vip === undefined && g.vips === undefined) out.push({ path: ['groups', i, 'vip'], expected: `${EXPECT.vip}, or vips: a list of VIPs` });
    const vips = rawGroupVips(g, i);
    if (g.mode === 'levip') checkLevipVips(g, i, vips, out);
    for (const v of vips) {
      // Two places owning one address would fight over it, whatever the prefixes say.
      const first = owner.get(v.vip.address);
      if (first === undefined) owner.set(v.vip.address, v.path);
      else if (first[1] === i) out.push({ path: v.path, expected: `a VIP not already listed in this group (${pathText(first)} has ${v.vip.address})` });
      else out.push({ path: v.path, expected: `a VIP no other group has (groups[${String(first[1])}] has ${v.vip.address})` });
    }
    checkTracked(g, i, vips, out);
  });
}

/** "vips[1]" or "vip": where in its group a VIP was written. */
function pathText(path: readonly PathKey[]): string {
  return path.length === 4 ? `${String(path[2])}[${String(path[3])}]` : String(path[2]);
}

function checkLevipVips(g: Obj, i: number, vips: readonly RawVip[], out: VipsIssue[]): void {
  if (Array.isArray(g.vips) && g.vips.length > 1) {
    out.push({ path: ['groups', i, 'vips'], expected: 'a single VIP in a levip group: every member holds the one shared IP on lo and the rotation announces that address (give each address a group of its own)', showValue: false });
  }
  const first = vips[0];
  if (!first) return;
  if (first.vip.family !== 4 || first.vip.prefix !== 32) {
    out.push({ path: first.path, expected: 'an IPv4 address with prefix /32 in a levip group (it is added to lo; IPv6 LevIP is not designed yet)' });
  }
  if (first.iface !== undefined && first.iface !== g.interface) {
    out.push({ path: [...first.path, 'interface'], expected: 'no interface of its own in a levip group: the shared IP is on lo and announced on the group\'s interface' });
  }
}

function checkTracked(g: Obj, i: number, vips: readonly RawVip[], out: VipsIssue[]): void {
  if (!Array.isArray(g.trackInterfaces)) return;
  const carried = new Map<string, RawVip>();
  for (const v of vips) if (v.iface !== undefined && v.iface !== g.interface && !carried.has(v.iface)) carried.set(v.iface, v);
  g.trackInterfaces.forEach((name, j) => {
    const v = typeof name === 'string' ? carried.get(name) : undefined;
    if (v) out.push({ path: ['groups', i, 'trackInterfaces', j], expected: `an interface no VIP of the group is on (${name} carries ${pathText(v.path)} and is always tracked)` });
  });
}

/** The resolved VIPs of a validated group: `vip` or every `vips` entry, each on its interface. */
export function resolveGroupVips(g: { vip?: Vip | undefined; vips?: VipEntry[] | undefined; interface: string }): VipPlacement[] {
  const entries: VipEntry[] = g.vips ?? (g.vip ? [{ vip: g.vip, iface: undefined }] : []);
  // checkGroupVips refused a group with neither, so this is a bug, not an input.
  if (entries.length === 0) throw new Error('a validated group without a VIP');
  return entries.map((e) => ({ vip: e.vip, iface: e.iface ?? g.interface }));
}

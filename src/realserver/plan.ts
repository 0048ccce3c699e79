/**
 * Pure planning for the LVS direct-routing real-server role. A real server must accept packets
 * sent to the VIP (so the VIP is a local address, on `lo`) yet never answer ARP for it, or it
 * steals the VIP from the director:
 *
 *   arp_ignore=1    answer ARP only for addresses configured on the interface the request
 *                   came in on, so the VIP on lo is never answered on eth0;
 *   arp_announce=2  always use the best local address of the outgoing interface as the source
 *                   of our own ARP requests, never the VIP (which would poison neighbours).
 *
 * The kernel uses the larger of conf/all and conf/<if> for both keys (ip-sysctl.rst), so `all`
 * alone is enough; the interface is set too when named, so the host stays safe if `all` is
 * later lowered by hand. IPv6 needs no sysctl: Linux answers a neighbour solicitation only for
 * an address on the receiving interface (checked in a namespace: a /128 on lo stays unanswered).
 *
 * Ordering is part of the plan: `up` sets the sysctls before it adds a VIP and `down` removes
 * the VIPs before it restores the sysctls, so there is never a moment where the VIP is on lo
 * while the host still answers ARP for it.
 */
import type { Vip } from '../config/types.js';
import { ipv4ConfName } from '../config/sysctl-name.js';
import { sameVip, vipCidr } from '../config/vip.js';

export type ArpKey = 'arp_ignore' | 'arp_announce';

export interface SysctlRef {
  /** `all` or an interface name. */
  iface: string;
  key: ArpKey;
}

export interface SysctlReading extends SysctlRef {
  value: number;
}

/** What is on the host now, as read by apply.ts. */
export interface HostView {
  /** addresses on lo. */
  lo: readonly Vip[];
  /** addresses on the named interface (empty when none was named). */
  iface: readonly Vip[];
  sysctls: readonly SysctlReading[];
}

export interface Wanted {
  vips: readonly Vip[];
  /** the interface the VIP traffic arrives on, or null to set conf/all only. */
  iface: string | null;
}

export type Change =
  | { kind: 'add-vip'; vip: Vip }
  | { kind: 'remove-vip'; vip: Vip }
  | { kind: 'set-sysctl'; iface: string; key: ArpKey; from: number; to: number };

export interface UpPlan {
  /** sysctl changes first, then VIP additions. */
  changes: Change[];
  /** VIPs already on lo before this run: `up` does not own them. */
  present: Vip[];
  /** informational lines (IPv6 needs no sysctl, conf/all only). */
  notes: string[];
  /** things `up` cannot fix but the operator must (VIP also on the Ethernet interface). */
  warnings: string[];
}

/**
 * Values that keep a VIP on lo unanswered: arp_ignore 1 (incoming interface only), 2 (and same
 * subnet) or 8 (never reply) are all at least as strict, so an operator's stricter choice is
 * left alone; 3 only skips scope-host addresses and a VIP on lo is scope global. arp_announce
 * has a single safe value. Both sets are closed under max(), which is how the kernel combines
 * conf/all and conf/<if>, so checking each file alone is enough.
 */
export const SAFE: Readonly<Record<ArpKey, readonly number[]>> = { arp_ignore: [1, 2, 8], arp_announce: [2] };
export const RECOMMENDED: Readonly<Record<ArpKey, number>> = { arp_ignore: 1, arp_announce: 2 };
const KEYS: readonly ArpKey[] = ['arp_ignore', 'arp_announce'];

export const IPV6_NOTE = 'IPv6 VIPs need no ARP sysctls: Linux answers neighbour solicitations only for addresses on the receiving interface';
export const ALL_ONLY_NOTE = 'no --interface: conf/all only (enough: the kernel uses the larger of conf/all and conf/<if>)';

/** The sysctl files that matter for these VIPs on this interface; none when every VIP is IPv6. */
export function wantedSysctls(w: Wanted): SysctlRef[] {
  if (!w.vips.some((v) => v.family === 4)) return [];
  const scopes = w.iface === null || w.iface === 'all' ? ['all'] : ['all', w.iface];
  return scopes.flatMap((iface) => KEYS.map((key) => ({ iface, key })));
}

export function isSafe(key: ArpKey, value: number): boolean {
  return SAFE[key].includes(value);
}

function reading(view: HostView, ref: SysctlRef): number | undefined {
  return view.sysctls.find((s) => s.iface === ref.iface && s.key === ref.key)?.value;
}

/** The VIPs in first-seen order, each once (`--vip X --vip X` is one VIP). */
export function uniqueVips(vips: readonly Vip[]): Vip[] {
  return vips.filter((v, i) => vips.findIndex((u) => sameVip(u, v)) === i);
}

function holds(addrs: readonly Vip[], vip: Vip): boolean {
  return addrs.some((a) => sameVip(a, vip));
}

/** Addresses equal to the VIP whatever their prefix: on the Ethernet interface they answer ARP. */
function onIface(view: HostView, vip: Vip): boolean {
  return view.iface.some((a) => a.family === vip.family && a.address.toLowerCase() === vip.address.toLowerCase());
}

function notesFor(w: Wanted): string[] {
  const notes: string[] = [];
  if (w.vips.some((v) => v.family === 6)) notes.push(IPV6_NOTE);
  if (w.iface === null && w.vips.some((v) => v.family === 4)) notes.push(ALL_ONLY_NOTE);
  return notes;
}

/** `up`: what to change so that every wanted VIP is on lo and no interface answers ARP for it. */
export function planUp(w: Wanted, view: HostView): UpPlan {
  const changes: Change[] = [];
  for (const ref of wantedSysctls(w)) {
    const from = reading(view, ref);
    if (from === undefined) throw new Error(`planUp: no reading for ${ipv4ConfName(ref.iface, ref.key)}`);
    if (!isSafe(ref.key, from)) changes.push({ kind: 'set-sysctl', ...ref, from, to: RECOMMENDED[ref.key] });
  }
  const present: Vip[] = [];
  for (const vip of uniqueVips(w.vips)) {
    if (holds(view.lo, vip)) present.push(vip);
    else changes.push({ kind: 'add-vip', vip });
  }
  const warnings = w.vips.filter((v) => onIface(view, v)).map((v) => vipOnIfaceProblem(v, w.iface ?? '?'));
  return { changes, present, notes: notesFor(w), warnings };
}

function vipOnIfaceProblem(vip: Vip, iface: string): string {
  return `${vip.address} is also on ${iface}: this host answers ARP for it there whatever the sysctls; remove it from ${iface}`;
}

/** `check`: every reason this host is not a safe real server for these VIPs (empty = safe). */
export function assess(w: Wanted, view: HostView): { problems: string[]; notes: string[] } {
  const problems: string[] = [];
  for (const vip of uniqueVips(w.vips)) {
    if (!holds(view.lo, vip)) problems.push(`${vipCidr(vip)} is not on lo: packets for the VIP would be dropped`);
  }
  for (const ref of wantedSysctls(w)) {
    const v = reading(view, ref);
    const name = ipv4ConfName(ref.iface, ref.key);
    if (v === undefined) problems.push(`${name} could not be read`);
    else if (!isSafe(ref.key, v)) problems.push(`${name} is ${v}, want ${SAFE[ref.key].join(' or ')}`);
  }
  if (w.iface !== null) problems.push(...w.vips.filter((v) => onIface(view, v)).map((v) => vipOnIfaceProblem(v, w.iface ?? '?')));
  return { problems, notes: notesFor(w) };
}

/** What `up` recorded, as needed by planDown (the full state file is in state.ts). */
export interface UpRecord {
  /** VIPs `up` added to lo (the ones that were there before are not listed). */
  added: readonly Vip[];
  /** every sysctl `up` changed: the value it found and the value it wrote. */
  sysctls: readonly (SysctlRef & { found: number; set: number })[];
}

export interface DownPlan {
  /** VIP removals first, then sysctl restores. */
  changes: Change[];
  /** what is left alone and why. */
  notes: string[];
}

/**
 * `down`: undo exactly what `up` changed. A sysctl is restored only while it still holds the
 * value `up` wrote: if someone changed it since, their value wins (and a note says so).
 */
export function planDown(rec: UpRecord, view: HostView): DownPlan {
  const changes: Change[] = [];
  const notes: string[] = [];
  for (const vip of rec.added) {
    if (holds(view.lo, vip)) changes.push({ kind: 'remove-vip', vip });
    else notes.push(`${vipCidr(vip)} is no longer on lo`);
  }
  for (const s of rec.sysctls) {
    const now = reading(view, s);
    const name = ipv4ConfName(s.iface, s.key);
    if (now === undefined) notes.push(`${name} is gone (interface removed?): nothing to restore`);
    else if (now === s.set && now !== s.found) changes.push({ kind: 'set-sysctl', iface: s.iface, key: s.key, from: now, to: s.found });
    else if (now !== s.found) notes.push(`${name} was changed to ${now} since up: left alone (up found ${s.found})`);
  }
  return { changes, notes };
}

/** The line printed for a change once it is done. */
export function describeChange(c: Change, verb: 'set' | 'restored' = 'set'): string {
  switch (c.kind) {
    case 'add-vip':
      return `added ${vipCidr(c.vip)} to lo`;
    case 'remove-vip':
      return `removed ${vipCidr(c.vip)} from lo`;
    case 'set-sysctl':
      return `${verb} ${ipv4ConfName(c.iface, c.key)} ${c.from} -> ${c.to}`;
  }
}

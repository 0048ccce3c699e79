/**
 * What `haagent release` removes: every VIP of every group from its device, then the LevIP
 * sysctls recorded in the state directory. From a valid file, its groups. From a file that
 * does not validate (half edited when the agent crashed, so ExecStopPost runs on it), the
 * groups are read leniently: each VIP (under `vip` or `vips`) that still reads as a VIP, on an
 * interface that still reads as one (its own or the group's), is released, so a broken file
 * never leaves a crashed director holding a VIP; what cannot be read is reported. A VIP the file no longer names (edited to another) is not known
 * to release: the operator removes it by hand (`ip addr del`).
 */
import { parseDocument } from 'yaml';
import { DEFAULTS } from '../config/defaults.js';
import { parseIfname } from '../config/fields.js';
import { parseVipEntry } from '../config/group-vips.js';
import type { Config, Vip } from '../config/types.js';
import { LEVIP_VIP_DEVICE, vipPlacements } from '../config/vip-device.js';

export interface ReleasePlan {
  /** one entry per VIP, in the order of the groups and of each group's VIPs. */
  groups: { name: string; vip: Vip; dev: string; bgp?: true }[];
  socket: string;
  stateDir: string;
  /** group entries (or VIPs of one) of a broken file that could not be read (nothing removed for them). */
  unreadable: string[];
  /** read leniently from a file that does not validate. */
  lenient: boolean;
}

export function planFromConfig(c: Config): ReleasePlan {
  const groups = c.groups.flatMap((g) => vipPlacements(g).map((p) => ({ name: g.name, vip: p.vip, dev: p.iface, ...(g.mode === 'bgp' ? { bgp: true as const } : {}) })));
  return { groups, socket: c.control.socket, stateDir: c.stateDir, unreadable: [], lenient: false };
}

/** The plan a file that does not validate still gives (parseDocument keeps what parsed). */
export function planFromText(text: string): ReleasePlan {
  let doc: Record<string, unknown> | null = null;
  try {
    const js: unknown = parseDocument(text).toJS();
    if (js !== null && typeof js === 'object' && !Array.isArray(js)) doc = js as Record<string, unknown>;
  } catch {
    doc = null;
  }
  const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
  const control = doc?.control as Record<string, unknown> | undefined;
  const plan: ReleasePlan = { groups: [], socket: str(control?.socket) ?? DEFAULTS.controlSocket, stateDir: str(doc?.stateDir) ?? DEFAULTS.stateDir, unreadable: [], lenient: true };
  const groups = Array.isArray(doc?.groups) ? (doc.groups as unknown[]) : [];
  groups.forEach((g, i) => {
    const e = (g ?? {}) as Record<string, unknown>;
    const name = str(e.name) ?? `groups[${i}]`;
    const levip = e.mode === 'levip';
    const bgp = e.mode === 'bgp';
    const groupIface = levip ? { ok: true as const, value: LEVIP_VIP_DEVICE } : bgp ? bgpDeviceOf(e.bgp) : parseIfname(e.interface);
    // Every VIP the entry names, under vip and under vips alike (a broken file may have both).
    const written: { key: string; raw: unknown }[] = [];
    if (e.vip !== undefined || !Array.isArray(e.vips)) written.push({ key: 'vip', raw: e.vip });
    if (Array.isArray(e.vips)) e.vips.forEach((raw, j) => written.push({ key: `vips[${j}]`, raw }));
    for (const { key, raw } of written) {
      const entry = parseVipEntry(raw);
      const dev = entry.ok && entry.value.iface !== undefined && !levip && !bgp ? { ok: true as const, value: entry.value.iface } : groupIface;
      if (entry.ok && dev.ok) plan.groups.push({ name, vip: entry.value.vip, dev: dev.value, ...(bgp ? { bgp: true as const } : {}) });
      else plan.unreadable.push(`${name}: ${entry.ok ? 'interface' : key} unreadable`);
    }
  });
  return plan;
}

/** A broken file's bgp device: as written when it reads as one, else the default. */
function bgpDeviceOf(raw: unknown): ReturnType<typeof parseIfname> {
  const dev = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>).device : undefined;
  return dev === undefined ? { ok: true, value: DEFAULTS.bgp.device } : parseIfname(dev);
}

/**
 * What `haagent release` removes: every group's VIP from its device, then the LevIP sysctls
 * recorded in the state directory. From a valid file, its groups. From a file that does not
 * validate (half edited when the agent crashed, so ExecStopPost runs on it), the groups are
 * read leniently: each entry whose `vip` and `interface` still read as a VIP and an interface
 * name is released, so a broken file never leaves a crashed director holding the VIP; what
 * cannot be read is reported. A VIP the file no longer names (edited to another) is not known
 * to release: the operator removes it by hand (`ip addr del`).
 */
import { parseDocument } from 'yaml';
import { DEFAULTS } from '../config/defaults.js';
import { parseIfname, parseVip } from '../config/fields.js';
import type { Config, Vip } from '../config/types.js';
import { LEVIP_VIP_DEVICE, vipDevice } from '../config/vip-device.js';

export interface ReleasePlan {
  groups: { name: string; vip: Vip; dev: string }[];
  socket: string;
  stateDir: string;
  /** group entries of a broken file that could not be read (nothing removed for them). */
  unreadable: string[];
  /** read leniently from a file that does not validate. */
  lenient: boolean;
}

export function planFromConfig(c: Config): ReleasePlan {
  return { groups: c.groups.map((g) => ({ name: g.name, vip: g.vip, dev: vipDevice(g) })), socket: c.control.socket, stateDir: c.stateDir, unreadable: [], lenient: false };
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
    const vip = parseVip(e.vip);
    const levip = e.mode === 'levip';
    const iface = levip ? { ok: true as const, value: LEVIP_VIP_DEVICE } : parseIfname(e.interface);
    if (vip.ok && iface.ok) plan.groups.push({ name, vip: vip.value, dev: iface.value });
    else plan.unreadable.push(`${name}: ${vip.ok ? 'interface' : 'vip'} unreadable`);
  });
  return plan;
}

/**
 * Fakes shared by the real-server tests: an in-memory host (addresses per interface, with
 * switches for a failing add/del and a held listing) and an in-memory /proc/sys for the real
 * sysctl adapter.
 */
import type { Vip } from '../../src/config/types.js';
import type { IfaceAddress } from '../../src/adapters/ip-json.js';
import type { EnsureOutcome } from '../../src/ports/index.js';
import type { SysctlFs } from '../../src/adapters/sysctl.js';
import type { LoAddressHost } from '../../src/realserver/apply.js';

export const ROOT = '/proc/sys/net/ipv4/conf';

export function addr(local: string, prefixlen: number): IfaceAddress {
  return { local, prefixlen, family: local.includes(':') ? 6 : 4, secondary: false, dadfailed: false };
}

export class FakeHost implements LoAddressHost {
  readonly addrs = new Map<string, IfaceAddress[]>([
    ['lo', [addr('127.0.0.1', 8)]],
    ['eth0', [addr('198.51.100.20', 24)]],
  ]);
  failAdd = false;
  failDel = false;
  /** when set, the next listAddresses waits for this promise (one call only). */
  hold: Promise<void> | null = null;
  async listAddresses(iface: string): Promise<IfaceAddress[]> {
    const hold = this.hold;
    this.hold = null;
    if (hold) await hold;
    const a = this.addrs.get(iface);
    if (!a) throw new Error(`Device "${iface}" does not exist.`);
    return a.map((x) => ({ ...x }));
  }
  async ensurePresent(vip: Vip, iface: string): Promise<EnsureOutcome> {
    if (this.failAdd) return { ok: false, error: `ip addr add ${vip.address}: exit 1` };
    if (this.has(vip, iface)) return { ok: true, changed: false };
    this.addrs.get(iface)?.push(addr(vip.address, vip.prefix));
    return { ok: true, changed: true };
  }
  async ensureAbsent(vip: Vip, iface: string): Promise<EnsureOutcome> {
    if (this.failDel) return { ok: false, error: `ip addr del ${vip.address}: exit 1` };
    const list = this.addrs.get(iface) ?? [];
    this.addrs.set(iface, list.filter((a) => !(a.local === vip.address && a.prefixlen === vip.prefix)));
    return { ok: true, changed: list.length !== this.addrs.get(iface)?.length };
  }
  has(vip: Vip, iface = 'lo'): boolean {
    return (this.addrs.get(iface) ?? []).some((a) => a.local === vip.address && a.prefixlen === vip.prefix);
  }
}

export class MemFs implements SysctlFs {
  readonly files = new Map<string, string>();
  readonly denied = new Set<string>();
  async readFile(path: string): Promise<string> {
    const v = this.files.get(path);
    if (v === undefined) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    return v;
  }
  async writeFile(path: string, data: string): Promise<void> {
    if (this.denied.has(path)) throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    this.files.set(path, data);
  }
  /** sets conf/NAME, e.g. set('all/arp_ignore', 0). */
  set(name: string, v: number): void {
    this.files.set(`${ROOT}/${name}`, `${v}\n`);
  }
  get(name: string): number {
    return Number(this.files.get(`${ROOT}/${name}`));
  }
  value(iface: string, key: string): number {
    return this.get(`${iface}/${key}`);
  }
}

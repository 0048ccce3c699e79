/**
 * The addresses of a vrrp_instance: its virtual_ipaddress entries (address[/prefix] and the
 * `ip addr` options after it), the unicast_src_ip / mcast_src_ip heartbeat source and the
 * unicast_peer entries, checked with haagent's own parsers so that what is carried over
 * loads. Pure.
 */
import { parseIfname, parseIp, parseVip, type IpAddress } from '../config/fields.js';
import { vipCidr } from '../config/vip.js';
import type { KaStatement } from './keepalived-parse.js';
import type { Report } from './report.js';

export interface VipEntry {
  cidr: string;
  family: 4 | 6;
  /** the `dev` option: the interface the address goes on. */
  dev: string | null;
  line: number;
}

/** `ip addr` options that take a value; the others are flags. */
const VALUED = new Set(['brd', 'dev', 'scope', 'label', 'peer', 'preferred_lft', 'track_group']);

/** One virtual_ipaddress entry; null (with an error) when the address or dev is not valid. */
function vipEntry(e: KaStatement, report: Report): VipEntry | null {
  const vip = parseVip(e.key);
  if (!vip.ok) {
    report.error(e.line, `virtual_ipaddress: got "${e.key}", expected ${vip.expected}`);
    return null;
  }
  let dev: string | null = null;
  const ignored: string[] = [];
  for (let i = 0; i < e.args.length; i++) {
    const opt = e.args[i]!;
    const value = VALUED.has(opt) ? e.args[++i] : undefined;
    if (opt !== 'dev') ignored.push(value === undefined ? opt : `${opt} ${value}`);
    else if (value !== undefined && parseIfname(value).ok) dev = value;
    else {
      report.error(e.line, `virtual_ipaddress: got dev "${value ?? ''}", expected an interface name`);
      return null;
    }
  }
  const cidr = vipCidr(vip.value);
  if (ignored.length > 0) {
    report.dropped(e.line, `${cidr} ${ignored.join(' ')}`, 'haagent adds the VIP with its prefix on its interface; other ip-address options are not applied');
  }
  return { cidr, family: vip.value.family, dev, line: e.line };
}

/** Every valid entry of a virtual_ipaddress block, in order. */
export function readVips(block: readonly KaStatement[], report: Report): VipEntry[] {
  return block.map((e) => vipEntry(e, report)).filter((v): v is VipEntry => v !== null);
}

/** An address and the line that gave it. */
export interface Endpoint {
  ip: IpAddress;
  line: number;
}

/** The first argument of `s` as an IP address, or null with an error. */
export function ipArg(s: KaStatement, report: Report): Endpoint | null {
  const ip = parseIp(s.args[0]);
  if (ip.ok) return { ip: ip.value, line: s.line };
  report.error(s.line, `${s.key}: got "${s.args[0] ?? ''}", expected ${ip.expected}`);
  return null;
}

/** The entries of a unicast_peer block; TTL bounds are listed as not carried over. */
export function readPeers(block: readonly KaStatement[], report: Report): Endpoint[] {
  const out: Endpoint[] = [];
  for (const e of block) {
    const ip = parseIp(e.key);
    if (!ip.ok) {
      report.error(e.line, `unicast_peer: got "${e.key}", expected ${ip.expected}`);
      continue;
    }
    if (e.args.length > 0) {
      report.dropped(e.line, `${e.key} ${e.args.join(' ')}`, 'haagent checks no TTL: it accepts a heartbeat only when its HMAC verifies under the key file');
    }
    out.push({ ip: ip.value, line: e.line });
  }
  return out;
}

/** The interface named by `s` (interface, track_interface entries), or null with an error. */
export function ifnameOf(text: string | undefined, line: number, what: string, report: Report): string | null {
  const name = parseIfname(text);
  if (name.ok) return name.value;
  report.error(line, `${what}: got "${text ?? ''}", expected ${name.expected}`);
  return null;
}

/**
 * Pure parser for `ip -json addr show dev IF` (iproute2 6.1). Kept apart from the adapter so
 * it is tested on canned stdout. It reads only the fields it needs and refuses anything it
 * does not understand with an IpParseError, never a TypeError from deep inside.
 */

export interface IfaceAddress {
  /** address text as ip prints it (IPv6 compressed, lower case). */
  local: string;
  prefixlen: number;
  family: 4 | 6;
  /** IPv4: inside the subnet of another address; vanishes with the primary (measured on Debian 12 bookworm). */
  secondary: boolean;
  /** IPv6: duplicate address detection failed; the address is there but unusable. */
  dadfailed: boolean;
}

export class IpParseError extends Error {
  override name = 'IpParseError';
}

const FAMILIES: Record<string, 4 | 6> = { inet: 4, inet6: 6 };

export function parseIpAddrJson(stdout: string): IfaceAddress[] {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch (err) {
    const head = stdout.trim().slice(0, 80);
    throw new IpParseError(`ip -json output is not JSON (${(err as Error).message}): ${JSON.stringify(head)}`);
  }
  if (!Array.isArray(doc)) throw new IpParseError('ip -json output is not an array of interfaces');
  return doc.flatMap((link, i) => parseLink(link, i));
}

function parseLink(link: unknown, i: number): IfaceAddress[] {
  if (!isObject(link)) throw new IpParseError(`interface [${i}] is not an object`);
  // An interface with no addresses may omit addr_info altogether.
  const infos = link['addr_info'] ?? [];
  if (!Array.isArray(infos)) throw new IpParseError(`interface [${i}].addr_info is not an array`);
  const out: IfaceAddress[] = [];
  infos.forEach((info, j) => {
    const a = parseAddr(info, `[${i}].addr_info[${j}]`);
    if (a) out.push(a);
  });
  return out;
}

function parseAddr(info: unknown, where: string): IfaceAddress | null {
  if (!isObject(info)) throw new IpParseError(`${where} is not an object`);
  const family = FAMILIES[String(info['family'])];
  // Other families (none today under `addr show`) are not VIPs: skip rather than fail.
  if (family === undefined) return null;
  const local = info['local'];
  const prefixlen = info['prefixlen'];
  if (typeof local !== 'string' || local === '') throw new IpParseError(`${where}.local is not an address`);
  if (typeof prefixlen !== 'number' || !Number.isInteger(prefixlen) || prefixlen < 0 || prefixlen > 128) {
    throw new IpParseError(`${where}.prefixlen is not a prefix length`);
  }
  return {
    local,
    prefixlen,
    family,
    secondary: info['secondary'] === true,
    dadfailed: info['dadfailed'] === true,
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Every address configured on this host (this network namespace), read once with
 * `ip -json addr show`: for check-config, which is synchronous, so spawnSync with a bound
 * wait. `ip` lists addresses on links that are down too, which os.networkInterfaces() (libuv
 * skips interfaces that are not up and running) does not: a backbone whose cable is out at
 * the moment is still this host's address. The link names come along: check-config warns about
 * an interface the file names that this host does not have.
 */
import { spawnSync } from 'node:child_process';
import { parseIpAddrJson } from './ip-json.js';

/** `interfaces`: every link's name, addresses or not (absent: not read). */
export type HostAddresses = { ok: true; addresses: ReadonlySet<string>; interfaces?: ReadonlySet<string> } | { ok: false; why: string };

/** The link names in `ip -json addr show` output (links without an address included). */
export function linkNames(stdout: string): Set<string> {
  const doc: unknown = JSON.parse(stdout);
  const names = new Set<string>();
  if (Array.isArray(doc)) for (const l of doc) if (l !== null && typeof l === 'object' && typeof (l as { ifname?: unknown }).ifname === 'string') names.add((l as { ifname: string }).ifname);
  return names;
}

/** The host's addresses, or why they could not be read (no `ip`, a timeout, output not understood). */
export function hostAddresses(timeoutMs = 3000): HostAddresses {
  const r = spawnSync('ip', ['-json', 'addr', 'show'], { encoding: 'utf8', timeout: timeoutMs });
  if (r.error) return { ok: false, why: `ip -json addr show: ${r.error.message}` };
  if (r.status !== 0) return { ok: false, why: `ip -json addr show exited ${r.status ?? r.signal}: ${r.stderr.trim()}` };
  try {
    return { ok: true, addresses: new Set(parseIpAddrJson(r.stdout).map((a) => a.local)), interfaces: linkNames(r.stdout) };
  } catch (err) {
    return { ok: false, why: err instanceof Error ? err.message : String(err) };
  }
}

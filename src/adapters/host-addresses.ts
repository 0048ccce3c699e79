/**
 * Every address configured on this host (this network namespace), read once with
 * `ip -json addr show`: for check-config, which is synchronous, so spawnSync with a bound
 * wait. `ip` lists addresses on links that are down too, which os.networkInterfaces() (libuv
 * skips interfaces that are not up and running) does not: a backbone whose cable is out at
 * the moment is still this host's address.
 */
import { spawnSync } from 'node:child_process';
import { parseIpAddrJson } from './ip-json.js';

export type HostAddresses = { ok: true; addresses: ReadonlySet<string> } | { ok: false; why: string };

/** The host's addresses, or why they could not be read (no `ip`, a timeout, output not understood). */
export function hostAddresses(timeoutMs = 3000): HostAddresses {
  const r = spawnSync('ip', ['-json', 'addr', 'show'], { encoding: 'utf8', timeout: timeoutMs });
  if (r.error) return { ok: false, why: `ip -json addr show: ${r.error.message}` };
  if (r.status !== 0) return { ok: false, why: `ip -json addr show exited ${r.status ?? r.signal}: ${r.stderr.trim()}` };
  try {
    return { ok: true, addresses: new Set(parseIpAddrJson(r.stdout).map((a) => a.local)) };
  } catch (err) {
    return { ok: false, why: err instanceof Error ? err.message : String(err) };
  }
}

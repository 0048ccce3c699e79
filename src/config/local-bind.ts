/**
 * Whether the heartbeat's local addresses (heartbeat.bind and each path's own bind) are this
 * host's: the kernel refuses to bind a socket to an address the host does not have, so the
 * agent would fail to start on it. Only check-config asks this, with the addresses it read
 * from the host (src/adapters/host-addresses.ts); pure, like the cross-field checks. It reads
 * the raw YAML data, skipping values the schema already refused.
 */
import type { CrossIssue } from './cross.js';
import { parseIp, parsePeerEntry, type Parsed } from './fields.js';
import type { PathKey } from './locate.js';

type Obj = Record<string, unknown>;

function asObj(v: unknown): Obj | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;
}

function parsed<T>(r: Parsed<T>): T | undefined {
  return r.ok ? r.value : undefined;
}

/** One issue per configured local address that `local` (every address of the host) lacks. */
export function localBindIssues(raw: unknown, local: ReadonlySet<string>): CrossIssue[] {
  const hb = asObj(asObj(raw)?.heartbeat);
  if (!hb) return [];
  const wanted: { path: PathKey[]; address: string | undefined }[] = [];
  if (hb.bind !== undefined) wanted.push({ path: ['heartbeat', 'bind'], address: parsed(parseIp(hb.bind))?.address });
  const peers = Array.isArray(hb.peers) ? hb.peers : [];
  peers.forEach((p, i) => {
    if (asObj(p)?.bind === undefined) return;
    // The entry as a whole must be valid for its bind to count; parsePeerEntry says so.
    const entry = parsed(parsePeerEntry(p));
    wanted.push({ path: ['heartbeat', 'peers', i, 'bind'], address: entry?.bind?.address });
  });
  // heartbeat.bind may be the unspecified address (every address), which every host has.
  const missing = (a: string | undefined): a is string => a !== undefined && a !== '0.0.0.0' && a !== '::' && !local.has(a);
  return wanted
    .filter((w): w is { path: PathKey[]; address: string } => missing(w.address))
    .map((w) => ({ path: w.path, expected: `an address of this host (${w.address} is on none of its interfaces, \`ip addr\`): the kernel refuses to bind any other` }));
}

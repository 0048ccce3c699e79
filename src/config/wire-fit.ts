/**
 * A valid configuration always goes on the wire. Every datagram the agent sends (heartbeat,
 * probe, resign: one body layout) carries the cluster name, the node name and one entry per
 * group: its name and a fixed-width state, priority and reach. The names written therefore
 * decide the size, and nothing learned at run time changes it. A file whose heartbeat the
 * codec would refuse is refused here, where check-config and a reload see it, instead of by
 * encode() in the running daemon (an exit, and systemd restarting it in a loop).
 *
 * The verdict and the sizes come from the codec (validateMessage, encodedLength), so the
 * limits have one source: src/wire/layout.ts. The group count limit (MAX_GROUPS) is the
 * schema's (schema.ts); this check covers the datagram size.
 */
import { encodedLength, MAX_DATAGRAM, MAX_GROUPS, validateMessage } from '../wire/codec.js';
import type { Message } from '../wire/types.js';
import { NAME_RE } from './fields.js';
import type { PathKey } from './locate.js';

/**
 * The heartbeat a node with these names sends. State, priority, reach, bootId, seq and the
 * interval are fixed-width fields, so their values here do not change the size; they are the
 * largest the agent ever sends (an operator takeover advertises priority 255).
 */
export function heartbeatOf(cluster: string, node: string, groups: readonly string[]): Message {
  return {
    type: 'heartbeat',
    cluster,
    node,
    bootId: (1n << 64n) - 1n,
    seq: (1n << 64n) - 1n,
    intervalMs: 0,
    groups: groups.map((name) => ({ name, state: 'active', priority: 255, reach: 255 })),
  };
}

const validName = (v: unknown): v is string => typeof v === 'string' && NAME_RE.test(v);

const nameOf = (g: unknown): unknown =>
  typeof g === 'object' && g !== null && !Array.isArray(g) ? (g as Record<string, unknown>).name : undefined;

/**
 * The issue when the heartbeat of this raw document would not encode, pointing at the name of
 * the first group that no longer fits; null when it fits, or when a name it depends on is
 * missing, invalid or repeated (the schema or another cross check reports that, and the size
 * is not known until it is fixed). `hostname` is the node name when the file sets none.
 */
export function heartbeatFitIssue(root: Record<string, unknown>, hostname: string): { path: PathKey[]; expected: string } | null {
  const { cluster, groups } = root;
  const node = root.node ?? hostname;
  if (!validName(cluster) || !validName(node) || !Array.isArray(groups) || groups.length > MAX_GROUPS) return null;
  const names = groups.map(nameOf);
  if (!names.every(validName) || new Set(names).size !== names.length) return null;
  const all = heartbeatOf(cluster, node, names);
  const allProblem = validateMessage(all);
  if (allProblem === null) return null;
  // The first group with which the heartbeat stops encoding is the one to point at.
  const upTo = (k: number) => validateMessage(heartbeatOf(cluster, node, names.slice(0, k + 1)));
  let k = 0;
  while (k < names.length - 1 && upTo(k) === null) k++;
  const problem = upTo(k) ?? allProblem;
  const whose = root.node === undefined ? `the node name ${JSON.stringify(node)} (the host name)` : 'the node name';
  return {
    path: ['groups', k, 'name'],
    expected:
      `a group the heartbeat can still carry: with this one the heartbeat ${problem} ` +
      `(every heartbeat carries the cluster name, ${whose} and the name of each group; ` +
      `all ${names.length} groups take ${encodedLength(all)} bytes, at most ${MAX_DATAGRAM} fit one unfragmented datagram): ` +
      'shorten the names or use fewer groups',
  };
}

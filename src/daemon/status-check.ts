/**
 * `haagent status --check`: the status record judged as a monitoring check (Nagios plugin
 * conventions): one line, exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. Pure: a record in,
 * a verdict out; the command adds UNKNOWN when no agent answers.
 *
 * CRITICAL (the service is, or may be, down or doubled):
 * - a group in fault on this node;
 * - a group active here that a live peer also reports active (two holders);
 * - a group nobody holds: standby here and no active node known;
 * - no peer alive (none heard, or every one heard is dead): no failover possible.
 * WARNING (the service runs, redundancy or certainty is reduced):
 * - maintenance, or the agent shutting down;
 * - a group still in init (listening after start);
 * - a peer dead while another is alive;
 * - a path of a live peer silent;
 * - a VIP conflict (another host answered for a VIP we held) within the conflict window;
 * - a health check failing (the node still serves, at a lower priority or not at all).
 * OK otherwise. The line lists every finding, the worst first, and a short summary.
 */
import type { StatusRecord } from './status-view.js';
import { printable } from '../printable.js';

export const CHECK_EXIT = { OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 } as const;
export type CheckLevel = keyof typeof CHECK_EXIT;

export interface CheckOptions {
  /** how long after a VIP conflict it still makes the check WARNING (ms). */
  conflictWindowMs: number;
}

export const DEFAULT_CHECK: CheckOptions = { conflictWindowMs: 10 * 60_000 };

export interface CheckVerdict {
  level: CheckLevel;
  code: number;
  /** the one line, without newline: "HAAGENT WARNING - ...". */
  line: string;
}

interface Finding {
  level: 'WARNING' | 'CRITICAL';
  text: string;
}

function findings(s: StatusRecord, opts: CheckOptions): Finding[] {
  const out: Finding[] = [];
  const crit = (text: string) => out.push({ level: 'CRITICAL', text });
  const warn = (text: string) => out.push({ level: 'WARNING', text });
  const alive = s.peers.filter((p) => p.alive);
  for (const g of s.groups) {
    if (g.state === 'fault') crit(`group ${g.name} in fault${g.faultReason ? ` (${g.faultReason})` : ''}`);
    else if (g.state === 'init') warn(`group ${g.name} starting (init)`);
    const others = alive.filter((p) => p.groups.some((x) => x.name === g.name && x.state === 'active')).map((p) => p.node);
    if (g.state === 'active' && others.length > 0) crit(`group ${g.name} active here and on ${others.join(', ')}`);
    if (g.state === 'standby' && g.activeNode === null && others.length === 0) crit(`group ${g.name} held by no node`);
    if (g.lastConflict !== null && g.lastConflict.msAgo <= opts.conflictWindowMs) {
      warn(`group ${g.name} VIP conflict ${Math.round(g.lastConflict.msAgo / 1000)}s ago (${g.lastConflict.macs.join(', ')})`);
    }
    for (const c of g.checks) if (c.state === 'failing') warn(`group ${g.name} check ${c.name} failing`);
  }
  if (alive.length === 0) crit(s.peers.length === 0 ? 'no peer heard' : `no peer alive (${s.peers.map((p) => p.node).join(', ')} dead)`);
  else for (const p of s.peers) if (!p.alive) warn(`peer ${p.node} dead`);
  for (const p of alive) for (const x of p.paths) if (!x.alive) warn(`peer ${p.node} path ${x.address} silent`);
  if (s.maintenance) warn('maintenance');
  if (s.shuttingDown) warn('shutting down');
  return out;
}

/** The verdict on one status record. Names from the network are escaped (printable()). */
export function checkVerdict(s: StatusRecord, opts: CheckOptions = DEFAULT_CHECK): CheckVerdict {
  const found = findings(s, opts);
  const level: CheckLevel = found.some((f) => f.level === 'CRITICAL') ? 'CRITICAL' : found.length > 0 ? 'WARNING' : 'OK';
  const ordered = [...found.filter((f) => f.level === 'CRITICAL'), ...found.filter((f) => f.level === 'WARNING')].map((f) => f.text);
  const active = s.groups.filter((g) => g.state === 'active').length;
  const summary = `${s.node}: ${active}/${s.groups.length} groups active here, ${s.peers.filter((p) => p.alive).length}/${s.peers.length} peers alive`;
  const text = ordered.length > 0 ? `${ordered.join('; ')}; ${summary}` : summary;
  return { level, code: CHECK_EXIT[level], line: printable(`HAAGENT ${level} - ${text}`) };
}

/** The line and code when no agent answers (or it refused): UNKNOWN. */
export function unknownVerdict(why: string): CheckVerdict {
  return { level: 'UNKNOWN', code: CHECK_EXIT.UNKNOWN, line: printable(`HAAGENT UNKNOWN - ${why}`) };
}

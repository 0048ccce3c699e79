/**
 * Whether the director's routing daemon really announces a bgp group's VIPs, read from the
 * daemon's own CLI: `birdc` (BIRD 2) or `vtysh` (FRR). Only reads, restricted where the
 * daemon allows it (`birdc -r`). The parsers are pure and tested against output captured
 * from the real daemons (test/fixtures/bgp); the adapters run one short command each through
 * the CommandRunner port. An answer that cannot be read is `unknown` with the reason, never
 * a guess.
 */
import { vipCidr } from '../config/vip.js';
import type { BgpDaemonConfig, Millis, Vip } from '../config/types.js';
import type { CommandResult, CommandRunner } from '../ports/index.js';
import { describeResult } from '../adapters/runner.js';

export type Announced = 'yes' | 'no' | 'unknown';

export interface VipAnnouncement {
  announced: Announced;
  /** why, in a few words ("session Active", "not exported", the daemon's error). */
  detail: string;
}

/** The port: one read of every VIP of a group, keyed by the VIP's CIDR text. */
export interface RouteReadback {
  read(vips: readonly Vip[]): Promise<Map<string, VipAnnouncement>>;
}

const unknown = (detail: string): VipAnnouncement => ({ announced: 'unknown', detail });

/** BIRD `show protocols NAME`: the row's state and info, or null when there is no such row. */
export function parseBirdProtocol(stdout: string, name: string): { state: string; info: string } | null {
  for (const line of stdout.split('\n')) {
    const cols = line.trim().split(/\s+/);
    // Name Proto Table State Since Info...: Since is one token (a time) in BIRD 2's default format.
    if (cols[0] === name && cols.length >= 5) return { state: cols[3]!, info: cols.slice(5).join(' ') };
  }
  return null;
}

/**
 * BIRD `show route PREFIX export PROTO`: true when the prefix is listed (it passes the
 * protocol's export filter), false on "Network not found" or "No valid tables" (the
 * channel is down), else the error text.
 */
export function birdExported(r: Pick<CommandResult, 'code' | 'stdout'>, prefix: string): boolean | string {
  const lines = r.stdout.split('\n').map((l) => l.trim());
  if (lines.some((l) => l.startsWith(`${prefix} `))) return true;
  if (lines.some((l) => l === 'Network not found' || l === 'No valid tables')) return false;
  const said = lines.filter((l) => l !== '' && !/^BIRD .* ready\.$/.test(l) && l !== 'Access restricted');
  return said.join(' ') || `exit ${r.code}, nothing read`;
}

/**
 * FRR `show bgp ipv4|ipv6 unicast PREFIX json`: announced when a locally sourced path is the
 * best path and the prefix is advertised to at least one peer.
 */
export function frrAnnounced(json: string): VipAnnouncement {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    return unknown('vtysh answered with something other than JSON');
  }
  if (doc === null || typeof doc !== 'object') return unknown('vtysh answered with something other than a JSON object');
  const d = doc as { paths?: unknown; advertisedTo?: unknown };
  const paths = Array.isArray(d.paths) ? (d.paths as { sourced?: unknown; bestpath?: { overall?: unknown } }[]) : [];
  if (paths.length === 0) return { announced: 'no', detail: 'not in the BGP table' };
  if (!paths.some((p) => p.sourced === true && p.bestpath?.overall === true)) return { announced: 'no', detail: 'no locally sourced best path' };
  const peers = d.advertisedTo !== null && typeof d.advertisedTo === 'object' ? Object.keys(d.advertisedTo) : [];
  if (peers.length === 0) return { announced: 'no', detail: 'advertised to no peer' };
  return { announced: 'yes', detail: `advertised to ${peers.join(', ')}` };
}

/** Output of a command that ran to the end (exit 0 or the daemon's own error exit). */
function failed(argv: readonly string[], r: CommandResult): string | null {
  if (r.timedOut || r.signal !== null || r.code === -1) return describeResult(argv, r);
  return null;
}

type Run = (argv: readonly string[]) => Promise<CommandResult>;

/** BIRD: the session first (one birdc run); while it is established, each VIP's export. */
async function readBird(run: Run, cfg: Extract<BgpDaemonConfig, { kind: 'bird' }>, vips: readonly Vip[]): Promise<Map<string, VipAnnouncement>> {
  const out = new Map<string, VipAnnouncement>();
  const argv = (...cmd: string[]) => [cfg.birdc, '-r', '-s', cfg.socket, ...cmd];
  const pa = argv('show', 'protocols', cfg.protocol);
  const p = await run(pa);
  const row = failed(pa, p) === null ? parseBirdProtocol(p.stdout, cfg.protocol) : null;
  if (row === null) {
    const why = failed(pa, p) ?? (p.code === 0 ? `no protocol ${cfg.protocol} in ${pa.join(' ')}` : describeResult(pa, { ...p, stderr: p.stderr || p.stdout }));
    for (const v of vips) out.set(vipCidr(v), unknown(why));
    return out;
  }
  const up = row.state === 'up' && row.info.startsWith('Established');
  for (const v of vips) {
    const prefix = vipCidr(v);
    if (!up) {
      out.set(prefix, { announced: 'no', detail: `session ${cfg.protocol} ${row.state} ${row.info}`.trim() });
      continue;
    }
    const ra = argv('show', 'route', prefix, 'export', cfg.protocol);
    const r = await run(ra);
    const e = failed(ra, r) ?? birdExported(r, prefix);
    if (e === true) out.set(prefix, { announced: 'yes', detail: `exported to ${cfg.protocol}` });
    else if (e === false) out.set(prefix, { announced: 'no', detail: `not exported to ${cfg.protocol}` });
    else out.set(prefix, unknown(`${ra.join(' ')}: ${e}`));
  }
  return out;
}

/** FRR: one vtysh run per VIP, in the VIP's address family. */
async function readFrr(run: Run, cfg: Extract<BgpDaemonConfig, { kind: 'frr' }>, vips: readonly Vip[]): Promise<Map<string, VipAnnouncement>> {
  const out = new Map<string, VipAnnouncement>();
  const base = [cfg.vtysh, ...(cfg.socketDir === null ? [] : ['--vty_socket', cfg.socketDir])];
  for (const v of vips) {
    const prefix = vipCidr(v);
    const argv = [...base, '-c', `show bgp ipv${v.family} unicast ${prefix} json`];
    const r = await run(argv);
    if (r.code !== 0 || r.timedOut) out.set(prefix, unknown(describeResult(argv, { ...r, stderr: r.stderr || r.stdout })));
    else out.set(prefix, frrAnnounced(r.stdout));
  }
  return out;
}

/** The readback a daemon configuration calls for, each command bounded by timeoutMs. */
export function readbackFor(cfg: BgpDaemonConfig, runner: CommandRunner, timeoutMs: Millis): RouteReadback {
  const run: Run = (argv) => runner.run(argv, timeoutMs);
  return { read: (vips) => (cfg.kind === 'bird' ? readBird(run, cfg, vips) : readFrr(run, cfg, vips)) };
}

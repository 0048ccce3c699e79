/**
 * `haagent realserver check --from-director`: ask the link who answers ARP for the VIP.
 *
 * Run on a director. It sends `arping -w 2 -s SRC -I IF VIP` (two requests, one second apart,
 * no `-c`, so arping never stops after the first N replies and every answering MAC is seen)
 * and judges the replies:
 *
 * - this director holds the VIP on IF: its own kernel never answers its own request, so every
 *   reply comes from someone else: a real server leaking ARP, or another director holding the
 *   VIP too (split brain if its MAC was given with --director-mac). Any reply is a problem.
 * - it does not hold the VIP (a standby): exactly one MAC should answer, the active director.
 *   None = the VIP is down; two or more = a leak or a split brain; with --director-mac given,
 *   a single answer from a MAC outside that list is a problem too.
 *
 * SRC must not be the VIP. Without `-s`, arping takes the source the route to the VIP gives,
 * and on a director holding the VIP that is the VIP itself; a real server then drops the
 * request (its sender is one of its own addresses) and stays silent even when it leaks, so the
 * check would pass falsely. Seen in a namespace: no reply without `-s`, the leak with it.
 * `-D` (sender 0.0.0.0) avoids that but stops at the first reply, hiding every other leaker.
 */
import type { Millis, Vip } from '../config/types.js';
import type { IfaceAddress } from '../adapters/ip-json.js';
import type { CommandRunner } from '../ports/index.js';
import { describeResult } from '../adapters/runner.js';
import { parseArpingReplies, type ArpReply } from '../adapters/arp-detect.js';

export type MacKind = 'self' | 'director' | 'other';

export interface MacSeen {
  mac: string;
  replies: number;
  kind: MacKind;
}

export interface ArpJudgeInput {
  vip: string;
  /** this director has the VIP on the interface the request went out of. */
  held: boolean;
  ownMac: string | null;
  /** MACs of the directors (--director-mac); empty = not given. */
  directorMacs: readonly string[];
  replies: readonly ArpReply[];
}

export interface ArpVerdict {
  /** every MAC that answered for the VIP, first-answer order. */
  macs: MacSeen[];
  problems: string[];
}

/** Pure: the answering MACs and what is wrong with them (see the header for the rules). */
export function judgeArpReplies(input: ArpJudgeInput): ArpVerdict {
  const directors = input.directorMacs.map((m) => m.toLowerCase());
  const own = input.ownMac?.toLowerCase() ?? null;
  const macs: MacSeen[] = [];
  for (const r of input.replies) {
    if (r.ip !== input.vip) continue; // a reply about another address is not an answer for the VIP
    const seen = macs.find((m) => m.mac === r.mac);
    if (seen) seen.replies++;
    else macs.push({ mac: r.mac, replies: 1, kind: r.mac === own ? 'self' : directors.includes(r.mac) ? 'director' : 'other' });
  }
  const others = macs.filter((m) => m.kind !== 'self');
  const problems: string[] = [];
  if (input.held) {
    for (const m of others) {
      problems.push(m.kind === 'director'
        ? `${m.mac} (a director) also answers for ${input.vip}, which this director holds: split brain`
        : `${m.mac} answers ARP for ${input.vip}, which this director holds: a real server leaking ARP, or another host holding the VIP`);
    }
    return { macs, problems };
  }
  if (others.length === 0) problems.push(`nobody answered ARP for ${input.vip}: the VIP is not up on this link`);
  if (others.length > 1) problems.push(`${others.length} hosts answer ARP for ${input.vip} (${others.map((m) => m.mac).join(', ')}): exactly one (the active director) should`);
  if (directors.length > 0) {
    for (const m of others.filter((x) => x.kind === 'other')) problems.push(`${m.mac} answers ARP for ${input.vip} but is not a director`);
  }
  return { macs, problems };
}

/** The source address to send from: an IPv4 address of the interface that is not the VIP. */
export function pickSource(addrs: readonly IfaceAddress[], vip: Vip): string | null {
  const v4 = addrs.filter((a) => a.family === 4 && a.local !== vip.address);
  return (v4.find((a) => !a.secondary) ?? v4[0])?.local ?? null;
}

export const ARPING_DEADLINE_S = 2;
/** Bookworm's arping lingers ~1 s after its last frame (measured on Debian 12 bookworm); kill it past this bound. */
const ARPING_GRACE_MS: Millis = 2000;

export function arpingArgv(arping: string, iface: string, source: string, vip: string, deadlineS = ARPING_DEADLINE_S): string[] {
  return [arping, '-w', String(deadlineS), '-s', source, '-I', iface, vip];
}

export interface FromDirectorDeps {
  runner: CommandRunner;
  host: { listAddresses(iface: string): Promise<IfaceAddress[]> };
  arpingPath?: string;
  ipPath?: string;
}

export interface FromDirectorOptions {
  vip: Vip;
  iface: string;
  /** override the source address (default: pickSource). */
  source?: string;
  directorMacs: readonly string[];
}

export type FromDirectorResult =
  | { ok: true; argv: string[]; held: boolean; ownMac: string | null; verdict: ArpVerdict }
  /** `unavailable`: arping could not be started at all (not installed). */
  | { ok: false; error: string; unavailable: boolean };

export async function checkFromDirector(deps: FromDirectorDeps, opts: FromDirectorOptions): Promise<FromDirectorResult> {
  if (opts.vip.family !== 4) {
    return { ok: false, error: 'IPv6 VIPs: ARP does not apply and a neighbour-discovery check is not implemented', unavailable: false };
  }
  let addrs: IfaceAddress[];
  try {
    addrs = await deps.host.listAddresses(opts.iface);
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err), unavailable: false };
  }
  const source = opts.source ?? pickSource(addrs, opts.vip);
  if (source === null) return { ok: false, error: `no IPv4 address on ${opts.iface} other than the VIP to send from; pass --source`, unavailable: false };
  const held = addrs.some((a) => a.family === 4 && a.local === opts.vip.address);
  const ownMac = await linkMac(deps, opts.iface);
  const argv = arpingArgv(deps.arpingPath ?? 'arping', opts.iface, source, opts.vip.address);
  const r = await deps.runner.run(argv, ARPING_DEADLINE_S * 1000 + ARPING_GRACE_MS);
  // Exit 0 = replies, 1 = none: both are answers. 2 = bad device or usage; -1 = not started.
  if (r.code !== 0 && r.code !== 1) {
    return { ok: false, error: describeResult(argv, r), unavailable: r.code === -1 && r.signal === null && !r.timedOut };
  }
  const verdict = judgeArpReplies({ vip: opts.vip.address, held, ownMac, directorMacs: opts.directorMacs, replies: parseArpingReplies(r.stdout) });
  return { ok: true, argv, held, ownMac, verdict };
}

/** The interface's MAC from `ip -json link show`, or null when it cannot be read. */
async function linkMac(deps: FromDirectorDeps, iface: string): Promise<string | null> {
  const r = await deps.runner.run([deps.ipPath ?? 'ip', '-json', 'link', 'show', 'dev', iface], 2000);
  if (r.code !== 0) return null;
  try {
    const doc = JSON.parse(r.stdout) as unknown;
    const mac = Array.isArray(doc) ? (doc[0] as { address?: unknown } | undefined)?.address : undefined;
    return typeof mac === 'string' ? mac.toLowerCase() : null;
  } catch {
    return null;
  }
}

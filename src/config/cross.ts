/**
 * Checks that span several fields: uniqueness, timings relative to each other, peers versus
 * bind, address families, the heartbeat's size (wire-fit.ts). They read the raw YAML data (not the zod output) so that they still
 * run when some unrelated field is invalid: the operator gets every problem in one pass.
 * A field that is itself invalid is skipped here; the schema already reported it.
 */
import { formatDuration } from './duration.js';
import { DEFAULTS } from './defaults.js';
import { LIMITS } from './limits.js';
import { NAME_RE, durationIn, formatPeer, parseIfname, parseIp, parseMulticast, parsePeerEntry, type IpAddress, type Parsed } from './fields.js';
import { checkGroupVips } from './group-vips.js';
import { checkConfirm } from './confirm.js';
import { checkBgp } from './bgp.js';
import type { PathKey } from './locate.js';
import { effectiveTiming } from './resolve.js';
import { checkRealServer, checkRoles } from './realserver.js';
import { heartbeatFitIssue } from './wire-fit.js';
import { checkSyncUnits } from './sync.js';

export interface CrossIssue {
  path: PathKey[];
  expected: string;
  /** false when the issue is about a missing combination, not the value at `path`. */
  showValue?: boolean;
}

type Obj = Record<string, unknown>;

const asObj = (v: unknown): Obj | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;

function valid<T>(v: unknown, parse: (v: unknown) => Parsed<T>): T | undefined {
  if (v === undefined) return undefined;
  const r = parse(v);
  return r.ok ? r.value : undefined;
}

const validInt = (v: unknown, min: number, max: number): number | undefined =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : undefined;

function checkTiming(hb: Obj, out: CrossIssue[]): void {
  const interval = valid(hb.interval, durationIn(LIMITS.interval.min, LIMITS.interval.max));
  const deadTime = valid(hb.deadTime, durationIn(0, LIMITS.deadTime.max));
  const deadCount = validInt(hb.deadCount, LIMITS.deadCount.min, LIMITS.deadCount.max);
  const initDead = valid(hb.initDead, durationIn(0, LIMITS.initDead.max));
  if (hb.deadTime !== undefined && hb.deadCount !== undefined) {
    out.push({ path: ['heartbeat', 'deadCount'], expected: 'either deadTime or deadCount, not both' });
    return;
  }
  // A timing that is itself invalid was reported by the schema; comparing with it would only add noise.
  const written = (v: unknown, parsed: unknown) => v === undefined || parsed !== undefined;
  if (!written(hb.interval, interval) || !written(hb.deadTime, deadTime) || !written(hb.deadCount, deadCount)) return;
  const t = effectiveTiming({ interval, deadTime, deadCount });
  const minDead = LIMITS.deadTimeMinFactor * t.interval;
  if (deadTime !== undefined && deadTime < minDead) {
    // Heartbeat's rule: one lost datagram must never look like a dead peer.
    out.push({ path: ['heartbeat', 'deadTime'], expected: `a duration of at least ${LIMITS.deadTimeMinFactor} x interval (${formatDuration(minDead)})` });
  }
  if (deadCount !== undefined && t.deadTime > LIMITS.deadTime.max) {
    out.push({ path: ['heartbeat', 'deadCount'], expected: `a count that keeps deadCount x interval within ${formatDuration(LIMITS.deadTime.max)}` });
  }
  if (initDead !== undefined && initDead < t.deadTime) {
    // Listening less than deadTime would call a live peer dead before it could be heard.
    out.push({ path: ['heartbeat', 'initDead'], expected: `a duration of at least deadTime (${formatDuration(t.deadTime)})` });
  }
}

const family = (ip: IpAddress) => `an IPv${ip.family} address`;

function checkPeers(hb: Obj, self: string, out: CrossIssue[]): void {
  const peers = Array.isArray(hb.peers) ? hb.peers : [];
  const multicast = valid(hb.multicast, parseMulticast);
  if (peers.length === 0 && hb.multicast === undefined) {
    out.push({ path: ['heartbeat'], expected: 'at least one of peers (a non-empty list) or multicast', showValue: false });
  }
  const bind = valid(hb.bind, parseIp);
  const port = validInt(hb.port, LIMITS.port.min, LIMITS.port.max) ?? DEFAULTS.port;
  const entries = peers.map((raw) => valid(raw, parsePeerEntry));
  // This node's heartbeat addresses: heartbeat.bind and every path's own bind.
  const locals = new Set([bind?.address, ...entries.map((e) => e?.bind?.address)].filter((a): a is string => a !== undefined));
  // One UDP socket carries one address family; the first address written sets it.
  let fam: IpAddress | undefined = bind;
  const seen = new Map<string, number>();
  let named: number | undefined;
  let unnamed: number | undefined;
  entries.forEach((peer, i) => {
    if (!peer) return;
    const path = ['heartbeat', 'peers', i];
    if (peer.node === undefined) unnamed ??= i;
    else named ??= i;
    if (peer.node === self) out.push({ path, expected: `a node other than this one (${self}): a peer is another director` });
    const key = formatPeer(peer.ip.address, peer.port ?? port);
    if (fam && fam.family !== peer.ip.family) {
      out.push({ path, expected: `${family(fam)}, like ${bind ? 'heartbeat.bind' : 'the first peer'} (one socket, one address family)` });
    } else if (locals.has(peer.ip.address) && (peer.port ?? port) === port) {
      out.push({ path, expected: 'a peer address other than heartbeat.bind and the paths\' bind addresses (those are this node)' });
    } else if (peer.bind && peer.bind.family !== peer.ip.family) {
      out.push({ path: [...path, 'bind'], expected: `${family(peer.ip)}, like this path's address (a socket sends to its own family only)` });
    } else if (seen.has(key)) {
      out.push({ path, expected: `a peer not already listed (same as heartbeat.peers[${seen.get(key)}])` });
    }
    fam ??= peer.ip;
    if (!seen.has(key)) seen.set(key, i);
  });
  if (named !== undefined && unnamed !== undefined) {
    // Half-bound names would bind nothing: an unnamed path could carry any name.
    out.push({ path: ['heartbeat', 'peers', Math.max(named, unnamed)], expected: `the same form as heartbeat.peers[${Math.min(named, unnamed)}]: name every peer ({ node, address }) or none` });
  }
  if (multicast && fam && fam.family !== multicast.family) {
    out.push({ path: ['heartbeat', 'multicast'], expected: `${family(fam)} multicast group, like ${bind ? 'heartbeat.bind' : 'the peers'} (one socket, one address family)` });
  }
}

/**
 * LevIP keys: the `levip` mapping only with `mode: levip`; the guard at most half the period
 * (src/core/levip/schedule.ts timingProblems). Its VIP's rules are in group-vips.ts.
 */
function checkLevip(g: Obj, i: number, out: CrossIssue[]): void {
  const levip = asObj(g.levip);
  if (g.mode !== 'levip') {
    if (g.levip !== undefined) out.push({ path: ['groups', i, 'levip'], expected: 'no levip mapping unless the group has mode: levip' });
    return;
  }
  if (!levip) return;
  const period = levip.period === undefined ? DEFAULTS.levip.period : valid(levip.period, durationIn(LIMITS.levipPeriod.min, LIMITS.levipPeriod.max));
  const guard = valid(levip.guard, durationIn(0, LIMITS.levipGuard.max)) ?? (levip.guard === undefined ? DEFAULTS.levip.guard : undefined);
  if (period === undefined || guard === undefined) return;
  if (2 * guard > period) {
    const path = levip.guard === undefined ? ['groups', i, 'levip', 'period'] : ['groups', i, 'levip', 'guard'];
    out.push({ path, expected: `a guard of at most half the period (guard ${formatDuration(guard)}, period ${formatDuration(period)}): the owner must announce during the first half of its slot` });
  }
}

interface Unique {
  /** the identity of an entry; undefined for an invalid entry (the schema reported it). */
  keyOf: (v: unknown) => string | undefined;
  /** where the issue of entry j points. */
  at: (j: number) => PathKey[];
  /** the text for a repeat of entry `first`. */
  repeated: (first: number) => string;
  /** a key refused outright, with its own text. */
  reserved?: { key: string; expected: string };
}

/** Reports every entry of `list` that repeats an earlier one (or is the reserved key). */
function noRepeats(list: unknown, u: Unique, out: CrossIssue[]): void {
  if (!Array.isArray(list)) return;
  const seen = new Map<string, number>();
  list.forEach((raw, j) => {
    const key = u.keyOf(raw);
    if (key === undefined) return;
    const first = seen.get(key);
    if (u.reserved && key === u.reserved.key) out.push({ path: u.at(j), expected: u.reserved.expected });
    else if (first !== undefined) out.push({ path: u.at(j), expected: u.repeated(first) });
    else seen.set(key, j);
  });
}

/**
 * Health keys: check names unique in the group (they name the check in logs, status and fault
 * reasons); tracked interfaces and ping nodes each listed once; the VIP interface is always
 * tracked, so listing it again is refused rather than silently merged.
 */
function checkHealth(g: Obj, i: number, out: CrossIssue[]): void {
  noRepeats(g.checks, {
    keyOf: (c) => {
      const n = asObj(c)?.name;
      return typeof n === 'string' && NAME_RE.test(n) ? n : undefined;
    },
    at: (j) => ['groups', i, 'checks', j, 'name'],
    repeated: (first) => `a check name not already used in this group (checks[${first}] has it)`,
  }, out);
  const vipIf = valid(g.interface, parseIfname);
  noRepeats(g.trackInterfaces, {
    keyOf: (v) => valid(v, parseIfname),
    at: (j) => ['groups', i, 'trackInterfaces', j],
    repeated: (first) => `an interface not already listed (same as trackInterfaces[${first}])`,
    ...(vipIf === undefined ? {} : { reserved: { key: vipIf, expected: `an interface other than the VIP interface (${vipIf} is always tracked)` } }),
  }, out);
  noRepeats(g.pingNodes, {
    keyOf: (v) => valid(v, parseIp)?.address,
    at: (j) => ['groups', i, 'pingNodes', j],
    repeated: (first) => `an address not already listed (same as pingNodes[${first}])`,
  }, out);
}

/**
 * Quorum counts a majority of the configured nodes, so the count must be known (unicast peers:
 * a multicast group says nothing about how many listen) and there must be a majority worth
 * keeping: in a pair, the survivor of a real failure would never take over.
 */
function checkQuorum(root: Obj, out: CrossIssue[]): void {
  if (root.quorum !== true) return;
  const hb = asObj(root.heartbeat);
  const entries = (Array.isArray(hb?.peers) ? hb.peers : []).map((raw) => valid(raw, parsePeerEntry)).filter((p) => p !== undefined);
  // Named peers count once per node however many paths they have.
  const names = new Set(entries.map((p) => p.node).filter((n) => n !== undefined));
  const peers = names.size > 0 ? names.size : entries.length;
  if (peers >= 2) return;
  const why = peers === 0 && hb?.multicast !== undefined ? 'with multicast alone the node count is unknown' : `heartbeat.peers names ${peers} node${peers === 1 ? '' : 's'}`;
  out.push({ path: ['quorum'], expected: `false, or 2+ peer nodes in heartbeat.peers: quorum needs at least 3 nodes (2 peers); ${why}` });
}

function checkGroups(groups: unknown[], out: CrossIssue[]): void {
  const names = new Map<string, number>();
  groups.forEach((raw, i) => {
    const g = asObj(raw);
    if (!g) return;
    if (typeof g.name === 'string' && NAME_RE.test(g.name)) {
      const first = names.get(g.name);
      if (first !== undefined) out.push({ path: ['groups', i, 'name'], expected: `a group name not already used (groups[${first}] has it)` });
      else names.set(g.name, i);
    }
    checkLevip(g, i, out);
    checkBgp(g, i, out);
    checkHealth(g, i, out);
    checkConfirm(g, i, asObj(g.confirm), out);
  });
  checkGroupVips(groups, out);
}

/** All cross-field issues of the raw document; `hostname` is the default node name. */
export function crossCheck(raw: unknown, hostname: string): CrossIssue[] {
  const out: CrossIssue[] = [];
  const root = asObj(raw);
  if (!root) return out;
  if (root.node === undefined && !NAME_RE.test(hostname)) {
    out.push({ path: ['node'], expected: `a node name; the host name ${JSON.stringify(hostname)} cannot be one, set node` });
  }
  const hb = asObj(root.heartbeat);
  if (hb) {
    checkTiming(hb, out);
    checkPeers(hb, typeof root.node === 'string' ? root.node : hostname, out);
  }
  if (Array.isArray(root.groups)) {
    checkGroups(root.groups, out);
    checkSyncUnits(root.groups, out);
  }
  const fit = heartbeatFitIssue(root, hostname);
  if (fit) out.push(fit);
  checkQuorum(root, out);
  const control = asObj(root.control);
  if (control?.statusSocket !== undefined && control.statusSocket === (control.socket ?? DEFAULTS.controlSocket)) {
    out.push({ path: ['control', 'statusSocket'], expected: 'a path other than control.socket' });
  }
  checkRoles(root, out);
  checkRealServer(root, out);
  return out;
}

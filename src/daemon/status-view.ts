/**
 * The status record: a pure projection of the core and driver counters. `haagent status
 * --json` prints exactly this object, so its keys are a stable interface for scripts:
 * add keys, never rename or remove them.
 */
import { vipCidr } from '../config/vip.js';
import { groupVips } from '../config/vip-device.js';
import type { CoreView } from '../core/read-view.js';
import type { GroupRt } from '../core/group.js';
import type { DriverStats } from './driver.js';
import type { DropReason } from '../wire/types.js';
import type { KeyView } from '../wire/keyring.js';
import { formatLevipStatus, type LevipGroupStatus } from '../levip/status.js';
import { formatBgpStatus, type BgpGroupStatus } from '../bgp/service.js';
import { printable, printableDeep } from '../printable.js';

export interface GroupStatus {
  name: string;
  state: string;
  /** the first VIP ("198.51.100.100/32"), as before groups had several. */
  vip: string;
  interface: string;
  /**
   * Every VIP of the group in the order written, with the interface it is on (`vip` first);
   * absent in records of agents without it.
   */
  vips?: { vip: string; interface: string }[];
  priority: number;
  advertisedPriority: number;
  preempt: boolean;
  vipPresent: boolean | null;
  activeNode: string | null;
  activeSinceMs: number | null;
  stateSinceMs: number;
  transitions: number;
  announcements: number;
  faultReason: string | null;
  lastVipError: string | null;
  operator: 'takeover' | 'standby' | null;
  /** health: why the node is ineligible (null: it is not), ping nodes reached, each check. */
  healthFault: string | null;
  /** what is not known yet (the node does not claim meanwhile). */
  healthPending: string | null;
  reach: number;
  checks: CheckStatus[];
  /** Duplicate address detections (`arping -D`) answered by another MAC while we held the VIP, and the last such answer. */
  conflicts: number;
  lastConflict: { macs: string[]; msAgo: number } | null;
  /** the sync unit the group fails over with (null: none). */
  sync: string | null;
  /**
   * The announcement check (src/core/confirm.ts): null when the group has no `confirm`
   * gateway; absent in records of agents without it.
   */
  confirm?: ConfirmStatus | null;
}

export interface ConfirmStatus {
  gateway: string;
  /**
   * idle: the group is not active with its VIPs here (no term); pending: probes running;
   * confirmed: the gateway answered from every IPv4 VIP; unconfirmed: it gave up.
   */
  state: 'idle' | 'pending' | 'confirmed' | 'unconfirmed';
  /** probe rounds of the current term (each unanswered one re-announced). */
  attempts: number;
  /** the gateway's last answer time. */
  lastLatencyMs: number | null;
  /** from the takeover to the answer that confirmed it (null: not confirmed). */
  confirmedAfterMs: number | null;
  lastError: string | null;
  /** probes asked over every term (what haagent_vip_confirm_probes_total counts). */
  probes: number;
}

export interface CheckStatus {
  name: string;
  type: string;
  state: string;
  /** "fault" or "-N" (priority lowered by N while failing). */
  effect: string;
  lastResult: string | null;
  lastMs: number | null;
}

export interface PeerStatus {
  node: string;
  address: string;
  port: number;
  alive: boolean;
  lastHeardMsAgo: number;
  bootId: string;
  received: number;
  groups: { name: string; state: string; priority: number; reach: number }[];
  /** every path the peer was heard on; a silent one is a warning, not a failover. */
  paths: { address: string; lastHeardMsAgo: number; alive: boolean }[];
  /** ICMP port unreachable errors for it that it refuted by answering (forged, or transient). */
  icmpRefuted: number;
  /** probe rounds it ended by being heard, and those after which it was declared dead (absent in records of agents without them). */
  probes?: { answered: number; unanswered: number };
}

export interface StatusRecord {
  node: string;
  cluster: string;
  pid: number;
  uptimeMs: number;
  maintenance: boolean;
  shuttingDown: boolean;
  groups: GroupStatus[];
  peers: PeerStatus[];
  /** `probesSent`: of `sent`, the probes (absent in records of agents without it). */
  heartbeats: { sent: number; received: number; sendErrors: number; probesSent?: number };
  dropped: Partial<Record<DropReason, number>>;
  /**
   * The heartbeat keys held (send key first; an accept key during a rotation), by key id,
   * with the datagrams each authenticated (absent in records of agents without it).
   */
  keys?: KeyStatus[];
  /** LevIP rotations (absent in records of agents without them). */
  levip?: LevipGroupStatus[];
  /** bgp groups: each VIP installed or not, and announced by the daemon or not (src/bgp/service.ts). */
  bgp?: BgpGroupStatus[];
}

/** A heartbeat key as status shows it: its id (src/wire/keyring.ts keyId), never the key. */
export interface KeyStatus {
  id: string;
  /** send: seals our heartbeats and is tried first; accept: only accepted (a rotation). */
  use: 'send' | 'accept';
  /** peer datagrams it authenticated since it was loaded. */
  authenticated: number;
  lastAuthenticatedMsAgo: number | null;
}

export interface StatusContext {
  cluster: string;
  pid: number;
  now: number;
  /** per group, the health checks' view (empty when the group has none). */
  checks?: (group: string) => CheckStatus[];
  /** the keys held (the driver's keyViews()). */
  keys?: KeyView[];
}

export function statusView(core: CoreView, stats: DriverStats, drops: Partial<Record<DropReason, number>>, ctx: StatusContext): StatusRecord {
  const now = ctx.now;
  const groups = core.groups.map((g): GroupStatus => ({
    name: g.name,
    state: g.state,
    vip: vipCidr(g.cfg.vip),
    interface: g.cfg.interface,
    vips: groupVips(g.cfg).map((p) => ({ vip: vipCidr(p.vip), interface: p.iface })),
    priority: g.cfg.priority,
    advertisedPriority: core.selfCandidate(g).priority,
    preempt: g.cfg.preempt,
    vipPresent: g.vipHave,
    activeNode: g.holder,
    activeSinceMs: g.holderSince === null ? null : now - g.holderSince,
    stateSinceMs: now - g.since,
    transitions: g.transitions,
    announcements: g.announcements,
    faultReason: g.faultReason,
    lastVipError: g.vipError,
    operator: g.boosted ? 'takeover' : g.demoted ? 'standby' : null,
    healthFault: g.healthFault,
    healthPending: g.healthPending,
    reach: g.reach,
    checks: ctx.checks?.(g.name) ?? [],
    conflicts: g.conflicts,
    lastConflict: g.lastConflict === null ? null : { macs: g.lastConflict.macs, msAgo: now - g.lastConflict.at },
    sync: g.cfg.sync ?? null,
    confirm: confirmStatus(g),
  }));
  const peers = core.peers.all().map((p): PeerStatus => ({
    node: p.node,
    address: p.address,
    port: p.port,
    alive: core.peers.isAlive(p, now),
    lastHeardMsAgo: now - p.lastHeard,
    bootId: p.bootId.toString(),
    received: stats.receivedByPeer.get(p.node) ?? 0,
    groups: [...p.groups.values()].map((g) => ({ name: g.name, state: g.state, priority: g.priority, reach: g.reach })),
    paths: p.paths.map((x) => ({ address: x.address, lastHeardMsAgo: now - x.lastHeard, alive: core.peers.pathAlive(p, x, now) })),
    icmpRefuted: p.refutedHints,
    probes: { answered: p.probesAnswered, unanswered: p.probesUnanswered },
  }));
  return {
    node: core.opts.node,
    cluster: ctx.cluster,
    pid: ctx.pid,
    uptimeMs: core.startedAt === null ? 0 : now - core.startedAt,
    maintenance: core.maintenance,
    shuttingDown: core.shuttingDown,
    groups,
    peers,
    heartbeats: { sent: stats.sent, received: stats.received, sendErrors: stats.sendErrors, probesSent: stats.probesSent },
    dropped: drops,
    ...(ctx.keys ? { keys: ctx.keys.map((k) => ({ id: k.id, use: k.use, authenticated: k.authenticated, lastAuthenticatedMsAgo: k.lastAt === null ? null : now - k.lastAt })) } : {}),
  };
}

function ago(ms: number | null): string {
  if (ms === null) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)}s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)}m`;
  return `${(ms / 3_600_000).toFixed(1)}h`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

function confirmStatus(g: Readonly<GroupRt>): ConfirmStatus | null {
  if (!g.cfg.confirm) return null;
  const c = g.confirm;
  const probes = g.confirmProbes;
  const gateway = g.cfg.confirm.gateway;
  if (c === null) return { gateway, state: 'idle', attempts: 0, lastLatencyMs: null, confirmedAfterMs: null, lastError: null, probes };
  const confirmedAfterMs = c.confirmedAt === null ? null : c.confirmedAt - c.since;
  return { gateway, state: c.state, attempts: c.attempts, lastLatencyMs: c.lastLatency, confirmedAfterMs, lastError: c.lastError, probes };
}

/** The NOTE column's words for the check: quiet once confirmed, loud when it gave up. */
function confirmNote(c: ConfirmStatus | null | undefined): string {
  if (!c || c.state === 'idle') return '';
  if (c.state === 'confirmed') return `confirmed by ${c.gateway}`;
  return `${c.state === 'pending' ? 'confirming' : 'UNCONFIRMED'} with ${c.gateway} (${c.attempts} attempts)`;
}

/**
 * The human form of `haagent status`. Every string of the record is escaped first
 * (printable()): peer and group names come from the network, so do the reasons that quote
 * them.
 */
export function formatStatus(record: StatusRecord): string {
  const s = printableDeep(record);
  const head = `node ${s.node}  cluster ${s.cluster}  pid ${s.pid}  up ${ago(s.uptimeMs)}` + (s.maintenance ? '  MAINTENANCE' : '') + (s.shuttingDown ? '  SHUTTING DOWN' : '');
  const g = [['GROUP', 'STATE', 'VIP', 'DEV', 'PRIO', 'ACTIVE NODE', 'SINCE', 'TRANSITIONS', 'NOTE']];
  for (const x of s.groups) {
    const conflict = x.conflicts > 0 ? `CONFLICTS ${x.conflicts} (last: ${x.lastConflict?.macs.join(',') ?? '?'})` : '';
    const waiting = x.healthPending ? `waiting: ${x.healthPending}` : '';
    const sync = x.sync ? `sync ${x.sync}` : '';
    const note = [x.faultReason ?? x.operator ?? '', waiting, conflict, confirmNote(x.confirm), sync].filter(Boolean).join('; ');
    g.push([x.name, x.state.toUpperCase(), vipsText(x), x.interface, String(x.advertisedPriority), x.activeNode ?? '(none)', ago(x.activeSinceMs), String(x.transitions), note]);
  }
  const checks = s.groups.flatMap((x) => x.checks.map((c) => [x.name, c.name, c.type, c.state.toUpperCase(), c.effect, c.lastResult ?? '-']));
  const c = [['GROUP', 'CHECK', 'TYPE', 'STATE', 'EFFECT', 'LAST RESULT'], ...checks];
  const p = [['PEER', 'PATHS (last heard)', 'ALIVE', 'LAST HEARD', 'GROUP STATES', 'BOOT ID']];
  for (const x of s.peers) {
    const paths = x.paths.map((q) => `${q.address} ${ago(q.lastHeardMsAgo)}${q.alive ? '' : ' SILENT'}`).join(', ');
    const alive = (x.alive ? 'yes' : 'NO') + (x.icmpRefuted > 0 ? ` (refuted ${x.icmpRefuted} ICMP unreachable)` : '');
    p.push([x.node, paths || x.address, alive, `${ago(x.lastHeardMsAgo)} ago`, x.groups.map((gg) => `${gg.name}=${gg.state}/${gg.priority}`).join(',') || '-', x.bootId]);
  }
  const drops = Object.entries(s.dropped).filter(([, n]) => (n ?? 0) > 0).map(([k, n]) => `${k}=${n}`).join(' ');
  const hb = `heartbeats sent ${s.heartbeats.sent}, received ${s.heartbeats.received}, send errors ${s.heartbeats.sendErrors}; dropped: ${drops || 'none'}`;
  const checkBlock = checks.length ? ['', table(c)] : [];
  const keys = s.keys?.length ? [formatKeys(s.keys)] : [];
  return [head, '', table(g), ...checkBlock, '', s.peers.length ? table(p) : 'no peer heard yet', '', hb, ...keys, ...(s.levip?.length ? ['', ...formatLevipStatus(s.levip)] : []), ...(s.bgp?.length ? ['', ...formatBgpStatus(s.bgp)] : []), ''].join('\n');
}

/**
 * The VIP column: every VIP, those on another interface than the group's (DEV) with theirs,
 * e.g. "198.51.100.100/32, 203.0.113.1/24 on eth1". A record without `vips` (an older agent's)
 * shows its one `vip`.
 */
function vipsText(g: Pick<GroupStatus, 'vip' | 'interface' | 'vips'>): string {
  if (!g.vips || g.vips.length === 0) return g.vip;
  return g.vips.map((v) => (v.interface === g.interface ? v.vip : `${v.vip} on ${v.interface}`)).join(', ');
}

/** E.g. "keys: send 1a2b3c4d (authenticated 1200, last 20ms ago), accept 5e6f7a8b (authenticated 0)". */
function formatKeys(keys: readonly KeyStatus[]): string {
  const one = (k: KeyStatus) => `${k.use} ${k.id} (authenticated ${k.authenticated}${k.lastAuthenticatedMsAgo === null ? '' : `, last ${ago(k.lastAuthenticatedMsAgo)} ago`})`;
  return `keys: ${keys.map(one).join(', ')}`;
}

/**
 * One line for systemd's STATUS= (`systemctl status haagent`): each group's state, with the
 * holder when it is a peer. E.g. "web active 198.51.100.100/24; db standby (active: d1)"; a
 * group with several VIPs shows them comma-separated ("nat active 198.51.100.100/32,203.0.113.1/24").
 * The holder's name comes from the network: escaped (printable()), as `systemctl status` prints it.
 */
export function serviceStatusLine(groups: readonly { name: string; state: string; vip: string; activeNode: string | null }[], self: string): string {
  if (groups.length === 0) return 'no groups';
  return groups
    .map((g) => {
      const name = printable(g.name);
      if (g.state === 'active') return `${name} active ${printable(g.vip)}`;
      const holder = g.activeNode !== null && g.activeNode !== self ? ` (active: ${printable(g.activeNode)})` : '';
      return `${name} ${g.state}${holder}`;
    })
    .join('; ');
}

/**
 * One vrrp_instance as one haagent group, plus what the instance says about the node-wide
 * heartbeat (advert_int, its dead time, the unicast source and peers), which the caller
 * merges across instances (keepalived-map.ts). Pure.
 *
 * Dead time. A keepalived backup declares the master down after down_timer_adverts (3)
 * advert intervals plus a skew that depends on its own priority: (256 - priority) / 256 of a
 * second in VRRPv2, of an advert interval in VRRPv3 (always v3 for IPv6).
 */
import { LIMITS } from '../config/limits.js';
import { ifnameOf, ipArg, readPeers, readVips, type Endpoint, type VipEntry } from './keepalived-addresses.js';
import type { KaStatement } from './keepalived-parse.js';
import { NOTIFY_KEYS, notifyHook, safeName, trackScripts, type NotifyKey, type ScriptDef } from './keepalived-scripts.js';
import { dropKey, garpKey, type Garp } from './keepalived-keys.js';
import { clamp, formatSeconds, integerArg, secondsArg } from './keepalived-values.js';
import type { Report } from './report.js';

export interface InstanceContext {
  scripts: ReadonlyMap<string, ScriptDef>;
  /** instance name -> the sync group whose weighted trackers keepalived ignores. */
  weightsIgnored: ReadonlyMap<string, string>;
  /** instance name -> the haagent sync unit of its vrrp_sync_group. */
  syncUnits: ReadonlyMap<string, string>;
  /** global_defs vrrp_version (2 unless set). */
  version: number;
  /** global_defs vrrp_garp_* values, for instances that set none. */
  garp: Garp;
  /** group names given so far (each instance adds its own). */
  names: Set<string>;
}

export interface InstanceDraft {
  name: string;
  line: number;
  /** the group in haagent.yaml's shape; null when the instance cannot be one (no VIP, no interface). */
  group: Record<string, unknown> | null;
  vrid: number | null;
  advertMs: number;
  /** the line of advert_int, or of the instance when it uses the default. */
  advertLine: number;
  deadMs: number;
  bind: Endpoint | null;
  peers: Endpoint[];
}

/** What the instance's statements say, before they become a group. */
interface Read {
  state: KaStatement | null;
  iface: string | null;
  vrid: number | null;
  priority: KaStatement | null;
  advertMs: number;
  advertLine: number;
  preempt: KaStatement | null;
  preemptDelayMs: number | null;
  version: number | null;
  downTimer: number;
  vips: VipEntry[];
  trackIfs: string[];
  dontTrackPrimary: boolean;
  trackScript: KaStatement[];
  notify: (KaStatement & { key: NotifyKey })[];
  bind: Endpoint | null;
  peers: Endpoint[];
  garp: Garp;
}

function read(s: KaStatement, report: Report): Read {
  const r: Read = {
    state: null, iface: null, vrid: null, priority: null, advertMs: 1000, advertLine: s.line, preempt: null, preemptDelayMs: null,
    version: null, downTimer: 3, vips: [], trackIfs: [], dontTrackPrimary: false, trackScript: [], notify: [], bind: null, peers: [], garp: {},
  };
  for (const k of s.block ?? []) {
    const block = k.block ?? [];
    switch (k.key) {
      case 'state':
        if (k.args[0] === 'MASTER' || k.args[0] === 'BACKUP') r.state = k;
        else report.error(k.line, `state: got "${k.args[0] ?? ''}", expected MASTER or BACKUP`);
        break;
      case 'interface': r.iface = ifnameOf(k.args[0], k.line, 'interface', report); break;
      case 'virtual_router_id': r.vrid = integerArg(k, report, 1, 255); break;
      case 'priority': if (integerArg(k, report, 1, 255) !== null) r.priority = k; break;
      case 'advert_int': r.advertMs = secondsArg(k, report, 0.01, 255) ?? r.advertMs; r.advertLine = k.line; break;
      case 'nopreempt': r.preempt = k; break;
      case 'preempt': break;
      case 'preempt_delay': r.preemptDelayMs = secondsArg(k, report, 0, 1000); break;
      case 'version': r.version = integerArg(k, report, 2, 3); break;
      case 'down_timer_adverts': r.downTimer = integerArg(k, report, 1, 100) ?? 3; break;
      case 'virtual_ipaddress': r.vips.push(...readVips(block, report)); break;
      case 'track_interface':
        for (const e of block) {
          const weight = e.args[e.args.indexOf('weight') + 1];
          if (e.args.includes('weight') && weight !== '0') report.dropped(e.line, `track_interface ${e.key} ${e.args.join(' ')}`, 'haagent has no weighted interface: a tracked interface that goes down puts the group in fault');
          else if (ifnameOf(e.key, e.line, 'track_interface', report)) r.trackIfs.push(e.key);
        }
        break;
      case 'dont_track_primary':
        r.dontTrackPrimary = true;
        report.dropped(k.line, k.key, 'haagent always tracks the VIP\'s interface: a link down puts the group in fault');
        break;
      // keepalived adds these with the others but leaves them out of its adverts; haagent's
      // heartbeat names no VIP, so they are simply more VIPs of the group.
      case 'virtual_ipaddress_excluded': r.vips.push(...readVips(block, report)); break;
      case 'track_script': r.trackScript.push(...block); break;
      case 'unicast_src_ip':
      case 'mcast_src_ip': r.bind = ipArg(k, report) ?? r.bind; break;
      case 'unicast_peer': r.peers.push(...readPeers(block, report)); break;
      default:
        if ((NOTIFY_KEYS as readonly string[]).includes(k.key)) r.notify.push(k as KaStatement & { key: NotifyKey });
        else if (!garpKey(k, r.garp, report)) dropKey(k, report);
    }
  }
  return r;
}

/** keepalived's master-down interval for this instance, in whole milliseconds. */
function deadTime(r: Read, priority: number): number {
  const v3 = r.version === 3 || r.vips[0]?.family === 6;
  const skew = v3 ? ((256 - priority) * r.advertMs) / 256 : ((256 - priority) * 1000) / 256;
  return Math.round(r.downTimer * r.advertMs + skew);
}

/** The notes on `state`: haagent elects by priority only, so say where keepalived's state mattered. */
function stateNotes(r: Read, report: Report): void {
  const s = r.state;
  if (!s) return;
  const why = 'haagent has no initial state: it elects by priority (ties go to the node name that sorts first)';
  if (!r.priority) report.differs(s.line, `state ${s.args[0]}`, `${why}, and this instance sets no priority (100 on both nodes?): give the intended master the higher priority`);
  if (s.args[0] !== 'MASTER') return;
  if (r.preempt) report.differs(s.line, 'state MASTER', `keepalived ignores nopreempt with state MASTER; ${why} and applies preempt: false whatever the state`);
  else if (r.preemptDelayMs !== null) report.differs(s.line, 'state MASTER', `keepalived ignores preempt_delay with state MASTER; ${why} and applies the delay`);
}

/** `vip:` for one VIP on the group's interface, else `vips:` (those elsewhere with theirs). */
function vipKeys(vips: readonly VipEntry[], iface: string): Record<string, unknown> {
  const entry = (v: VipEntry) => (v.dev === null || v.dev === iface ? v.cidr : { address: v.cidr, interface: v.dev });
  const only = vips.length === 1 ? entry(vips[0]!) : null;
  return typeof only === 'string' ? { vip: only } : { vips: vips.map(entry) };
}

function group(r: Read, s: KaStatement, ctx: InstanceContext, report: Report): Record<string, unknown> | null {
  const name = s.args[0] ?? '';
  const first = r.vips[0];
  if (!first) {
    report.dropped(s.line, `vrrp_instance ${name}`, 'it has no virtual_ipaddress, and a haagent group needs a VIP');
    return null;
  }
  // The group's interface is where its VIPs go: their common dev, else keepalived's own.
  const iface = first.dev !== null && r.vips.every((v) => v.dev === first.dev) ? first.dev : (r.iface ?? first.dev);
  if (iface === null) {
    report.dropped(s.line, `vrrp_instance ${name}`, 'neither interface nor a dev on its VIP: haagent needs the interface the VIP goes on');
    return null;
  }
  const groupName = safeName(name, ctx.names);
  if (groupName !== name) report.differs(s.line, `vrrp_instance ${name}`, `the group is named ${groupName} (a haagent name is 1..63 of A-Z a-z 0-9 _ . -)`);
  const tracked = trackScripts(r.trackScript, ctx.scripts, ctx.weightsIgnored.get(name) ?? null, report);
  const base = Number(r.priority?.args[0] ?? 100);
  const priority = clamp(base + tracked.boost, LIMITS.priority);
  const at = r.priority?.line ?? s.line;
  if (base === 255) report.differs(at, 'priority 255', 'keepalived\'s address owner becomes 254, haagent\'s highest; the owner took over at start without waiting, haagent listens for initDead first');
  else if (priority !== base + tracked.boost) report.differs(at, `priority ${base}`, `${base + tracked.boost} with the positive weights added is above haagent's highest: 254 used`);
  const hooks = r.notify.map((n) => notifyHook(n, name, priority, report)).filter((h): h is string[] => h !== null);
  // haagent always tracks the VIP's interface; keepalived tracked its own `interface` too.
  const others = !r.dontTrackPrimary && r.iface !== null ? [r.iface, ...r.trackIfs] : r.trackIfs;
  // Every VIP's interface is tracked already.
  const trackInterfaces = [...new Set(others)].filter((i) => i !== iface && !r.vips.some((v) => v.dev === i));
  const g: Record<string, unknown> = { name: groupName, ...vipKeys(r.vips, iface), interface: iface, priority };
  const unit = ctx.syncUnits.get(name);
  if (unit !== undefined) g.sync = unit;
  if (r.preempt) g.preempt = false;
  else if (r.preemptDelayMs !== null) g.preemptDelay = formatSeconds(r.preemptDelayMs);
  const garp = { ...ctx.garp, ...r.garp };
  if (Object.keys(garp).length > 0) g.garp = garp;
  if (hooks.length > 0) g.notify = hooks;
  if (tracked.checks.length > 0) g.checks = tracked.checks;
  if (trackInterfaces.length > 0) g.trackInterfaces = trackInterfaces;
  stateNotes(r, report);
  return g;
}

/** Reads one vrrp_instance block. */
export function readInstance(s: KaStatement, ctx: InstanceContext, report: Report): InstanceDraft {
  const r = read(s, report);
  return {
    name: s.args[0] ?? '',
    line: s.line,
    group: group(r, s, ctx, report),
    vrid: r.vrid,
    advertMs: r.advertMs,
    advertLine: r.advertLine,
    deadMs: deadTime(r, Number(r.priority?.args[0] ?? 100)),
    bind: r.bind,
    peers: r.peers,
  };
}

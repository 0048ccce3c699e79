/**
 * A parsed keepalived.conf as a haagent.yaml document (a plain object in the file's shape):
 * global_defs, vrrp_script and vrrp_sync_group are read first, since instances refer to
 * them; each vrrp_instance becomes a group (keepalived-instance.ts); what keepalived sets
 * per instance but haagent per node (the heartbeat's interval, dead time, source and peers)
 * is merged here. Everything else is listed on the report. Pure.
 */
import { NAME_RE, type IpAddress } from '../config/fields.js';
import { LIMITS } from '../config/limits.js';
import type { Endpoint } from './keepalived-addresses.js';
import { readInstance, type InstanceContext, type InstanceDraft } from './keepalived-instance.js';
import { dropKey, garpKey, type Garp } from './keepalived-keys.js';
import type { KaStatement } from './keepalived-parse.js';
import { readScript, safeName, type ScriptDef } from './keepalived-scripts.js';
import { clamp, formatSeconds, integerArg } from './keepalived-values.js';
import type { Report } from './report.js';

export interface MapOptions {
  /** the node name (--node); else global_defs router_id; else none (haagent uses the host name). */
  node?: string;
}

/** haagent's heartbeat multicast groups when keepalived used VRRP's (drilled in test/netns). */
export const MULTICAST = { 4: '239.255.6.94', 6: 'ff02::6:94' } as const;

interface Globals {
  routerId: KaStatement | null;
  version: number;
  garp: Garp;
}

function readGlobals(s: KaStatement, g: Globals, report: Report): void {
  for (const k of s.block ?? []) {
    if (k.key === 'router_id') g.routerId = k;
    else if (k.key === 'vrrp_version') g.version = integerArg(k, report, 2, 3) ?? g.version;
    // haagent applies script security to every hook and check, always.
    else if (k.key === 'enable_script_security') continue;
    else if (!garpKey(k, g.garp, report)) dropKey(k, report);
  }
}

/** A vrrp_sync_group's members, as a haagent sync unit. */
interface SyncUnit {
  unit: string;
  line: number;
  members: string[];
}

/**
 * A sync group becomes a sync unit (`sync:` on each member group); its members' weighted
 * trackers are noted, since keepalived ignores them there, and its other keys are listed.
 */
function readSyncGroup(s: KaStatement, ignored: Map<string, string>, units: SyncUnit[], report: Report): void {
  const name = s.args[0] ?? '';
  const block = s.block ?? [];
  const members = block.filter((k) => k.key === 'group').flatMap((k) => (k.block ?? []).map((m) => m.key));
  const unit = safeName(name, new Set(units.map((u) => u.unit)));
  if (unit !== name) report.differs(s.line, `vrrp_sync_group ${name}`, `the sync unit is named ${unit} (a haagent name is 1..63 of A-Z a-z 0-9 _ . -)`);
  units.push({ unit, line: s.line, members });
  const weights = block.some((k) => k.key === 'sync_group_tracking_weight');
  for (const m of members) if (!weights) ignored.set(m, name);
  for (const k of block) {
    if (k.key !== 'group' && k.key !== 'sync_group_tracking_weight') report.dropped(k.line, [k.key, ...k.args].join(' '), `part of vrrp_sync_group ${name}: haagent runs each member group's own hooks, none for the unit`);
  }
}

/** A unit needs two converted members; a unit left with fewer is taken off (and listed). */
function syncMembers(units: readonly SyncUnit[], drafts: readonly InstanceDraft[], report: Report): void {
  for (const u of units) {
    const groups = drafts.filter((d) => u.members.includes(d.name)).map((d) => d.group!);
    if (groups.length >= 2) continue;
    for (const g of groups) delete g.sync;
    report.dropped(u.line, `vrrp_sync_group ${u.unit}`, `${String(groups.length)} of its instances became a group, and a haagent sync unit needs two`);
  }
}

/** The node-wide heartbeat from every converted instance. */
function heartbeat(drafts: InstanceDraft[], report: Report): Record<string, unknown> {
  const interval = Math.min(...drafts.map((d) => d.advertMs));
  const dead = Math.min(...drafts.map((d) => d.deadMs));
  for (const d of drafts) {
    if (d.advertMs === interval && d.deadMs === dead) continue;
    const here = `advert_int ${formatSeconds(d.advertMs)}, master down after ${formatSeconds(d.deadMs)}`;
    report.differs(d.advertLine, `vrrp_instance ${d.name}`, `the heartbeat is node-wide in haagent: every group uses the smallest advert_int, ${formatSeconds(interval)}, and the shortest master-down interval, ${formatSeconds(dead)} (here ${here})`);
  }
  const hbInterval = clamp(interval, LIMITS.interval);
  if (hbInterval !== interval) report.differs(drafts[0]!.advertLine, 'advert_int', `haagent's heartbeat interval is 10ms..10s: ${formatSeconds(hbInterval)} used`);
  const deadTime = clamp(dead, { min: LIMITS.deadTimeMinFactor * hbInterval, max: LIMITS.deadTime.max });
  const hb: Record<string, unknown> = {};
  const bind = drafts.find((d) => d.bind !== null)?.bind ?? null;
  for (const d of drafts) {
    if (d.bind && d.bind.ip.address !== bind!.ip.address) report.dropped(d.bind.line, `source ${d.bind.ip.address}`, `haagent binds one heartbeat address per node: ${bind!.ip.address} (line ${bind!.line}) is used`);
  }
  if (bind) hb.bind = bind.ip.address;
  const peers = peerList(drafts, bind?.ip ?? null, report);
  if (peers.length > 0) {
    hb.peers = peers.map((p) => p.ip.address);
    report.differs(peers[0]!.line, 'unicast_peer', 'the peers are written as addresses alone: name each ({ node: NAME, address: ADDR }, its node: setting) so that only that node may speak from there');
    for (const d of drafts.filter((x) => x.peers.length === 0)) {
      report.differs(d.line, `vrrp_instance ${d.name}`, 'it used multicast, but haagent has one heartbeat for the node: its peers must be in heartbeat.peers');
    }
  } else {
    const family = bind?.ip.family ?? 4;
    hb.multicast = MULTICAST[family];
    report.differs(drafts[0]!.line, 'VRRP multicast', `haagent's heartbeats go to UDP port 694 of multicast group ${MULTICAST[family]}, not as VRRP (IP protocol 112) to the VRRP group: let them through the firewall`);
  }
  hb.interval = formatSeconds(hbInterval);
  hb.deadTime = formatSeconds(deadTime);
  return hb;
}

/** Every instance's unicast peers once, in the heartbeat socket's one address family. */
function peerList(drafts: InstanceDraft[], bind: IpAddress | null, report: Report): Endpoint[] {
  const out: Endpoint[] = [];
  const family = bind?.family ?? drafts.flatMap((d) => d.peers)[0]?.ip.family;
  for (const p of drafts.flatMap((d) => d.peers)) {
    if (out.some((o) => o.ip.address === p.ip.address)) continue;
    if (p.ip.family !== family) report.dropped(p.line, p.ip.address, `the heartbeat socket is IPv${family}: one address family for the source and every peer`);
    else out.push(p);
  }
  return out;
}

/** Groups with a VIP an earlier group already has are left out: haagent refuses a shared VIP. */
function uniqueVips(drafts: InstanceDraft[], report: Report): InstanceDraft[] {
  const seen = new Map<string, string>();
  return drafts.filter((d) => {
    const g = d.group!;
    const vips = (g.vips as unknown[] | undefined) ?? [g.vip];
    const addresses = vips.map((v) => String(typeof v === 'string' ? v : (v as { address: string }).address).split('/')[0]!);
    const taken = addresses.find((a) => seen.has(a));
    if (taken !== undefined) {
      report.dropped(d.line, `vrrp_instance ${d.name}`, `its VIP ${taken} is already vrrp_instance ${seen.get(taken)!}'s, and two haagent groups never share a VIP`);
      return false;
    }
    for (const a of addresses) seen.set(a, d.name);
    return true;
  });
}

/** The node name: --node, else a valid router_id, else none. */
function nodeName(opts: MapOptions, routerId: KaStatement | null, report: Report): string | null {
  if (opts.node !== undefined) return opts.node;
  const id = routerId?.args[0];
  if (!routerId || id === undefined) return null;
  if (NAME_RE.test(id)) return id;
  report.dropped(routerId.line, `router_id ${id}`, 'not a haagent node name (1..63 of A-Z a-z 0-9 _ . -): the node name is left to the host name; set node: or pass --node');
  return null;
}

/** The document, or null when nothing could become a group (the report then holds an error). */
export function mapKeepalived(statements: readonly KaStatement[], opts: MapOptions, report: Report): Record<string, unknown> | null {
  const globals: Globals = { routerId: null, version: 2, garp: {} };
  const scripts = new Map<string, ScriptDef>();
  const ignored = new Map<string, string>();
  const units: SyncUnit[] = [];
  for (const s of statements) {
    if (s.key === 'global_defs') readGlobals(s, globals, report);
    else if (s.key === 'vrrp_script') {
      const def = readScript(s, report);
      if (def) scripts.set(def.name, def);
    } else if (s.key === 'vrrp_sync_group') readSyncGroup(s, ignored, units, report);
  }
  const syncUnits = new Map(units.flatMap((u) => u.members.map((m) => [m, u.unit] as const)));
  const ctx: InstanceContext = { scripts, weightsIgnored: ignored, syncUnits, version: globals.version, garp: globals.garp, names: new Set() };
  const drafts: InstanceDraft[] = [];
  for (const s of statements) {
    if (s.key === 'vrrp_instance') drafts.push(readInstance(s, ctx, report));
    else if (!['global_defs', 'vrrp_script', 'vrrp_sync_group'].includes(s.key)) dropKey(s, report);
  }
  const converted = uniqueVips(drafts.filter((d) => d.group !== null), report);
  syncMembers(units, converted, report);
  if (converted.length === 0) {
    // After other errors this would only repeat them: an instance with a bad VIP has none.
    if (report.errors.length === 0) report.error(drafts[0]?.line ?? 1, 'a vrrp_instance with a virtual_ipaddress and an interface: there is nothing for haagent to run');
    return null;
  }
  const vrids = converted.map((d) => d.vrid).filter((v): v is number => v !== null);
  const doc: Record<string, unknown> = {};
  const node = nodeName(opts, globals.routerId, report);
  if (node !== null) doc.node = node;
  // The same on both directors when both files use the same virtual_router_ids.
  doc.cluster = vrids.length > 0 ? `keepalived-vrid-${Math.min(...vrids)}` : 'keepalived';
  doc.heartbeat = heartbeat(converted, report);
  doc.groups = converted.map((d) => d.group);
  return doc;
}

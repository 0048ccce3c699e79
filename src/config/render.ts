/**
 * Text for operators: validation issues in the compiler-style "file:line:col: ..." form that
 * editors jump to, and the effective configuration as YAML in the same shape the file uses
 * (so it can be diffed against, or loaded back as, a configuration file).
 */
import { vipCidr } from './vip.js';
import { groupVips } from './vip-device.js';
import { Document, isSeq } from 'yaml';
import { formatDuration } from './duration.js';
import { formatMode, formatPeer } from './fields.js';
import type { CheckSpec } from '../health/types.js';
import type { Config, ConfigIssue, GroupConfig, PeerAddress } from './types.js';
import { renderRealServer } from './realserver.js';
import { renderBgp } from './bgp.js';

/** `haagent.yaml:14:10: groups[0].vip: got "198.51.100.300/32", expected ...`, one per line. */
export function formatIssue(file: string, issue: ConfigIssue): string {
  const where = issue.line === undefined ? file : `${file}:${issue.line}:${issue.column ?? 1}`;
  const got = issue.value === undefined ? '' : `got ${issue.value}, `;
  return `${where}: ${issue.path}: ${got}expected ${issue.expected}`;
}

/** Every issue, one per line, without a trailing newline. */
export function formatIssues(file: string, issues: readonly ConfigIssue[]): string {
  return issues.map((i) => formatIssue(file, i)).join('\n');
}

function renderGroup(g: GroupConfig): Record<string, unknown> {
  const group: Record<string, unknown> = {
    name: g.name,
    mode: g.mode ?? 'failover',
  };
  if (g.levip) {
    const l = g.levip;
    group.levip = { period: formatDuration(l.period), guard: formatDuration(l.guard), repeat: formatDuration(l.repeat), weight: l.weight };
  }
  if (g.bgp) group.bgp = renderBgp(g.bgp);
  Object.assign(group, {
    ...renderVips(g),
    interface: g.interface,
    priority: g.priority,
    preempt: g.preempt,
    preemptDelay: formatDuration(g.preemptDelay),
    ...(g.sync !== undefined ? { sync: g.sync } : {}),
    // A bgp group sends no ARP (and refuses the key).
    ...(g.mode === 'bgp'
      ? {}
      : { garp: { count: g.garp.count, spacing: formatDuration(g.garp.spacing), form: g.garp.form, refresh: formatDuration(g.garp.refresh) } }),
    ...(g.confirm ? { confirm: { gateway: g.confirm.gateway, attempts: g.confirm.attempts } } : {}),
  });
  // Like heartbeat.peers: an empty list is the default and would only be noise.
  if (g.notify && g.notify.length > 0) group.notify = g.notify;
  if (g.checks && g.checks.length > 0) group.checks = g.checks.map(renderCheck);
  if (g.trackInterfaces && g.trackInterfaces.length > 0) group.trackInterfaces = g.trackInterfaces;
  if (g.pingNodes && g.pingNodes.length > 0) group.pingNodes = g.pingNodes;
  return group;
}

/** `vip:` for one VIP on the group's interface (the common form), `vips:` otherwise. */
function renderVips(g: GroupConfig): Record<string, unknown> {
  const vips = groupVips(g);
  const only = vips.length === 1 ? vips[0] : undefined;
  if (only && only.iface === g.interface) return { vip: vipCidr(only.vip) };
  return { vips: vips.map((p) => (p.iface === g.interface ? vipCidr(p.vip) : { address: vipCidr(p.vip), interface: p.iface })) };
}

/** name, type, the type's own keys, then the common ones: the order docs/health.md uses. */
function renderCheck(c: CheckSpec): Record<string, unknown> {
  const out: Record<string, unknown> = { name: c.name, type: c.type };
  if (c.type === 'http') {
    out.url = c.url;
    // null means "any 2xx" / "body not read": the absent key says exactly that when loaded back.
    if (c.expectStatus !== null) out.expectStatus = c.expectStatus;
    if (c.expectBody !== null) out.expectBody = c.expectBody;
    out.insecure = c.insecure;
  } else if (c.type === 'tcp') {
    Object.assign(out, { host: c.host, port: c.port });
  } else if (c.type === 'exec') {
    out.command = c.command;
  } else {
    out.host = c.host;
  }
  return Object.assign(out, {
    interval: formatDuration(c.interval),
    timeout: formatDuration(c.timeout),
    rise: c.rise,
    fall: c.fall,
    weight: c.weight,
    holdDown: formatDuration(c.holdDown),
  });
}

/** What flowLists needs of the groups: their checks (a Config's, or a file-shaped object's). */
export interface FlowGroup {
  checks?: readonly unknown[] | undefined;
}

/** Lists of short scalars (argvs, interfaces, addresses) on one line, as the operator writes them. */
function flowLists(out: Document, groups: readonly FlowGroup[]): void {
  const paths: unknown[][] = [['notify'], ['realserver', 'vips']];
  groups.forEach((g, i) => {
    paths.push(['groups', i, 'notify'], ['groups', i, 'trackInterfaces'], ['groups', i, 'pingNodes']);
    g.checks?.forEach((_, j) => paths.push(['groups', i, 'checks', j, 'command']));
  });
  for (const path of paths) {
    const list = out.getIn(path, true);
    if (!isSeq(list)) continue;
    // notify is a list of argvs: one argv per line, each on one line.
    if (path.at(-1) !== 'notify') list.flow = true;
    else for (const hook of list.items) if (isSeq(hook)) hook.flow = true;
  }
}

/**
 * A file-shaped object as YAML text, in the one style every file haagent writes uses
 * (check-config's effective configuration, import-keepalived's conversion); `comment` goes
 * above the first key, each of its lines as a `#` comment.
 */
export function renderYaml(doc: Record<string, unknown>, groups: readonly FlowGroup[], comment?: string): string {
  const out = new Document(doc);
  flowLists(out, groups);
  if (comment !== undefined) out.commentBefore = comment.split('\n').map((l) => (l === '' ? '' : ` ${l}`)).join('\n');
  return out.toString({ lineWidth: 0, flowCollectionPadding: false });
}

/**
 * The effective configuration, defaults included, durations written back as "100ms"/"2s".
 * A real server's file (no groups) gets no director keys, so that it loads back as it was.
 */
export function renderEffectiveConfig(config: Config): string {
  const doc: Record<string, unknown> = config.director
    ? directorDoc(config)
    : { node: config.node, logLevel: config.logLevel, logFormat: config.logFormat, stateDir: config.stateDir, control: renderControl(config) };
  if (config.realserver !== null) doc.realserver = renderRealServer(config.realserver);
  return renderYaml(doc, config.groups);
}

function renderControl(config: Config): Record<string, unknown> {
  const c = config.control;
  const out: Record<string, unknown> = { socket: c.socket, mode: formatMode(c.mode) };
  if (c.statusSocket !== null) Object.assign(out, { statusSocket: c.statusSocket, statusMode: formatMode(c.statusMode) });
  return out;
}

function renderPeer(p: PeerAddress): unknown {
  if (p.node === null) return formatPeer(p.address, p.port);
  const out: Record<string, unknown> = { node: p.node, address: formatPeer(p.address, p.port) };
  if (p.bind !== undefined) out.bind = p.bind;
  return out;
}

function directorDoc(config: Config): Record<string, unknown> {
  const hb = config.heartbeat;
  const heartbeat: Record<string, unknown> = {};
  if (hb.bind !== null) heartbeat.bind = hb.bind;
  heartbeat.port = hb.port;
  if (hb.peers.length > 0) heartbeat.peers = hb.peers.map(renderPeer);
  if (hb.multicast !== null) heartbeat.multicast = hb.multicast;
  Object.assign(heartbeat, {
    interval: formatDuration(hb.interval),
    deadTime: formatDuration(hb.deadTime),
    initDead: formatDuration(hb.initDead),
    keyFile: hb.keyFile,
  });
  if (hb.acceptKeyFile !== null) heartbeat.acceptKeyFile = hb.acceptKeyFile;
  const doc: Record<string, unknown> = {
    node: config.node,
    cluster: config.cluster,
    logLevel: config.logLevel,
    logFormat: config.logFormat,
    stateDir: config.stateDir,
    realtime: config.realtime,
    heartbeat,
    quorum: config.quorum ?? false,
    control: renderControl(config),
  };
  if (config.notify.length > 0) doc.notify = config.notify;
  doc.notifyTimeout = formatDuration(config.notifyTimeout);
  const listen = config.metrics.listen;
  if (listen !== null) doc.metrics = { listen: formatPeer(listen.host, listen.port) };
  doc.groups = config.groups.map(renderGroup);
  return doc;
}

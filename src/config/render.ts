/**
 * Text for operators: validation issues in the compiler-style "file:line:col: ..." form that
 * editors jump to, and the effective configuration as YAML in the same shape the file uses
 * (so it can be diffed against, or loaded back as, a configuration file).
 */
import { Document, isSeq } from 'yaml';
import { formatDuration } from './duration.js';
import { formatMode, formatPeer } from './fields.js';
import type { Config, ConfigIssue, GroupConfig } from './types.js';

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
  Object.assign(group, {
    vip: `${g.vip.address}/${g.vip.prefix}`,
    interface: g.interface,
    priority: g.priority,
    preempt: g.preempt,
    preemptDelay: formatDuration(g.preemptDelay),
    garp: {
      count: g.garp.count,
      spacing: formatDuration(g.garp.spacing),
      form: g.garp.form,
      refresh: formatDuration(g.garp.refresh),
    },
  });
  // Like heartbeat.peers: an empty list is the default and would only be noise.
  if (g.notify && g.notify.length > 0) group.notify = g.notify;
  return group;
}

/** The effective configuration, defaults included, durations written back as "100ms"/"2s". */
export function renderEffectiveConfig(config: Config): string {
  const hb = config.heartbeat;
  const heartbeat: Record<string, unknown> = {};
  if (hb.bind !== null) heartbeat.bind = hb.bind;
  heartbeat.port = hb.port;
  if (hb.peers.length > 0) heartbeat.peers = hb.peers.map((p) => formatPeer(p.address, p.port));
  if (hb.multicast !== null) heartbeat.multicast = hb.multicast;
  Object.assign(heartbeat, {
    interval: formatDuration(hb.interval),
    deadTime: formatDuration(hb.deadTime),
    initDead: formatDuration(hb.initDead),
    keyFile: hb.keyFile,
  });
  const doc: Record<string, unknown> = {
    node: config.node,
    cluster: config.cluster,
    logLevel: config.logLevel,
    stateDir: config.stateDir,
    heartbeat,
    control: { socket: config.control.socket, mode: formatMode(config.control.mode) },
  };
  if (config.notify.length > 0) doc.notify = config.notify;
  doc.notifyTimeout = formatDuration(config.notifyTimeout);
  const listen = config.metrics.listen;
  if (listen !== null) doc.metrics = { listen: formatPeer(listen.host, listen.port) };
  doc.groups = config.groups.map(renderGroup);
  const out = new Document(doc);
  // One hook per line, as the operator writes it: [/usr/local/bin/x, --site, a].
  const hookLists = [['notify'], ...config.groups.map((_, i) => ['groups', i, 'notify'])];
  for (const path of hookLists) {
    const list = out.getIn(path, true);
    if (isSeq(list)) for (const hook of list.items) if (isSeq(hook)) hook.flow = true;
  }
  return out.toString({ lineWidth: 0, flowCollectionPadding: false });
}

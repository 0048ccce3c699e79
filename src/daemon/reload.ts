/**
 * Which settings a reload cannot change in a running agent (pure). Node identity, cluster,
 * the heartbeat socket, the key and the control socket belong to the process; changing
 * them live would mean a new identity or a new socket, which is a restart.
 */
import type { Config } from '../config/types.js';

export function restartOnlyChanges(a: Config, b: Config): string[] {
  const out: string[] = [];
  const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);
  if (a.node !== b.node) out.push('node');
  if (a.cluster !== b.cluster) out.push('cluster');
  if (a.heartbeat.bind !== b.heartbeat.bind) out.push('heartbeat.bind');
  if (a.heartbeat.port !== b.heartbeat.port) out.push('heartbeat.port');
  if (!same(a.heartbeat.peers, b.heartbeat.peers)) out.push('heartbeat.peers');
  if (a.heartbeat.multicast !== b.heartbeat.multicast) out.push('heartbeat.multicast');
  if (a.heartbeat.keyFile !== b.heartbeat.keyFile) out.push('heartbeat.keyFile');
  if (!same(a.control, b.control)) out.push('control');
  if (a.stateDir !== b.stateDir) out.push('stateDir');
  if (!same(a.metrics, b.metrics)) out.push('metrics');
  if (a.quorum !== b.quorum) out.push('quorum');
  // Health checks run in a monitor built at start; rebuilding it live is future work.
  const checks = (c: Config) => c.groups.map((g) => [g.name, g.checks ?? [], g.trackInterfaces ?? [], g.pingNodes ?? []]);
  if (!same(checks(a), checks(b))) out.push('groups[].checks/trackInterfaces/pingNodes');
  return out;
}

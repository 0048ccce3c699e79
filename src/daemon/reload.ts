/**
 * A reload's checks: which settings a reload cannot change in a running agent (pure: node
 * identity, cluster, the heartbeat socket, the key and the control socket belong to the
 * process; changing them live would mean a new identity or a new socket, which is a
 * restart), and the file read and validated before anything is applied.
 */
import type { Config } from '../config/types.js';
import { formatIssues, loadConfigFile } from '../config/load.js';
import type { Logger } from '../log.js';
import type { ControlResponse } from './control.js';

export function restartOnlyChanges(a: Config, b: Config): string[] {
  const out: string[] = [];
  const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);
  if (a.node !== b.node) out.push('node');
  // A file without groups would drop every group of a running director: not a reload.
  if (a.director !== b.director) out.push('groups (director <-> real-server-only)');
  if (!same(a.realserver, b.realserver)) out.push('realserver');
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
  // Groups themselves reload (added, removed, changed), checks, tracked interfaces and ping
  // nodes included: the health monitors keep what did not change (src/daemon/agent.ts).
  return out;
}

/**
 * Reads and validates the file for a reload: the new config, or the refusal to answer with
 * (an invalid file, or a change only a restart can make), logged. Nothing is applied here.
 */
export function checkReload(file: string, current: Config, log: Logger): { ok: true; config: Config } | { ok: false; response: ControlResponse } {
  const r = loadConfigFile(file);
  if (!r.ok) {
    log.error({ file: r.file, issues: r.issues }, 'reload refused: invalid config');
    return { ok: false, response: { ok: false, message: `reload refused, still running the previous config:\n${formatIssues(r.file, r.issues)}` } };
  }
  const restart = restartOnlyChanges(current, r.config);
  if (restart.length > 0) {
    log.error({ keys: restart }, 'reload refused');
    return { ok: false, response: { ok: false, message: `reload refused, still running the previous config: these settings need a restart: ${restart.join(', ')}` } };
  }
  return { ok: true, config: r.config };
}

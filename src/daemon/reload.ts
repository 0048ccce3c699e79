/**
 * A reload's checks: which settings a reload cannot change in a running agent (pure: node
 * identity, cluster, the heartbeat socket and the control socket belong to the process;
 * changing them live would mean a new identity or a new socket, which is a restart), and the
 * file and both key files read and validated before anything is applied.
 */
import type { Config } from '../config/types.js';
import { formatIssues, loadConfigFile } from '../config/load.js';
import { loadKeys, type HeartbeatKeys } from '../config/key.js';
import type { Logger } from '../log.js';
import type { ControlResponse } from './control.js';
import type { Driver } from './driver.js';
import { keyId } from '../wire/keyring.js';

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
  // keyFile and acceptKeyFile reload (a key rotation: docs/operations.md).
  if (!same(a.control, b.control)) out.push('control');
  if (a.stateDir !== b.stateDir) out.push('stateDir');
  if (!same(a.metrics, b.metrics)) out.push('metrics');
  if (a.quorum !== b.quorum) out.push('quorum');
  // Groups themselves reload (added, removed, changed), checks, tracked interfaces and ping
  // nodes included: the health monitors keep what did not change (src/daemon/agent.ts).
  return out;
}

/**
 * Reads and validates the file for a reload, then the key files it names (read again even
 * when their paths did not change: a reload is how a key file's new content is taken): the
 * new config and keys, or the refusal to answer with (an invalid file, a change only a
 * restart can make, a key file refused), logged. Nothing is applied here, so a refusal
 * leaves the agent running with its previous config and keys.
 */
export function checkReload(
  file: string,
  current: Config,
  log: Logger,
  uid?: number,
): { ok: true; config: Config; keys: HeartbeatKeys } | { ok: false; response: ControlResponse } {
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
  const keys = loadKeys(r.config.heartbeat, uid);
  if (!keys.ok) {
    log.error({ errors: keys.errors }, 'reload refused: key file');
    return { ok: false, response: { ok: false, message: `reload refused, still running the previous config and keys:\n${keys.errors.join('\n')}` } };
  }
  return { ok: true, config: r.config, keys: keys.keys };
}

/** The ids of the keys, for log lines (never the keys). */
export function keyIds(keys: HeartbeatKeys): { keyId: string; acceptKeyId: string | null } {
  return { keyId: keyId(keys.send), acceptKeyId: keys.accept === null ? null : keyId(keys.accept) };
}

/** Hands reloaded keys to the driver, logs a change, and returns the reply's key part ("; key X, accept key Y"). */
export function applyKeys(driver: Driver, keys: HeartbeatKeys, log: Logger): string {
  const views = (): string => driver.keyViews().map((k) => `${k.use} ${k.id}`).join(', ');
  const before = views();
  driver.rekey(keys);
  const after = views();
  if (after !== before) log.info({ ...keyIds(keys) }, `heartbeat keys changed: ${before} -> ${after}`);
  const reply = driver.keyViews().map((k) => `${k.use === 'send' ? 'key' : 'accept key'} ${k.id}`).join(', ');
  return reply ? `; ${reply}` : '';
}

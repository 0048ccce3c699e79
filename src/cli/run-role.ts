/**
 * The real-server role inside `haagent run` (the `realserver` section): alone on a real server
 * (a file without groups: no agent, no heartbeat socket, no key), or beside the agent on a
 * director that is also a real server. The role itself is src/realserver/role.ts.
 */
import type { Config } from '../config/types.js';
import type { Logger } from '../log.js';
import type { ServiceManager } from '../adapters/service-manager.js';
import { IpVipHost } from '../adapters/ip-host.js';
import { SpawnRunner } from '../adapters/runner.js';
import { Ipv4ConfSysctl } from '../adapters/sysctl.js';
import { RealServerRole } from '../realserver/role.js';
import { readBootId } from '../realserver/state.js';
import { EXIT } from './exit.js';

/** The role of the config's realserver section on the real host, or null without one. */
export function realServerRoleFor(config: Config, log: Logger): RealServerRole | null {
  if (config.realserver === null) return null;
  const deps = { host: new IpVipHost(new SpawnRunner()), sysctl: new Ipv4ConfSysctl(), bootId: () => readBootId() };
  return new RealServerRole(config.realserver, deps, log);
}

/**
 * Starts the role; when the start fails in part, undoes what it did (as a stop would) so the
 * service fails without leaving half a role behind. True when it runs.
 */
export async function startOrUndo(role: RealServerRole, log: Logger): Promise<boolean> {
  const r = await role.start();
  if (r.errors.length === 0) return true;
  log.fatal({ errors: r.errors }, 'cannot start the real-server role');
  await role.stop();
  return false;
}

/** A pending promise does not keep Node alive: this timer does, until the role is stopped. */
const KEEPALIVE_MS = 1 << 30;

/**
 * A real server's `haagent run`: apply the role, keep it applied until SIGTERM or SIGINT,
 * then undo it (undoOnStop) and exit 0, or 1 when the start or the undo failed.
 */
export async function runRealServerOnly(config: Config, log: Logger, service?: ServiceManager): Promise<number> {
  const role = realServerRoleFor(config, log);
  if (role === null) throw new Error('runRealServerOnly: the configuration has no realserver section');
  const keepalive = setInterval(() => undefined, KEEPALIVE_MS);
  let onSignal: (sig: string) => void = () => undefined;
  const signalled = new Promise<string>((resolve) => (onSignal = resolve));
  const handlers = {
    SIGTERM: () => onSignal('SIGTERM'),
    SIGINT: () => onSignal('SIGINT'),
    // Node's default for SIGHUP is to exit; a reload of the role is a restart (docs/direct-routing.md).
    SIGHUP: () => log.warn('SIGHUP: the real-server role does not reload; restart the service to apply a changed realserver section'),
  };
  for (const [sig, fn] of Object.entries(handlers)) process.on(sig, fn);
  try {
    if (!(await startOrUndo(role, log))) return EXIT.FAILURE;
    log.info('real-server role running (no director part in this configuration)');
    service?.ready('real-server role applied');
    // Nothing turns here but the event loop itself: a keep-alive proves that much.
    service?.startWatchdog(() => true);
    const sig = await signalled;
    service?.stopping();
    log.info({ signal: sig }, 'stopping the real-server role');
    const undo = await role.stop();
    return (undo?.errors.length ?? 0) === 0 ? EXIT.OK : EXIT.FAILURE;
  } finally {
    clearInterval(keepalive);
    for (const [sig, fn] of Object.entries(handlers)) process.off(sig, fn);
  }
}

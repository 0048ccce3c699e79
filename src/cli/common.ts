/**
 * Helpers shared by the commands: load + validate the config or exit 78 (run, release); find
 * the agent's control socket (status, takeover, standby, maintenance, reload, events), which
 * must work while the file on disk is half edited or gone: the running agent is what answers.
 */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { DEFAULTS } from '../config/defaults.js';
import { formatIssues, loadConfigFile } from '../config/load.js';
import type { Config } from '../config/types.js';
import { request, type ControlRequest, type ControlResponse } from '../daemon/control.js';
import { EXIT } from './exit.js';

export interface ConfigArgs {
  config: string;
}

/** Returns the effective config, or prints every issue and returns null (exit code set to 78). */
export function configOrExit(file: string): Config | null {
  const r = loadConfigFile(file);
  if (r.ok) return r.config;
  process.stderr.write(formatIssues(r.file, r.issues) + '\n');
  process.exitCode = EXIT.CONFIG;
  return null;
}

export interface SocketArgs extends ConfigArgs {
  socket?: string;
}

/** The control socket: --socket, else the config's (from an invalid file as far as it can be read). */
export function socketOrExit(argv: SocketArgs): string | null {
  return readSocketsOrExit(argv)?.socket ?? null;
}

/**
 * The sockets a file names, read leniently: a file that does not validate (a half-edited
 * one) or does not parse still names the socket the running agent listens on, or leaves the
 * default. Nothing else of the file is trusted.
 */
export function socketsOf(file: string, read: (f: string) => string = (f) => readFileSync(f, 'utf8')): ReadSockets {
  let doc: unknown;
  try {
    // parseDocument keeps what parsed before a syntax error (toJS of the partial document).
    doc = parseDocument(read(file)).toJS();
  } catch {
    doc = null;
  }
  const control = (doc as { control?: { socket?: unknown; statusSocket?: unknown } } | null)?.control;
  const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
  return { socket: str(control?.socket) ?? DEFAULTS.controlSocket, readOnly: str(control?.statusSocket) };
}
/**
 * The one message for "nobody answers on the control socket" (exit 3, like LSB status); a
 * socket that exists but keeps this user out is not "no agent": exit 77 (EX_NOPERM).
 */
export function notRunning(socket: string, e: unknown): void {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'EACCES' || err.code === 'EPERM') {
    process.stderr.write(`haagent: permission denied on the control socket ${socket}: run as root or as a member of its group (control.mode), or ask the read-only socket (control.statusSocket) for status\n`);
    process.exitCode = EXIT.NOPERM;
    return;
  }
  process.stderr.write(`haagent: no agent running (control socket ${socket}: ${err.code ?? err.message})\n`);
  process.exitCode = EXIT.NOT_RUNNING;
}

/** Where a read-only command asks: the control socket, and the read-only socket if configured. */
export interface ReadSockets {
  socket: string;
  readOnly: string | null;
}

/**
 * The sockets to ask: --socket, else the config's. A file that does not validate is reported
 * as a warning (the agent answers for what it runs, not for the file) and its sockets are
 * read leniently (socketsOf). Never null: kept for the callers' shape.
 */
export function readSocketsOrExit(argv: SocketArgs): ReadSockets | null {
  if (argv.socket) return { socket: argv.socket, readOnly: null };
  const r = loadConfigFile(argv.config);
  if (r.ok) return { socket: r.config.control.socket, readOnly: r.config.control.statusSocket };
  const s = socketsOf(argv.config);
  const why = r.issues.length === 1 && r.issues[0]!.path === '(file)' ? r.issues[0]!.expected : `${r.issues.length} problem(s); run haagent check-config`;
  process.stderr.write(`haagent: warning: ${argv.config} is not a valid configuration (${why}); asking the agent at ${s.socket}\n`);
  return s;
}

/**
 * A read-only request: the control socket, else, when its mode keeps this user out
 * (EACCES), the read-only socket. The error thrown is the last socket's.
 */
export async function readRequest(s: ReadSockets, req: ControlRequest, send = request): Promise<ControlResponse> {
  let refused: unknown;
  try {
    return await send(s.socket, req);
  } catch (e) {
    refused = e;
  }
  const ro = s.readOnly;
  if (ro === null || (refused as NodeJS.ErrnoException).code !== 'EACCES') throw refused;
  try {
    return await send(ro, req);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw Object.assign(new Error(err.message), { code: err.code, socket: `${s.socket} (EACCES), read-only socket ${ro}` });
  }
}

/** The socket a failed readRequest names: the control socket, or both when it fell back. */
export function failedSocket(s: ReadSockets, e: unknown): string {
  const socket = (e as { socket?: unknown } | null)?.socket;
  return typeof socket === 'string' ? socket : s.socket;
}

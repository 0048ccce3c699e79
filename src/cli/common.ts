/** Helpers shared by the commands: load + validate the config or exit 78. */
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

/** The control socket: --socket, else the config's (null when the config is invalid: exit 78 set). */
export function socketOrExit(argv: SocketArgs): string | null {
  if (argv.socket) return argv.socket;
  const config = configOrExit(argv.config);
  return config ? config.control.socket : null;
}

/** The one message for "nobody answers on the control socket" (exit 3, like LSB status). */
export function notRunning(socket: string, e: unknown): void {
  const err = e as NodeJS.ErrnoException;
  process.stderr.write(`haagent: no agent running (control socket ${socket}: ${err.code ?? err.message})\n`);
  process.exitCode = EXIT.NOT_RUNNING;
}

/** Where a read-only command asks: the control socket, and the read-only socket if configured. */
export interface ReadSockets {
  socket: string;
  readOnly: string | null;
}

/** As socketOrExit, plus the config's read-only socket (none with --socket). */
export function readSocketsOrExit(argv: SocketArgs): ReadSockets | null {
  if (argv.socket) return { socket: argv.socket, readOnly: null };
  const config = configOrExit(argv.config);
  return config ? { socket: config.control.socket, readOnly: config.control.statusSocket } : null;
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

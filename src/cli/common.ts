/** Helpers shared by the commands: load + validate the config or exit 78. */
import { formatIssues, loadConfigFile } from '../config/load.js';
import type { Config } from '../config/types.js';
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

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

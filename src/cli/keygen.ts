/**
 * `haagent keygen [--out PATH] [--force]`: write a new random heartbeat key (format in
 * src/config/key.ts). The path defaults to heartbeat.keyFile of the configuration, or
 * /etc/haagent/key when there is no configuration file yet. Never prints the key.
 */
import { existsSync } from 'node:fs';
import type { CommandModule } from 'yargs';
import { DEFAULTS } from '../config/defaults.js';
import { generateKey, writeKeyFile } from '../config/key.js';
import { keyId } from '../wire/keyring.js';
import { loadConfigFile } from '../config/load.js';
import { formatIssues } from '../config/render.js';
import type { TextOut } from './check-config.js';
import { EXIT } from './exit.js';

export interface KeygenArgs {
  config: string;
  out?: string;
  force: boolean;
}

/**
 * Where the key goes. An invalid configuration is an error rather than a fallback to the
 * default path: its keyFile may point elsewhere, and a key in the wrong place is a silent
 * split brain later (the peers would reject each other's heartbeats).
 */
function keyPath(args: KeygenArgs, err: TextOut): string | null {
  if (args.out !== undefined) return args.out;
  if (!existsSync(args.config)) return DEFAULTS.keyFile;
  const r = loadConfigFile(args.config);
  if (r.ok) return r.config.heartbeat.keyFile;
  err.write(`${formatIssues(r.file, r.issues)}\nhaagent: fix the configuration or pass --out PATH\n`);
  return null;
}

/** The whole command; `key` is injectable so tests can check what was written. */
export function keygen(args: KeygenArgs, out: TextOut, err: TextOut, key: Buffer = generateKey()): number {
  const path = keyPath(args, err);
  if (path === null) return EXIT.CONFIG;
  const w = writeKeyFile(path, key, args.force);
  if (!w.ok) {
    err.write(`haagent: ${w.error}\n`);
    return EXIT.FAILURE;
  }
  out.write(`wrote a new ${key.length}-byte key to ${path} (mode 0600, key id ${keyId(key)}); copy it to every peer over a secure channel\n`);
  return EXIT.OK;
}

export const keygenCommand: CommandModule<object, KeygenArgs> = {
  command: 'keygen',
  describe: 'write a new random heartbeat key file (never printed)',
  builder: (y) =>
    y
      .option('out', { type: 'string', describe: 'key file to write (default: heartbeat.keyFile of the config, or /etc/haagent/key)' })
      .option('force', { type: 'boolean', default: false, describe: 'replace an existing key file' }) as never,
  handler: (argv) => {
    process.exitCode = keygen(argv, process.stdout, process.stderr);
  },
};

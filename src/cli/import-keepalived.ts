/**
 * `haagent import-keepalived FILE [--node NAME] [--output FILE] [--force]`: convert a
 * keepalived.conf into a haagent.yaml (stdout, or --output), checked with haagent's own
 * loader, and list on stderr, one line each as `FILE:LINE: ...`, what was not carried over
 * and what was carried over with a difference. Exit 0: everything converted; 1: something
 * was left out (or the result does not load here), the YAML is written all the same; 78:
 * FILE cannot be read or parsed (`FILE:LINE: expected ...`), nothing written; 64: usage;
 * 73: --output cannot be written.
 */
import { writeFileSync, readFileSync } from 'node:fs';
import type { CommandModule } from 'yargs';
import { NAME_RE, EXPECT } from '../config/fields.js';
import { formatIssues, parseConfigText } from '../config/load.js';
import { convertKeepalived } from '../migrate/keepalived.js';
import { formatNote } from '../migrate/report.js';
import type { TextOut } from './check-config.js';
import { EXIT } from './exit.js';

export interface ImportArgs {
  file: string;
  node?: string;
  output?: string;
  force: boolean;
}

/** The files the command reads and writes; node:fs in production. */
export interface ImportFiles {
  read(path: string): string;
  /** writes `text` to `path`, refusing an existing file unless `force`. */
  write(path: string, text: string, force: boolean): void;
}

const fsFiles: ImportFiles = {
  read: (path) => readFileSync(path, 'utf8'),
  write: (path, text, force) => writeFileSync(path, text, { flag: force ? 'w' : 'wx', mode: 0o644 }),
};

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/** The whole command; returns the exit code. */
export function importKeepalived(args: ImportArgs, out: TextOut, err: TextOut, files: ImportFiles = fsFiles): number {
  if (args.node !== undefined && !NAME_RE.test(args.node)) {
    err.write(`haagent: --node: got "${args.node}", expected ${EXPECT.name}\n`);
    return EXIT.USAGE;
  }
  let text: string;
  try {
    text = files.read(args.file);
  } catch (e) {
    err.write(`haagent: ${args.file}: cannot read it (${(e as Error).message})\n`);
    return EXIT.CONFIG;
  }
  const r = convertKeepalived(text, { source: args.file, ...(args.node === undefined ? {} : { node: args.node }) });
  if (!r.ok) {
    err.write(r.errors.map((e) => `${args.file}:${e.line}: expected ${e.expected}\n`).join(''));
    err.write(`haagent: ${args.file}: ${plural(r.errors.length, 'error')}, nothing converted\n`);
    return EXIT.CONFIG;
  }
  const where = args.output ?? 'stdout';
  if (args.output === undefined) out.write(r.yaml);
  else {
    try {
      files.write(args.output, r.yaml, args.force);
    } catch (e) {
      const exists = (e as NodeJS.ErrnoException).code === 'EEXIST' ? ' (it exists: --force replaces it)' : '';
      err.write(`haagent: ${args.output}: cannot write it${exists}: ${(e as Error).message}\n`);
      return EXIT.CANTCREAT;
    }
  }
  err.write(r.notes.map((n) => `${formatNote(args.file, n)}\n`).join(''));
  // The converter means its output to load; if it does not here, say so rather than let run find out.
  const loaded = parseConfigText(r.yaml, where);
  if (!loaded.ok) err.write(`${formatIssues(where, loaded.issues)}\nhaagent: the converted configuration does not load as it is: fix the issues above\n`);
  const dropped = r.notes.filter((n) => n.kind === 'dropped').length;
  const differs = r.notes.length - dropped;
  err.write(`haagent: ${args.file}: converted to ${where}; ${plural(dropped, 'item')} not carried over, ${plural(differs, 'item')} carried over with a difference\n`);
  return dropped > 0 || !loaded.ok ? EXIT.FAILURE : EXIT.OK;
}

export const importKeepalivedCommand: CommandModule<object, ImportArgs> = {
  command: 'import-keepalived <file>',
  describe: 'convert a keepalived.conf into a haagent.yaml; list what could not be carried over',
  builder: (y) =>
    y
      .positional('file', { type: 'string', demandOption: true, describe: 'the keepalived.conf to read' })
      .option('node', { type: 'string', describe: 'node name (default: global_defs router_id, else the host name)' })
      .option('output', { alias: 'o', type: 'string', describe: 'write the YAML here instead of stdout' })
      .option('force', { type: 'boolean', default: false, describe: 'replace an existing --output file' }) as never,
  handler: (argv) => {
    process.exitCode = importKeepalived(argv, process.stdout, process.stderr);
  },
};

import { fstatSync } from 'node:fs';
import { pino, type Logger, type DestinationStream } from 'pino';
import type { LogFormat, LogLevel } from './config/types.js';
import { safeJson } from './printable.js';
import { prettyLine } from './log-pretty.js';

export type { Logger };

/**
 * Syslog priority of each pino level. journald reads a `<N>` at the start of a line from a
 * service's stdout/stderr as the line's priority (SyslogLevelPrefix=, on by default) and
 * strips it; without one every line is stored at the unit's default, info, and
 * `journalctl -p err` finds none of the agent's errors.
 */
const PRIORITY: Readonly<Record<number, number>> = { 10: 7, 20: 7, 30: 6, 40: 4, 50: 3, 60: 2 };

/** `<N>` + line, N the syslog priority of the line's pino level (info when it has none). */
export function withPriority(line: string): string {
  const m = /"level":(\d+)/.exec(line);
  const p = (m ? PRIORITY[Number(m[1])] : undefined) ?? 6;
  return `<${p}>${line}`;
}

/**
 * Whether stderr is connected to the journal: systemd sets JOURNAL_STREAM to the device and
 * inode of the stream it connected, and a child that redirected stderr elsewhere (a shell,
 * a pipe to a file) inherits the variable, so the two are compared.
 */
export function stderrIsJournal(env: NodeJS.ProcessEnv = process.env, stat: () => { dev: number; ino: number } = () => fstatSync(2)): boolean {
  const stream = env.JOURNAL_STREAM;
  if (!stream) return false;
  const [dev, ino] = stream.split(':');
  try {
    const s = stat();
    return String(s.dev) === dev && String(s.ino) === ino;
  } catch {
    return false;
  }
}

export type { LogFormat };
export const LOG_FORMATS: readonly LogFormat[] = ['auto', 'json', 'journal', 'pretty'];

/** The format lines are written in: `auto` decided by where stderr goes. */
export function resolveLogFormat(format: LogFormat, journal: () => boolean = () => stderrIsJournal()): Exclude<LogFormat, 'auto'> {
  if (format !== 'auto') return format;
  return journal() ? 'journal' : 'json';
}

/**
 * The one pino factory. Stable keys: `group`, `peer`, `from`, `to`, `reason`. The shared key
 * is never passed to a logger. The destination is injectable so tests can capture lines.
 * Every line goes out through safeJson(): peer and group names (in fields and in messages)
 * come from the network, and pino escapes only what JSON must. `json`: one JSON object a
 * line; `journal`: the same, each line prefixed with its syslog priority; `pretty`: one
 * human line (log-pretty.ts). `auto` (the default) is `journal` when stderr is the journal
 * and the destination is the real stderr, else `json`.
 */
export function createLogger(level: LogLevel | 'silent', node: string, dest?: DestinationStream, format: LogFormat = 'auto'): Logger {
  const opts = { level, base: { node }, timestamp: pino.stdTimeFunctions.isoTime };
  const out = dest ?? pino.destination({ fd: 2, sync: true });
  const form = resolveLogFormat(format, () => dest === undefined && stderrIsJournal());
  const write =
    form === 'journal'
      ? (line: string) => out.write(withPriority(safeJson(line)))
      : form === 'pretty'
        ? (line: string) => out.write(prettyLine(line))
        : (line: string) => out.write(safeJson(line));
  return pino(opts, { write });
}

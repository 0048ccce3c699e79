/**
 * The `pretty` log format: one human line per record, for a terminal (`haagent run
 * --log-format pretty`). Pure: a pino JSON line in, a text line out. E.g.
 *
 *   2026-12-03T08:09:17.123Z WARN  peer d1: path 203.0.113.2 silent  peer=d1
 *
 * Time, level, message, then the record's other fields as key=value (the `node` field, the
 * same on every line, and pino's own `pid`/`hostname` are left out). Every string is escaped
 * with printable(): names in messages and fields come from the network, and an escaped
 * newline keeps a record on one line. An error shows its message only, not its stack.
 */
import { printable } from './printable.js';

const LEVELS: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const SKIP = new Set(['time', 'level', 'msg', 'node', 'pid', 'hostname']);

/** One field's value as text: strings escaped (quoted when they hold a space or `=`), the rest as JSON. */
function value(v: unknown): string {
  if (typeof v === 'string') {
    const s = printable(v);
    // printable() wrote `\` as `\\` already; only the quote is left to escape.
    return s === '' || /[\s="]/.test(s) ? `"${s.replace(/"/g, '\\"')}"` : s;
  }
  if (v !== null && typeof v === 'object' && 'message' in v && typeof (v as { message: unknown }).message === 'string') {
    return value((v as { message: string }).message);
  }
  return printable(JSON.stringify(v) ?? String(v));
}

/** The human line for one pino JSON line (newline included); a line that is not JSON is passed through escaped. */
export function prettyLine(json: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return printable(json.replace(/\n$/, '')) + '\n';
  }
  const level = typeof rec.level === 'number' ? (LEVELS[rec.level] ?? String(rec.level)) : 'INFO';
  const time = typeof rec.time === 'string' ? rec.time : '-';
  const msg = typeof rec.msg === 'string' ? printable(rec.msg) : '';
  const fields = Object.entries(rec)
    .filter(([k]) => !SKIP.has(k))
    .map(([k, v]) => `${printable(k)}=${value(v)}`);
  return [`${time} ${level.padEnd(5)} ${msg}`, ...fields].join('  ').trimEnd() + '\n';
}

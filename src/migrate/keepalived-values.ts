/**
 * keepalived's values, read into haagent's: seconds (keepalived's unit for every time, with
 * fractions) into milliseconds and back into a duration with its unit, integers in a range,
 * and a script line into an argv that haagent can run without keepalived's PATH search.
 * Pure.
 */
import { parseDuration } from '../config/duration.js';
import type { KaStatement } from './keepalived-parse.js';
import type { Report } from './report.js';

const DECIMAL_RE = /^\d+(\.\d+)?$/;

/** "1", "0.5", "2.71828" seconds in whole milliseconds (keepalived counts microseconds: rounded). */
export function secondsToMs(text: string): number | null {
  if (!DECIMAL_RE.test(text)) return null;
  const exact = parseDuration(`${text}s`);
  return exact.ok ? exact.ms : Math.round(Number(text) * 1000);
}

/** Milliseconds as haagent writes a keepalived time: "300s" when whole seconds, else "1500ms". */
export function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/**
 * The first argument of `s` in seconds, or null with an error at its line. `min`/`max` are
 * keepalived's own bounds, in seconds.
 */
export function secondsArg(s: KaStatement, report: Report, min = 0, max = Infinity): number | null {
  const text = s.args[0] ?? '';
  const ms = secondsToMs(text);
  if (ms === null || ms < min * 1000 || ms > max * 1000) {
    const range = max === Infinity ? `at least ${min}` : `${min}..${max}`;
    report.error(s.line, `${s.key}: got "${text}", expected a number of seconds (${range}, fractions allowed)`);
    return null;
  }
  return ms;
}

/** The first argument of `s` as an integer in min..max, or null with an error at its line. */
export function integerArg(s: KaStatement, report: Report, min: number, max: number): number | null {
  const text = s.args[0] ?? '';
  const n = /^-?\d{1,6}$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    report.error(s.line, `${s.key}: got "${text}", expected an integer ${min}..${max}`);
    return null;
  }
  return n;
}

/** `n` within haagent's range (a LIMITS entry). */
export function clamp(n: number, range: { readonly min: number; readonly max: number }): number {
  return Math.min(range.max, Math.max(range.min, n));
}

/** Characters a shell would interpret: such a script line needs /bin/sh to mean what it says. */
const SHELL_SYNTAX = /[|&;<>()$`*?[\]~]/;

export function hasShellSyntax(line: string): boolean {
  return SHELL_SYNTAX.test(line);
}

/**
 * keepalived's script line into words: whitespace separates them, except inside single or
 * double quotes (which are removed). null when a quote is not closed.
 */
export function splitCommand(line: string): string[] | null {
  const out: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (/\s/.test(c)) {
      if (word !== null) out.push(word);
      word = null;
    } else if (c === '"' || c === "'") {
      const end = line.indexOf(c, i + 1);
      if (end < 0) return null;
      word = (word ?? '') + line.slice(i + 1, end);
      i = end;
    } else word = (word ?? '') + c;
  }
  if (word !== null) out.push(word);
  return out;
}

/** One word for /bin/sh: bare when it holds nothing the shell reads, else single-quoted. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** An argv haagent can run, and how it differs from what keepalived ran, if it does. */
export interface Command {
  argv: string[];
  /** set when the argv is not the script line's own words. */
  differs: string | null;
}

/**
 * A keepalived script line as an argv for an exec check. haagent runs argvs without a shell
 * and needs an absolute program: a line with shell syntax goes through `/bin/sh -c`, a
 * program named without a path is looked up in haagent's fixed PATH by `/usr/bin/env`.
 * null when the line has no words or an unclosed quote.
 */
export function commandOf(line: string): Command | null {
  if (hasShellSyntax(line)) {
    return { argv: ['/bin/sh', '-c', line], differs: 'it contains shell syntax, so it runs as /bin/sh -c "..." (haagent runs no shell of its own)' };
  }
  const words = splitCommand(line);
  if (words === null || words.length === 0) return null;
  if (words[0]!.startsWith('/')) return { argv: words, differs: null };
  return {
    argv: ['/usr/bin/env', ...words],
    differs: `${words[0]} has no path: /usr/bin/env looks it up in haagent's PATH (/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin); write its absolute path instead`,
  };
}

/** The command as one /bin/sh line, for a hook wrapper: shell syntax kept, plain words quoted. */
export function shellLine(line: string): string | null {
  if (hasShellSyntax(line)) return line;
  const words = splitCommand(line);
  if (words === null || words.length === 0) return null;
  return `exec ${words.map(shellQuote).join(' ')}`;
}

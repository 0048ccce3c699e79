/**
 * Configuration loading: YAML text -> issues located at line:column, or the effective Config.
 * parseConfigText is pure (given a hostname) and is what the tests drive; loadConfigFile adds
 * the file read and the script-security check of every hook and exec-check program
 * (src/config/script-security.ts), so check-config, run and reload all refuse an unsafe one.
 *
 * Order: YAML syntax first (a broken document is not validated further: the schema errors of
 * a half-parsed file would only be noise), then the zod schema and the cross-field checks
 * together, so one run reports every problem.
 */
import { readFileSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { LineCounter, parseDocument, type Document, type YAMLError } from 'yaml';
import type { z } from 'zod';
import { crossCheck, type CrossIssue } from './cross.js';
import { localBindIssues } from './local-bind.js';
import { locate, locateKey, pathText, renderValue, type PathKey } from './locate.js';
import { resolveConfig } from './resolve.js';
import { configSchema } from './schema.js';
import { checkProgram, programIssues, type ProgramCheck } from './script-security.js';
import type { ConfigIssue, LoadResult } from './types.js';

// Callers that load a file usually print its issues next.
export { formatIssues } from './render.js';

export interface LoadOptions {
  /** node name when the file sets none; os.hostname() when not given. */
  hostname?: string;
  /** what refuses a hook or exec-check program; parseConfigText: none, loadConfigFile: checkProgram. */
  programs?: ProgramCheck | null;
  /** every address of this host: bind addresses not among them are refused (check-config); absent: not checked. */
  localAddresses?: ReadonlySet<string> | null;
}

/** A configuration file is a few kilobytes; anything this big is the wrong file. */
const MAX_BYTES = 1024 * 1024;

function yamlIssue(e: YAMLError, lc: LineCounter): ConfigIssue {
  const { line, col } = lc.linePos(e.pos[0]);
  return { path: '(yaml)', line, column: col, expected: `valid YAML: ${e.message}` };
}

function zodIssues(issue: z.core.$ZodIssue, doc: Document, lc: LineCounter): ConfigIssue[] {
  const path = issue.path.filter((k): k is PathKey => typeof k !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    // One issue per unknown key, each pointing at the key itself: usually a typo.
    return issue.keys.map((key) => ({
      path: pathText(path),
      ...locateKey(doc, lc, path, key),
      value: `unknown key ${JSON.stringify(key)}`,
      expected: issue.message,
    }));
  }
  return [{ path: pathText(path), ...locate(doc, lc, path), value: renderValue(doc, path), expected: issue.message }];
}

function crossIssue(c: CrossIssue, doc: Document, lc: LineCounter): ConfigIssue {
  const issue: ConfigIssue = { path: pathText(c.path), ...locate(doc, lc, c.path), expected: c.expected };
  if (c.showValue !== false) issue.value = renderValue(doc, c.path);
  return issue;
}

const byPosition = (a: ConfigIssue, b: ConfigIssue) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0);

/** Parses and validates configuration text; `file` only labels the issues. */
export function parseConfigText(text: string, file: string, opts: LoadOptions = {}): LoadResult {
  const lc = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: true, lineCounter: lc, prettyErrors: false });
  if (doc.errors.length > 0) return { ok: false, file, issues: doc.errors.map((e) => yamlIssue(e, lc)) };
  let raw: unknown;
  try {
    // maxAliasCount bounds alias expansion ("billion laughs"); the default is already 100.
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    return { ok: false, file, issues: [{ path: '(yaml)', line: 1, column: 1, expected: `valid YAML: ${String(err)}` }] };
  }
  const hostname = opts.hostname ?? osHostname();
  const parsed = configSchema.safeParse(raw);
  const issues = [
    ...(parsed.success ? [] : parsed.error.issues.flatMap((i) => zodIssues(i, doc, lc))),
    ...crossCheck(raw, hostname).map((c) => crossIssue(c, doc, lc)),
    ...(opts.programs ? programIssues(raw, opts.programs).map((c) => crossIssue(c, doc, lc)) : []),
    ...(opts.localAddresses ? localBindIssues(raw, opts.localAddresses).map((c) => crossIssue(c, doc, lc)) : []),
  ];
  if (!parsed.success || issues.length > 0) return { ok: false, file, issues: issues.sort(byPosition) };
  return { ok: true, config: resolveConfig(parsed.data, hostname) };
}

/** Reads and validates a configuration file. A missing or unreadable file is one issue. */
export function loadConfigFile(path: string, opts: LoadOptions = {}): LoadResult {
  let text: string;
  try {
    const buf = readFileSync(path);
    if (buf.length > MAX_BYTES) throw new Error(`${buf.length} bytes, more than ${MAX_BYTES}`);
    text = buf.toString('utf8');
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return { ok: false, file: path, issues: [{ path: '(file)', expected: `a readable configuration file (${why})` }] };
  }
  return parseConfigText(text, path, { programs: checkProgram, ...opts });
}

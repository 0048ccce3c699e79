/**
 * Shared by the config test files: one valid director config (with its line numbers), the
 * parse / refuse helpers, and the table runner for "one issue at this path, line and column".
 */
import t from 'tap';
import { parseConfigText } from '../../src/config/load.js';
import type { Config, ConfigIssue } from '../../src/config/types.js';

export const BASE = [
  'cluster: lb1', //                                  1
  'heartbeat:', //                                    2
  '  bind: 198.51.100.10', //                         3
  '  peers: [198.51.100.11]', //                      4
  '  interval: 100ms', //                             5
  'groups:', //                                       6
  '  - name: web', //                                 7
  '    vip: 198.51.100.100/32', //                    8
  '    interface: eth0', //                           9
];

/** BASE with lines appended (the first extra line is line 10). */
export const withLines = (...extra: string[]) => [...BASE, ...extra].join('\n') + '\n';

export interface ParseOptions {
  file?: string;
  hostname?: string;
}

export function parse(text: string, o: ParseOptions = {}): Config {
  const r = parseConfigText(text, o.file ?? 'haagent.yaml', { hostname: o.hostname ?? 'd0' });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.config;
}

export function issuesOf(text: string, o: ParseOptions = {}): ConfigIssue[] {
  const r = parseConfigText(text, o.file ?? 'haagent.yaml', { hostname: o.hostname ?? 'd0' });
  if (r.ok) throw new Error('expected the configuration to be refused');
  return r.issues;
}

export interface IssueCase {
  name: string;
  text: string;
  path: string;
  line: number;
  column: number;
  value?: string;
  expected: RegExp;
}

/** One subtest per case: exactly one issue, at the path, line and column, with its texts. */
export function runIssueCases(cases: readonly IssueCase[], o: ParseOptions = {}): void {
  for (const c of cases) {
    t.test(c.name, async (t) => {
      const issues = issuesOf(c.text, o);
      const hit = issues.find((i) => i.path === c.path);
      if (!hit) return t.fail(`no issue at ${c.path}; got ${JSON.stringify(issues)}`);
      t.equal(issues.length, 1, `exactly one issue; got ${JSON.stringify(issues)}`);
      t.match(hit, { line: c.line, column: c.column });
      if (c.value !== undefined) t.equal(hit.value, c.value);
      t.match(hit.expected, c.expected);
    });
  }
}

/**
 * Reads what the coverage gate needs from a checkout: the line figures tap wrote for its last
 * run (istanbul's json-summary) and the list of src/ files, so that a file with code that no
 * test loaded shows up too (with every line uncovered).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { hasCode, lineCount, type FileLines } from './gate.js';

/** Where tap writes the json-summary report (package.json: "coverage-report"). */
export const SUMMARY = '.tap/report/coverage-summary.json';

/** istanbul's json-summary: per absolute file path (and a 'total' entry), the line counts. */
type Summary = Record<string, { lines: { total: number; covered: number } }>;

/** Every .ts file under `dir` (relative to the root, '/' separators), sorted. */
function sourceFiles(root: string, dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory()) out.push(...sourceFiles(root, path));
    else if (e.isFile() && e.name.endsWith('.ts')) out.push(path);
  }
  return out.sort();
}

/**
 * The lines of every src/ file under `root` that has code: from the report when a test loaded
 * it, else all uncovered. Throws when the report is missing (no tap run with coverage yet).
 */
export function collectFiles(root: string): FileLines[] {
  const summaryPath = join(root, SUMMARY);
  if (!existsSync(summaryPath)) {
    throw new Error(`${SUMMARY} is missing; run the unit and scenario tests with tap first`);
  }
  const summary = JSON.parse(readFileSync(summaryPath, 'utf8')) as Summary;
  const reported = new Map<string, { total: number; covered: number }>();
  for (const [file, figures] of Object.entries(summary)) {
    if (file !== 'total') reported.set(relative(root, file).split(sep).join('/'), figures.lines);
  }
  const files: FileLines[] = [];
  for (const path of sourceFiles(root, 'src')) {
    const lines = reported.get(path);
    if (lines !== undefined) {
      files.push({ path, total: lines.total, covered: lines.covered, loaded: true });
      continue;
    }
    const source = readFileSync(join(root, path), 'utf8');
    if (hasCode(source)) files.push({ path, total: lineCount(source), covered: 0, loaded: false });
  }
  return files;
}

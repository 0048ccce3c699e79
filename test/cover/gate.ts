/**
 * The coverage gate's arithmetic, kept pure so that test/unit/coverage-gate.test.ts can feed
 * it figures: line counts per source file (from istanbul's json-summary, which tap writes
 * after a run) are summed per directory of src/, printed as a table, and the gated
 * directories are held to a floor. A file that has code but that no test loaded counts with
 * all its lines uncovered, so a module without tests lowers its directory's figure instead
 * of vanishing from it.
 */
import ts from 'typescript';

/** One source file's lines: how many the report counts, how many a test ran. */
export interface FileLines {
  /** Path relative to the repository root, with '/' separators: `src/core/step.ts`. */
  path: string;
  total: number;
  covered: number;
  /** False when no test loaded the file (it is absent from the report). */
  loaded: boolean;
}

/** One directory's sums. */
export interface DirLines {
  dir: string;
  files: number;
  /** Files with code that no test loaded. */
  unloaded: number;
  total: number;
  covered: number;
}

/** The gate's settings: which directories must reach `minPercent` of their lines. */
export interface Gate {
  dirs: readonly string[];
  minPercent: number;
}

/** `src/core/step.ts` -> `src/core`; a file directly in src/ belongs to `src`. */
export function directoryOf(path: string): string {
  const parts = path.split('/');
  return parts.length <= 2 ? parts[0] : `${parts[0]}/${parts[1]}`;
}

/** Per-directory sums, sorted by directory name. */
export function tally(files: readonly FileLines[]): DirLines[] {
  const byDir = new Map<string, DirLines>();
  for (const f of files) {
    const dir = directoryOf(f.path);
    const row = byDir.get(dir) ?? { dir, files: 0, unloaded: 0, total: 0, covered: 0 };
    row.files += 1;
    row.unloaded += f.loaded ? 0 : 1;
    row.total += f.total;
    row.covered += f.covered;
    byDir.set(dir, row);
  }
  return [...byDir.values()].sort((a, b) => (a.dir < b.dir ? -1 : a.dir > b.dir ? 1 : 0));
}

/** Covered share in percent; a directory with no counted lines has nothing left uncovered. */
export function percent(row: Pick<DirLines, 'total' | 'covered'>): number {
  return row.total === 0 ? 100 : (100 * row.covered) / row.total;
}

/** One message per gated directory below the floor or missing from the report; empty = pass. */
export function gateFailures(rows: readonly DirLines[], gate: Gate): string[] {
  const out: string[] = [];
  for (const dir of gate.dirs) {
    const row = rows.find((r) => r.dir === dir);
    if (row === undefined || row.total === 0) {
      out.push(`${dir}: no coverage recorded (did the unit tests run?)`);
    } else if (percent(row) < gate.minPercent) {
      out.push(
        `${dir}: ${percent(row).toFixed(1)} % of lines covered (${row.covered} of ${row.total}), ` +
          `below the ${gate.minPercent} % floor`,
      );
    }
  }
  return out;
}

/** The table printed after a run: one line per directory, the gated ones marked. */
export function formatTable(rows: readonly DirLines[], gate: Gate): string {
  const head = ['directory', 'files', 'not loaded', 'lines', 'covered', 'lines %', 'gate'];
  const body = rows.map((r) => {
    const gated = gate.dirs.includes(r.dir);
    const verdict = !gated ? '' : percent(r) >= gate.minPercent ? `>= ${gate.minPercent} ok` : `< ${gate.minPercent} FAIL`;
    return [r.dir, `${r.files}`, `${r.unloaded}`, `${r.total}`, `${r.covered}`, percent(r).toFixed(1), verdict];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((cells) => cells[i].length)));
  // The directory column is left-aligned, the figures right-aligned, the verdict left.
  const fmt = (cells: string[]): string =>
    cells
      .map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [fmt(head), ...body.map(fmt)].join('\n');
}

/**
 * Whether a TypeScript file compiles to anything: a file of types alone (interfaces, type
 * aliases, type-only imports) emits an empty module that nothing ever loads, so it cannot be
 * covered and is left out rather than counted as untested.
 */
export function hasCode(source: string): boolean {
  const js = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, removeComments: true },
  }).outputText;
  return js.replace(/^export \{\};$/m, '').trim() !== '';
}

/** Lines as the report counts them for a file no test loaded: every line of the source. */
export function lineCount(source: string): number {
  if (source === '') return 0;
  return source.split('\n').length - (source.endsWith('\n') ? 1 : 0);
}

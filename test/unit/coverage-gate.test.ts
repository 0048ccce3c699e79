/**
 * The coverage gate (test/cover): per-directory sums of the line figures tap reports, files no
 * test loaded counted as uncovered, files of types alone left out, and the floor on the gated
 * directories: at the floor passes, a line below fails with the directory and its figure.
 * collectFiles() runs on a checkout laid out in a tap test directory with a made-up report.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import t from 'tap';
import { collectFiles, SUMMARY } from '../cover/collect.js';
import { directoryOf, formatTable, gateFailures, hasCode, lineCount, percent, tally, type FileLines } from '../cover/gate.js';

const GATE = { dirs: ['src/core', 'src/wire'], minPercent: 90 };

const file = (path: string, total: number, covered: number, loaded = true): FileLines => ({ path, total, covered, loaded });

t.test('directoryOf: the first level under src/, and src itself for its own files', async (t) => {
  t.equal(directoryOf('src/core/step.ts'), 'src/core');
  t.equal(directoryOf('src/core/deep/x.ts'), 'src/core', 'deeper files count for their top directory');
  t.equal(directoryOf('src/main.ts'), 'src');
});

t.test('tally: sums per directory, counts the files no test loaded, sorts by name', async (t) => {
  const rows = tally([
    file('src/wire/codec.ts', 100, 90),
    file('src/core/step.ts', 50, 50),
    file('src/core/views.ts', 30, 0, false),
    file('src/main.ts', 10, 0, false),
  ]);
  t.same(rows, [
    { dir: 'src', files: 1, unloaded: 1, total: 10, covered: 0 },
    { dir: 'src/core', files: 2, unloaded: 1, total: 80, covered: 50 },
    { dir: 'src/wire', files: 1, unloaded: 0, total: 100, covered: 90 },
  ]);
  t.equal(percent(rows[1]), 62.5);
  t.equal(percent({ total: 0, covered: 0 }), 100, 'nothing to cover is nothing uncovered');
});

t.test('gateFailures: the floor itself passes, one line below fails and says where', async (t) => {
  const at = tally([file('src/core/a.ts', 1000, 900), file('src/wire/b.ts', 10, 10)]);
  t.same(gateFailures(at, GATE), [], '90.0 % passes a 90 % floor');
  const below = tally([file('src/core/a.ts', 1000, 899), file('src/wire/b.ts', 10, 10)]);
  const failures = gateFailures(below, GATE);
  t.equal(failures.length, 1);
  t.match(failures[0], /^src\/core: 89\.9 % of lines covered \(899 of 1000\), below the 90 % floor$/);
  t.same(gateFailures(below, { dirs: ['src/wire'], minPercent: 90 }), [], 'directories off the gate are only reported');
});

t.test('gateFailures: a file no test loads drags its directory down; a missing directory fails', async (t) => {
  const tested = [file('src/core/a.ts', 100, 100), file('src/wire/b.ts', 100, 100)];
  t.same(gateFailures(tally(tested), GATE), []);
  const withUntested = [...tested, file('src/wire/new.ts', 20, 0, false)];
  t.match(gateFailures(tally(withUntested), GATE), [/^src\/wire: 83\.3 % .*\(100 of 120\)/]);
  t.match(gateFailures(tally([file('src/core/a.ts', 1, 1)]), GATE), [/^src\/wire: no coverage recorded/]);
});

t.test('formatTable: one row per directory, the gated ones marked ok or FAIL', async (t) => {
  const rows = tally([file('src/core/a.ts', 100, 95), file('src/wire/b.ts', 100, 50), file('src/cli/c.ts', 10, 1)]);
  const lines = formatTable(rows, GATE).split('\n');
  t.match(lines[0], /^directory +files +not loaded +lines +covered +lines % +gate$/);
  t.match(lines[1], /^src\/cli +1 +0 +10 +1 +10\.0$/, 'no verdict off the gate');
  t.match(lines[2], /^src\/core .* 95\.0 +>= 90 ok$/);
  t.match(lines[3], /^src\/wire .* 50\.0 +< 90 FAIL$/);
});

t.test('hasCode: a file of types alone compiles to nothing; values and re-exports are code', async (t) => {
  t.equal(hasCode("import type { A } from './a.js';\n/** doc */\nexport interface B { a: A }\nexport type C = number;\n"), false);
  t.equal(hasCode("import { type A } from './a.js';\nexport type { A };\n"), false);
  t.equal(hasCode('export const x = 1;\n'), true);
  t.equal(hasCode('export function f(): void {}\n'), true);
  t.equal(hasCode("export { f } from './f.js';\n"), true);
});

t.test('lineCount: lines as the report counts them, a final newline ending the last one', async (t) => {
  t.equal(lineCount('a\nb\n'), 2);
  t.equal(lineCount('a\nb'), 2);
  t.equal(lineCount('\n\n'), 2);
  t.equal(lineCount(''), 0);
});

t.test('collectFiles: reported figures, unloaded files with code at zero, type files left out', async (t) => {
  const root = t.testdir({
    src: {
      core: {
        'step.ts': 'export const step = 1;\n',
        'types.ts': 'export interface T { a: number }\n',
        'new.ts': 'export function f(): number {\n  return 1;\n}\n',
      },
      'main.ts': 'console.log(1);\n',
      'notes.md': 'not a source file\n',
    },
  });
  const summary = {
    total: { lines: { total: 12, covered: 11 } },
    [resolve(root, 'src/core/step.ts')]: { lines: { total: 12, covered: 11 } },
    [resolve(root, 'src/main.ts')]: { lines: { total: 1, covered: 1 } },
  };
  t.throws(() => collectFiles(root), { message: /coverage-summary\.json is missing/ });
  // The report appears once tap has run.
  mkdirSync(resolve(root, '.tap/report'), { recursive: true });
  writeFileSync(resolve(root, SUMMARY), JSON.stringify(summary));
  t.same(collectFiles(root), [
    file('src/core/new.ts', 3, 0, false),
    file('src/core/step.ts', 12, 11),
    file('src/main.ts', 1, 1),
  ]);
});

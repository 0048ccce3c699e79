/**
 * The coverage gate, run from the repository root after tap (scripts/test.sh, `npm test`,
 * `npm run test:coverage`). package.json's tap config records coverage in the unit and
 * scenario tests only (test/cover/map.mjs) and writes a json-summary report; this prints one
 * line per directory of src/ and exits 1 when a gated directory has less than the floor of
 * its lines covered, naming the directory and its figure.
 */
import { collectFiles } from './collect.js';
import { formatTable, gateFailures, tally, type DirLines, type Gate } from './gate.js';

const GATE: Gate = { dirs: ['src/core', 'src/wire', 'src/config'], minPercent: 90 };

function main(): number {
  let rows: DirLines[];
  try {
    rows = tally(collectFiles(process.cwd()));
  } catch (err) {
    console.error(`coverage gate FAILED: ${(err as Error).message}`);
    return 1;
  }
  console.log('line coverage of src/ by the unit and scenario tests (the namespace drills are not counted):');
  console.log(formatTable(rows, GATE));
  const failures = gateFailures(rows, GATE);
  for (const f of failures) console.error(`coverage gate FAILED: ${f}`);
  if (failures.length === 0) {
    console.log(`coverage gate passed: ${GATE.dirs.join(', ')} at >= ${GATE.minPercent} % of lines`);
  }
  return failures.length === 0 ? 0 : 1;
}

process.exitCode = main();

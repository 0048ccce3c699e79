// Property-based fuzzing of the wire codec. The properties are defined once in
// test/bench/fuzz-long.ts (which runs them for millions of cases); here they run for about
// 120k cases in total, each with a fresh random seed that fast-check prints on failure.
import t from 'tap';
import fc from 'fast-check';
import { runsFor, WIRE_PROPERTIES, type Tally } from '../bench/fuzz-long.js';

const TOTAL = 120_000;

t.test('wire codec properties', async (t) => {
  const runs = runsFor(TOTAL);
  t.ok(runs.reduce((a, b) => a + b, 0) >= 100_000, 'at least 100k cases in total');
  const tallies = new Map<string, Tally>();
  for (const [i, p] of WIRE_PROPERTIES.entries()) {
    const tally: Tally = new Map();
    tallies.set(p.name, tally);
    const started = performance.now();
    const details = fc.check(p.build(tally), { numRuns: runs[i] });
    t.comment(`${p.name}: ${details.numRuns} cases in ${Math.round(performance.now() - started)} ms`);
    t.notOk(details.failed, p.name, { diagnostic: details.failed, report: fc.defaultReportMessage(details) });
    t.equal(details.numRuns, runs[i], `${p.name}: every case ran`);
  }
  // A fuzzer that never gets past the MAC tests little: check the mutations reached every
  // stage of decode, including acceptance.
  const mutated = tallies.get('mutated datagrams never throw; unsigned changes are rejected');
  for (const outcome of ['truncated', 'bad-magic', 'bad-version', 'bad-mac', 'malformed', 'bad-type', 'wrong-cluster', 'ok']) {
    t.ok((mutated?.get(outcome) ?? 0) > 0, `mutations reached '${outcome}'`);
  }
  t.ok((tallies.get('signed random bodies never throw')?.get('malformed') ?? 0) > 0, 'signed garbage reached the parser');
});

// tap's coverage map (package.json "coverage-map"): for a test file, the files its run records
// coverage of. The unit tests and the simulator's scenarios run src/ inside the test process:
// they record src/**/*.ts. Every other test records nothing (null): the namespace drills run
// the agent as separate processes from dist/, and the bench's report test exercises test/bench.
// So the figures that test/cover/main.ts gates come from the in-process tests alone, and the
// drills' agents do not pay for the profiler.
export default (testFile) =>
  /^test\/(unit|scenarios)\//.test(testFile) ? ['src/**/*.ts'] : null;

#!/usr/bin/env bash
# The whole test suite: type-check, lint, unit + scenario tests, namespace drills, then the
# coverage gate on that same tap run (test/cover/main.ts: src/core, src/wire and src/config
# must have >= 90 % of their lines run by the unit and scenario tests; every src/ directory is
# reported). Ends with one line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
node dist/test/netns/sweep.js 2>/dev/null || true   # stale namespaces of crashed runs
status=0
npx tsc --noEmit -p . || status=1
npx eslint . || status=1
out=$(mktemp)
rm -f .tap/report/coverage-summary.json   # a run that records nothing must not pass on an old report
npx tap --reporter=base 2>&1 | tee "$out"
tap_status=${PIPESTATUS[0]}
[ "$tap_status" -eq 0 ] || status=1
node dist/test/cover/main.js || status=1
summary=$(grep -E '^# \{ total' "$out" | tail -1)
rm -f "$out"
pass=$(sed -nE 's/.*pass: ([0-9]+).*/\1/p' <<<"$summary"); pass=${pass:-0}
fail=$(sed -nE 's/.*fail: ([0-9]+).*/\1/p' <<<"$summary"); fail=${fail:-0}
[ "$status" -eq 0 ] || [ "$fail" -gt 0 ] || fail=1   # a tsc, lint or coverage failure counts as one
echo "${pass} passed, ${fail} failed"
exit "$status"

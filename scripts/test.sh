#!/usr/bin/env bash
# Set-up, then every test. Real-clip tests run when ../shared/data exists and are skipped (with the
# reason) when it does not. Ends with one 'N passed, N failed, N skipped' line.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
log=$(mktemp)
dotnet test LipNet.ML.sln -c Release --no-restore --logger "console;verbosity=normal" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# vstest's summary: "Passed!  - Failed: 0, Passed: 94, Skipped: 0, ..." (minimal) or, with normal
# verbosity, "Total tests: N" followed by "Passed: N" / "Failed: N" / "Skipped: N" lines.
count() { grep -E "^\s+$1: +[0-9]+\s*$" "$log" | tail -n 1 | grep -oE '[0-9]+' || true; }
passed=$(count Passed); failed=$(count Failed); skipped=$(count Skipped)
if [ -z "$passed$failed" ]; then
  line=$(grep -E '(Passed|Failed)! +- +Failed: ' "$log" | tail -n 1)
  failed=$(sed -nE 's/.*Failed: +([0-9]+).*/\1/p' <<<"$line")
  passed=$(sed -nE 's/.*Passed: +([0-9]+).*/\1/p' <<<"$line")
  skipped=$(sed -nE 's/.*Skipped: +([0-9]+).*/\1/p' <<<"$line")
fi
rm -f "$log"
if [ -n "$passed$failed" ]; then
  echo "${passed:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped"
fi
exit "$status"

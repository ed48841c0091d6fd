#!/usr/bin/env bash
# Set-up, then every test. Real-clip tests run when ../shared/data exists and are skipped (with the
# reason) when it does not. Ends with one 'N passed, N failed, N skipped' line.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
log=$(mktemp)
dotnet test LipNet.ML.sln -c Release --no-restore --logger "console;verbosity=normal" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
summary=$(grep -E '(Passed|Failed)! +- +Failed: ' "$log" | tail -n 1)
failed=$(sed -E 's/.*Failed: +([0-9]+).*/\1/' <<<"$summary")
passed=$(sed -E 's/.*Passed: +([0-9]+).*/\1/' <<<"$summary")
skipped=$(sed -E 's/.*Skipped: +([0-9]+).*/\1/' <<<"$summary")
rm -f "$log"
if [ -n "$summary" ]; then
  echo "${passed} passed, ${failed} failed, ${skipped} skipped"
fi
exit "$status"

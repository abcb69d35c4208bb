#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test. Azurite-backed tests start their own Azurite process
# (tests/Loyalty.Testing/AzuriteServer.cs) on free ports, so nothing needs to be running beforehand.
# Extra arguments go to `dotnet test`, e.g. scripts/test.sh --filter "FullyQualifiedName~Enrol".
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/install.sh
set +e
mkdir -p artifacts

dotnet build LoyaltyFunctions.sln -c Release --no-restore --verbosity quiet -nologo || exit 1
dotnet test LoyaltyFunctions.sln -c Release --no-build -nologo \
  --logger "console;verbosity=normal" --results-directory "$ROOT/artifacts/test-results" "$@" > artifacts/test.log 2>&1
status=$?

# Failures in full, then one line per test assembly, then the total.
grep -E "^\s+Failed |Error Message|^\s+(Assert|Expected|Actual)|^\s+at Loyalty" -A0 artifacts/test.log | head -200
grep -E "^(Passed|Failed)!" artifacts/test.log
passed=$(grep -E "^(Passed|Failed)!" artifacts/test.log | grep -oE "Passed: +[0-9]+" | awk '{s+=$2} END {print s+0}')
failed=$(grep -E "^(Passed|Failed)!" artifacts/test.log | grep -oE "Failed: +[0-9]+" | awk '{s+=$2} END {print s+0}')
skipped=$(grep -E "^(Passed|Failed)!" artifacts/test.log | grep -oE "Skipped: +[0-9]+" | awk '{s+=$2} END {print s+0}')
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  tail -40 artifacts/test.log
fi
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"

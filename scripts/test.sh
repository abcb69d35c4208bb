#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test. Azurite-backed tests start their own Azurite process
# (tests/Loyalty.Testing/AzuriteServer.cs) on free ports, so nothing needs to be running beforehand.
# Extra arguments go to `dotnet test`, e.g. scripts/test.sh --filter "FullyQualifiedName~Enrol".
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/install.sh
# The dashboard's browser test drives headless Chromium; a CJK font makes its screenshot readable.
command -v chromium >/dev/null && dpkg -s fonts-wqy-zenhei >/dev/null 2>&1 || apt_install chromium fonts-wqy-zenhei
set +e
mkdir -p artifacts

dotnet build LoyaltyFunctions.sln -c Release --no-restore --verbosity quiet -nologo || exit 1
# The deployment package is built once here; tests/…/PackageTests unpack and run it (they build it themselves otherwise).
LOYALTY_PACKAGE="$(bash scripts/publish.sh "$ROOT/artifacts/publish" | tail -n 1)" || exit 1
export LOYALTY_PACKAGE
# Processes the tests start (Azurite, workers of the local host) must end with them, also when a test host is killed.
leftovers() { pgrep -f -- "--inMemoryPersistence|Loyalty.LocalHost.SampleApp.dll|Loyalty.Functions.dll" | sort; }
before="$(leftovers)"
dotnet test LoyaltyFunctions.sln -c Release --no-build -nologo \
  --logger "console;verbosity=normal" --results-directory "$ROOT/artifacts/test-results" "$@" > artifacts/test.log 2>&1
status=$?

# Failed tests with their messages, then the totals of every test assembly added up.
grep -E "^\s+Failed [A-Za-z]" -A 8 artifacts/test.log | head -200
sum() { grep -E "^\s+$1: +[0-9]+" artifacts/test.log | awk '{s+=$2} END {print s+0}'; }
passed=$(sum Passed); failed=$(sum Failed); skipped=$(sum Skipped)
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  tail -40 artifacts/test.log
fi
echo "$passed passed, $failed failed, $skipped skipped"

left=""
for _ in $(seq 1 10); do
  left="$(comm -13 <(echo "$before") <(leftovers) | tr '\n' ' ' | xargs)"
  [ -z "$left" ] && break
  sleep 1
done
if [ -n "$left" ]; then
  echo "processes started by the tests outlived them (now stopped):"
  ps -o pid,args -p "${left// /,}" | cut -c1-160
  kill $left 2>/dev/null
  status=1
fi
exit "$status"

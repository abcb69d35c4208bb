#!/usr/bin/env bash
# The benchmark (design.md section 8): starts Azurite (in memory) and the app under the local Functions host, seeds members across
# regions and stores, measures the storage bound, sales through the app, and a store day, then checks the ledger
# invariants of every member touched. Prints a report and writes artifacts/bench/result.json.
#   BENCH_MEMBERS (10000)  BENCH_TERMINALS (32)  BENCH_SECONDS per phase (20)  BENCH_PORT (7171)
#   BENCH_CAMPAIGN_MEMBERS (20000): dormant members of the reactivation campaign phase
#   BENCH_PHASES (store,campaign,durable): which phases run, e.g. BENCH_PHASES=campaign for the campaign alone
#   BENCH_AZURITE_SPLIT (0): 1 runs Azurite's table and queue services as two processes (one core each)
# Exits non-zero when any request errs or any invariant fails.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/install.sh

MEMBERS="${BENCH_MEMBERS:-10000}"
TERMINALS="${BENCH_TERMINALS:-32}"
SECONDS_PER_PHASE="${BENCH_SECONDS:-20}"
PORT="${BENCH_PORT:-7171}"
QPORT=$((PORT + 1001)); TPORT=$((PORT + 1002)); BPORT=$((PORT + 1000))
KEY="bench-admin-$(head -c 12 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')-key"
export Loyalty__PhoneHashKey="bench-phone-hash-key-0123456789"

dotnet build LoyaltyFunctions.sln -c Release --no-restore --verbosity quiet -nologo >/dev/null
source scripts/lib.sh
start_tracking ""

mkdir -p artifacts/bench
PHASES=",${BENCH_PHASES:-store,campaign,durable},"
if [ "${BENCH_AZURITE_SPLIT:-0}" = 1 ]; then
  "$(dirname "$AZURITE_BIN")/azurite-table" --silent --inMemoryPersistence --skipApiVersionCheck --disableProductStyleUrl \
    --tableHost 127.0.0.1 --tablePort "$TPORT" >artifacts/bench/azurite-table.log 2>&1 &
  track $!
  "$(dirname "$AZURITE_BIN")/azurite-queue" --silent --inMemoryPersistence --skipApiVersionCheck --disableProductStyleUrl \
    --queueHost 127.0.0.1 --queuePort "$QPORT" >artifacts/bench/azurite-queue.log 2>&1 &
  track $!
else
  "$AZURITE_BIN" --silent --inMemoryPersistence --skipApiVersionCheck --disableProductStyleUrl \
    --blobHost 127.0.0.1 --queueHost 127.0.0.1 --tableHost 127.0.0.1 --blobPort "$BPORT" --queuePort "$QPORT" --tablePort "$TPORT" \
    >artifacts/bench/azurite.log 2>&1 &
  track $!
fi
STORAGE="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;TableEndpoint=http://127.0.0.1:$TPORT/devstoreaccount1;QueueEndpoint=http://127.0.0.1:$QPORT/devstoreaccount1;"
for _ in $(seq 1 100); do port_open "$TPORT" && break; sleep 0.1; done

# The app's build output (the isolated worker) under the local Functions host; the worker's memory is what is sampled.
LoyaltyStorage="$STORAGE" AzureWebJobsStorage="$STORAGE" LOYALTY_ADMIN_KEY="$KEY" \
  Loyalty__QueuePrefix="" Logging__LogLevel__Default=Warning LOCALHOST_LOG_LEVEL=Warning \
  dotnet src/Loyalty.LocalHost/bin/Release/net10.0/Loyalty.LocalHost.dll --app src/Loyalty.Functions/bin/Release/net10.0 --port "$PORT" \
  >artifacts/bench/app.log 2>&1 &
HOST_PID=$!
track "$HOST_PID"
for _ in $(seq 1 150); do curl -sf "http://127.0.0.1:$PORT/api/health" >/dev/null && break; sleep 0.2; done
APP_PID="$(pgrep -P "$HOST_PID" -f Loyalty.Functions.dll | head -n 1)"
[ -n "$APP_PID" ] || { echo "bench: the worker did not start (see artifacts/bench/app.log)"; exit 1; }

status=0
if [[ "$PHASES" == *,store,* ]]; then
  dotnet bench/Loyalty.Bench/bin/Release/net10.0/Loyalty.Bench.dll \
    --app "http://127.0.0.1:$PORT" --key "$KEY" --storage "$STORAGE" --app-pid "$APP_PID" \
    --members "$MEMBERS" --terminals "$TERMINALS" --seconds "$SECONDS_PER_PHASE" --json artifacts/bench/result.json || status=$?
fi

# A reactivation campaign over BENCH_CAMPAIGN_MEMBERS (20000) dormant members, through the management API.
if [[ "$PHASES" == *,campaign,* ]]; then
  dotnet bench/Loyalty.Bench/bin/Release/net10.0/Loyalty.Bench.dll --campaign-only \
    --app "http://127.0.0.1:$PORT" --key "$KEY" --storage "$STORAGE" --members "${BENCH_CAMPAIGN_MEMBERS:-20000}" \
    --terminals 1 --seconds 1 --json artifacts/bench/campaign.json || status=$?
fi

# The orchestration runtime on the same Azurite: sequential and fan-out/fan-in activities per second, 1,000 instances.
if [[ "$PHASES" == *,durable,* ]]; then
  dotnet bench/Loyalty.Bench/bin/Release/net10.0/Loyalty.Bench.dll --durable-only \
    --app "http://127.0.0.1:$PORT" --key "$KEY" --storage "$STORAGE" --json artifacts/bench/durable.json || status=$?
fi
exit "$status"

#!/usr/bin/env bash
# The benchmark (design.md section 8): starts Azurite (in memory) and the app under the local Functions host, seeds members across
# regions and stores, measures the storage bound, sales through the app, and a store day, then checks the ledger
# invariants of every member touched. Prints a report and writes artifacts/bench/result.json.
#   BENCH_MEMBERS (10000)  BENCH_TERMINALS (32)  BENCH_SECONDS per phase (20)  BENCH_PORT (7171)
#   BENCH_CAMPAIGN_MEMBERS (20000): dormant members of the reactivation campaign phase
#   BENCH_PHASES (store,campaign,batch,durable): which phases run, e.g. BENCH_PHASES=campaign for the campaign alone
#   BENCH_BATCH_MEMBERS (100000), BENCH_BATCH_TOP_UPS (10000): rows of the batch phase's member import and top-up batch
#   BENCH_AZURITE_SPLIT (0): 1 runs Azurite's table and queue services as two processes (one core each)
#   BENCH_DURABLE_PORT (BENCH_PORT + 1): the durable phase's benchmark app (bench/Loyalty.Bench.DurableApp)
#   BENCH_DURABLE_ARGS: extra driver arguments of the durable phase, e.g. "--sequential 40 --fan-out 100 --instances 100"
# The durable phase runs its own app under the local host, not the loyalty app: BENCH_PHASES=durable builds and starts
# only what it needs (the local host, the driver and that app).
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

PHASES=",${BENCH_PHASES:-store,campaign,batch,durable},"
# The store and campaign phases run the loyalty app; the durable phase alone needs neither it nor the rest of the solution.
APP_PHASES=0
if [[ "$PHASES" == *,store,* || "$PHASES" == *,campaign,* || "$PHASES" == *,batch,* ]]; then APP_PHASES=1; fi
if [ "$APP_PHASES" = 1 ]; then
  dotnet build LoyaltyFunctions.sln -c Release --no-restore --verbosity quiet -nologo >/dev/null
elif [[ "$PHASES" == *,durable,* ]]; then
  for project in src/Loyalty.LocalHost bench/Loyalty.Bench.DurableApp bench/Loyalty.Bench; do
    dotnet build "$project" -c Release --no-restore --disable-build-servers --verbosity quiet -nologo >/dev/null
  done
fi
source scripts/lib.sh
start_tracking ""

mkdir -p artifacts/bench
if [ "${BENCH_AZURITE_SPLIT:-0}" = 1 ]; then
  "$(dirname "$AZURITE_BIN")/azurite-table" --silent --inMemoryPersistence --skipApiVersionCheck --disableProductStyleUrl \
    --tableHost 127.0.0.1 --tablePort "$TPORT" >artifacts/bench/azurite-table.log 2>&1 &
  track $!
  "$(dirname "$AZURITE_BIN")/azurite-queue" --silent --inMemoryPersistence --skipApiVersionCheck --disableProductStyleUrl \
    --queueHost 127.0.0.1 --queuePort "$QPORT" >artifacts/bench/azurite-queue.log 2>&1 &
  track $!
  # Durable Functions keep their partition leases in blobs.
  "$(dirname "$AZURITE_BIN")/azurite-blob" --silent --inMemoryPersistence --skipApiVersionCheck --disableProductStyleUrl \
    --blobHost 127.0.0.1 --blobPort "$BPORT" >artifacts/bench/azurite-blob.log 2>&1 &
  track $!
else
  "$AZURITE_BIN" --silent --inMemoryPersistence --skipApiVersionCheck --disableProductStyleUrl \
    --blobHost 127.0.0.1 --queueHost 127.0.0.1 --tableHost 127.0.0.1 --blobPort "$BPORT" --queuePort "$QPORT" --tablePort "$TPORT" \
    >artifacts/bench/azurite.log 2>&1 &
  track $!
fi
STORAGE="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;TableEndpoint=http://127.0.0.1:$TPORT/devstoreaccount1;QueueEndpoint=http://127.0.0.1:$QPORT/devstoreaccount1;BlobEndpoint=http://127.0.0.1:$BPORT/devstoreaccount1;"
for _ in $(seq 1 100); do port_open "$TPORT" && port_open "$QPORT" && port_open "$BPORT" && break; sleep 0.1; done

if [ "$APP_PHASES" = 1 ]; then
  # The app's build output (the isolated worker) under the local Functions host; the worker's memory is what is sampled.
  LoyaltyStorage="$STORAGE" AzureWebJobsStorage="$STORAGE" LOYALTY_ADMIN_KEY="$KEY" Loyalty__TaskHub="benchapp" \
    Loyalty__QueuePrefix="" Logging__LogLevel__Default=Warning LOCALHOST_LOG_LEVEL=Warning \
    dotnet src/Loyalty.LocalHost/bin/Release/net10.0/Loyalty.LocalHost.dll --app src/Loyalty.Functions/bin/Release/net10.0 --port "$PORT" \
    >artifacts/bench/app.log 2>&1 &
  HOST_PID=$!
  track "$HOST_PID" 80
  for _ in $(seq 1 150); do curl -sf "http://127.0.0.1:$PORT/api/health" >/dev/null && break; sleep 0.2; done
  APP_PID="$(pgrep -P "$HOST_PID" -f Loyalty.Functions.dll | head -n 1)"
  [ -n "$APP_PID" ] || { echo "bench: the worker did not start (see artifacts/bench/app.log)"; exit 1; }
fi

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

# HQ batches: a BENCH_BATCH_MEMBERS-row member import (default 100000) and a BENCH_BATCH_TOP_UPS-row top-up batch
# (default 10000) through the API, with the storage bound of an import and the worker's memory.
if [[ "$PHASES" == *,batch,* ]]; then
  dotnet bench/Loyalty.Bench/bin/Release/net10.0/Loyalty.Bench.dll --batch-only \
    --app "http://127.0.0.1:$PORT" --key "$KEY" --storage "$STORAGE" --app-pid "$APP_PID" --members "${BENCH_BATCH_MEMBERS:-100000}" \
    --top-ups "${BENCH_BATCH_TOP_UPS:-10000}" --terminals 1 --seconds 1 --json artifacts/bench/batch.json || status=$?
fi

# The Durable Functions engine on the same Azurite, through the local host and a real isolated worker: the benchmark app
# (bench/Loyalty.Bench.DurableApp, host.json with the loyalty app's durableTask settings) on its own port and a fresh
# task hub. Sequential and fan-out/fan-in activities per second, 1,000 one-activity instances.
if [[ "$PHASES" == *,durable,* ]]; then
  # The loyalty app is done by now: stopping it leaves the cores to the engine being measured.
  if [ -n "${HOST_PID:-}" ]; then
    kill "$HOST_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$HOST_PID" 2>/dev/null || break; sleep 0.1; done
  fi
  DPORT="${BENCH_DURABLE_PORT:-$((PORT + 1))}"
  HUB="bench$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  AzureWebJobsStorage="$STORAGE" Loyalty__TaskHub="$HUB" Logging__LogLevel__Default=Warning LOCALHOST_LOG_LEVEL=Warning \
    dotnet src/Loyalty.LocalHost/bin/Release/net10.0/Loyalty.LocalHost.dll --app bench/Loyalty.Bench.DurableApp/bin/Release/net10.0 \
    --port "$DPORT" >artifacts/bench/durable-app.log 2>&1 &
  DURABLE_HOST_PID=$!
  track "$DURABLE_HOST_PID" 80
  # The host holds requests until the task hub exists and [DurableClient] bindings are in place, so health means ready.
  for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$DPORT/api/health" >/dev/null && break; kill -0 "$DURABLE_HOST_PID" 2>/dev/null || break; sleep 0.2; done
  curl -sf "http://127.0.0.1:$DPORT/api/health" >/dev/null || { echo "bench: the durable benchmark app does not answer (see artifacts/bench/durable-app.log)"; exit 1; }
  if [ -z "$(pgrep -P "$DURABLE_HOST_PID" -f Loyalty.Bench.DurableApp.dll | head -n 1)" ]; then
    echo "bench: the durable benchmark app did not start (see artifacts/bench/durable-app.log)"
    exit 1
  fi
  echo "durable: task hub $HUB, benchmark app on port $DPORT"
  dotnet bench/Loyalty.Bench/bin/Release/net10.0/Loyalty.Bench.dll --durable-only \
    --app "http://127.0.0.1:$DPORT" --storage "$STORAGE" --json artifacts/bench/durable.json ${BENCH_DURABLE_ARGS:-} || status=$?
fi
exit "$status"

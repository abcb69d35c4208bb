#!/usr/bin/env bash
# One command to try the app: installs what is missing, publishes the function app (the isolated worker), starts
# Azurite (data kept in .azurite/) and the local Functions host (src/Loyalty.LocalHost, the stand-in for `func start`)
# on 127.0.0.1:${LOYALTY_PORT:-7071}, seeds a small demo chain, prints keys and an example request last, and runs in
# the foreground until Ctrl-C, then stops what it started. If the host or the worker stops, so does this, with the
# reason. The host's own log is in artifacts/run-local.log.
#   LOYALTY_PORT        port of the functions (default 7071)
#   LOYALTY_ADMIN_KEY   the HQ admin API key (default: a new random key, printed)
#   LOYALTY_NO_SEED=1   skip the demo data
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/install.sh

export LOYALTY_PORT="${LOYALTY_PORT:-7071}"
export LOYALTY_ADMIN_KEY="${LOYALTY_ADMIN_KEY:-lk_admin_$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 32)}"
[ -f local.settings.json ] || cp local.settings.sample.json local.settings.json

echo "run-local: publishing the function app and building the local host"
PACKAGE="$ROOT/artifacts/publish/package"
bash scripts/publish.sh "$ROOT/artifacts/publish" >/dev/null
dotnet build src/Loyalty.LocalHost -c Release --no-restore --verbosity quiet -nologo >/dev/null

source scripts/lib.sh
start_tracking run-local

if port_open 10002 && port_open 10001; then
  echo "run-local: using the Azurite already listening on 10001/10002"
else
  mkdir -p .azurite
  "$AZURITE_BIN" --silent --skipApiVersionCheck --location .azurite \
    --blobHost 127.0.0.1 --queueHost 127.0.0.1 --tableHost 127.0.0.1 >.azurite/azurite.log 2>&1 &
  track $!
  for _ in $(seq 1 100); do port_open 10002 && port_open 10001 && break; sleep 0.1; done
  port_open 10002 || { echo "run-local: Azurite did not start (see .azurite/azurite.log)"; exit 1; }
fi

if port_open "$LOYALTY_PORT"; then
  echo "run-local: port $LOYALTY_PORT is taken; set LOYALTY_PORT to another port"; exit 1
fi
mkdir -p artifacts
LOG="$ROOT/artifacts/run-local.log"
dotnet src/Loyalty.LocalHost/bin/Release/net10.0/Loyalty.LocalHost.dll \
  --app "$PACKAGE" --port "$LOYALTY_PORT" --settings "$ROOT/local.settings.json" >"$LOG" 2>&1 &
host=$!
track $host 80

# Stops at once, with the host's last lines, when the host (or the worker, which ends the host) is gone.
host_gone() {
  echo "run-local: the local Functions host stopped; its last lines:"
  tail -n 15 "$LOG" | sed 's/^/  /'
  exit 1
}
for _ in $(seq 1 300); do
  kill -0 "$host" 2>/dev/null || host_gone
  curl -sf "http://127.0.0.1:$LOYALTY_PORT/api/health" >/dev/null && break
  sleep 0.2
done
curl -sf "http://127.0.0.1:$LOYALTY_PORT/api/health" >/dev/null || { echo "run-local: the app did not become healthy (see $LOG)"; exit 1; }

terminal_key=""
if [ "${LOYALTY_NO_SEED:-0}" != "1" ]; then
  terminal_key="$(bash scripts/seed-demo-data.sh "http://127.0.0.1:$LOYALTY_PORT" "$LOYALTY_ADMIN_KEY")"
fi

cat <<INFO

LoyaltyFunctions is running on http://127.0.0.1:$LOYALTY_PORT (the isolated worker under the local Functions host,
Azurite storage in .azurite/, host log in artifacts/run-local.log)
  admin key (hqAdmin):              $LOYALTY_ADMIN_KEY
${terminal_key:+  terminal key (store sh-001):      $terminal_key
}
Try:
  curl -s http://127.0.0.1:$LOYALTY_PORT/api/members?phone=13800000001 -H "X-Api-Key: $LOYALTY_ADMIN_KEY"

More requests: docs/api.md. Ctrl-C stops the host, the worker and Azurite.
INFO
set +e
wait "$host"
status=$?
# A Ctrl-C arrives here through the trap; any other end of the host is reported.
[ "$status" -eq 0 ] || host_gone

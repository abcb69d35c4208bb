#!/usr/bin/env bash
# One command to try the app: installs what is missing, starts Azurite (data kept in .azurite/) and the function app
# in local mode on 127.0.0.1:${LOYALTY_PORT:-7071}, seeds a small demo chain, prints keys and an example request,
# and runs in the foreground until Ctrl-C, then stops what it started.
#   LOYALTY_PORT        port of the app (default 7071)
#   LOYALTY_ADMIN_KEY   the HQ admin API key (default: a new random key, printed)
#   LOYALTY_NO_SEED=1   skip the demo data
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/install.sh

export LOYALTY_PORT="${LOYALTY_PORT:-7071}"
export LOYALTY_ADMIN_KEY="${LOYALTY_ADMIN_KEY:-lk_admin_$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 32)}"
[ -f local.settings.json ] || cp local.settings.sample.json local.settings.json

echo "run-local: building"
dotnet build src/Loyalty.Functions -c Release --no-restore --verbosity quiet -nologo >/dev/null

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
dotnet src/Loyalty.Functions/bin/Release/net10.0/Loyalty.Functions.dll &
track $!
for _ in $(seq 1 150); do curl -sf "http://127.0.0.1:$LOYALTY_PORT/api/health" >/dev/null && break; sleep 0.2; done
curl -sf "http://127.0.0.1:$LOYALTY_PORT/api/health" >/dev/null || { echo "run-local: the app did not become healthy"; exit 1; }

terminal_key=""
if [ "${LOYALTY_NO_SEED:-0}" != "1" ]; then
  terminal_key="$(bash scripts/seed-demo-data.sh "http://127.0.0.1:$LOYALTY_PORT" "$LOYALTY_ADMIN_KEY")"
fi

cat <<INFO

LoyaltyFunctions is running on http://127.0.0.1:$LOYALTY_PORT (local mode, Azurite storage in .azurite/)
  admin key (hqAdmin):              $LOYALTY_ADMIN_KEY
${terminal_key:+  terminal key (store sh-001):      $terminal_key
}
Try:
  curl -s http://127.0.0.1:$LOYALTY_PORT/api/members?phone=13800000001 -H "X-Api-Key: $LOYALTY_ADMIN_KEY"

More requests: docs/api.md. Ctrl-C stops the app and Azurite.
INFO
wait "${pids[-1]}"

#!/usr/bin/env bash
# Lists or replays the poison messages of a function's queue.
# Usage: scripts/poison.sh list|replay QUEUE [BASE_URL]   (LOYALTY_ADMIN_KEY: an hqAdmin or ops key)
set -euo pipefail
ACTION="${1:?list or replay}"; QUEUE="${2:?queue, e.g. order-events or pos-sales}"
BASE="${3:-http://127.0.0.1:${LOYALTY_PORT:-7071}}"
KEY="${LOYALTY_ADMIN_KEY:?set LOYALTY_ADMIN_KEY to an hqAdmin or ops key}"
case "$ACTION" in
  list) curl -sS "$BASE/api/ops/queues/$QUEUE/poison" -H "X-Api-Key: $KEY" ;;
  replay) curl -sS -X POST "$BASE/api/ops/queues/$QUEUE/poison/replay" -H "X-Api-Key: $KEY" ;;
  *) echo "poison: list or replay" >&2; exit 2 ;;
esac
echo

#!/usr/bin/env bash
# Checks every member's balances against the ledger (POST /api/ops/reconcile) and exits non-zero when any member
# breaks an invariant. Usage: scripts/reconcile.sh [BASE_URL] (key from LOYALTY_ADMIN_KEY, an hqAdmin or ops key).
set -euo pipefail
BASE="${1:-http://127.0.0.1:${LOYALTY_PORT:-7071}}"
KEY="${LOYALTY_ADMIN_KEY:?set LOYALTY_ADMIN_KEY to an hqAdmin or ops key}"
report=$(curl -sS -X POST "$BASE/api/ops/reconcile" -H "X-Api-Key: $KEY")
echo "$report"
case "$report" in
  *'"ok":true'*) exit 0 ;;
  *) exit 1 ;;
esac

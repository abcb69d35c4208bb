#!/usr/bin/env bash
# Seeds a small demo chain through the public API: HQ, two regions, four stores, coupon templates and a sign-up gift
# pack, a terminal key for store sh-001, and six members. Safe to run again (fixed idempotency keys; an existing phone is reported and skipped).
# Usage: seed-demo-data.sh BASE_URL ADMIN_KEY   (prints the terminal key on stdout)
set -euo pipefail
BASE="${1:?base url}"
KEY="${2:?admin key}"

api() { # method path body [idempotency-key]
  curl -s -X "$1" "$BASE$2" -H "X-Api-Key: $KEY" -H "Content-Type: application/json" ${4:+-H "Idempotency-Key: $4"} -d "$3"
}

api PUT /api/config/org '{"nodes":[
  {"id":"hq","kind":"hq","name":"示例连锁"},
  {"id":"east","kind":"region","name":"华东大区"},
  {"id":"south","kind":"region","name":"华南大区"},
  {"id":"sh-001","kind":"store","name":"上海南京路店","parentId":"east"},
  {"id":"hz-001","kind":"store","name":"杭州西湖店","parentId":"east"},
  {"id":"gz-001","kind":"store","name":"广州天河店","parentId":"south"},
  {"id":"online","kind":"store","name":"小程序商城","parentId":"south"}]}' >/dev/null

# Coupons and a sign-up gift pack, so new members receive something to use at the till.
api PUT /api/config/coupon-templates '{"value":[
  {"templateId":"welcome-10","name":"新会员满50减10","kind":"amountOff","amountOff":1000,"minSpend":5000,"validDays":30,"reminderDaysBeforeExpiry":3},
  {"templateId":"dairy-90","name":"乳品九折","kind":"percentOff","percentOff":10,"maxDiscount":2000,"categories":["dairy"],"validDays":14},
  {"templateId":"free-coffee","name":"免费咖啡","kind":"freeItem","sku":"COFFEE","itemValue":1800,"validDays":7,"stacksWithMemberDiscount":false}]}' >/dev/null
api PUT /api/config/gift-packs '{"value":{"signUpPack":"welcome","packs":[
  {"packId":"welcome","name":"新人礼包","points":100,"coupons":[{"templateId":"welcome-10"},{"templateId":"free-coffee"}]}]}}' >/dev/null

# A fresh till key each run; the one an earlier run printed is revoked, so keys do not pile up.
earlier=$(curl -s "$BASE/api/principals" -H "X-Api-Key: $KEY" | grep -o '{[^{}]*"name":"sh-001 till 1"[^{}]*}' \
  | sed -n 's/.*"principalId":"\([^"]*\)".*/\1/p' || true)
for old in $earlier; do api POST "/api/principals/$old/revoke" '{}' >/dev/null; done
terminal=$(api POST /api/principals '{"role":"terminal","scopeId":"sh-001","name":"sh-001 till 1"}' | sed -n 's/.*"apiKey":"\([^"]*\)".*/\1/p')

i=0
first_member=""
for member in \
  '{"phone":"13800000001","name":"王芳","birthday":"1988-03-15","gender":"female","storeId":"sh-001","channel":"store","marketingConsent":true}' \
  '{"phone":"13800000002","name":"李伟","birthday":"1992-11-22","gender":"male","storeId":"sh-001","channel":"store"}' \
  '{"phone":"13800000003","name":"张敏","birthday":"1996-02-29","gender":"female","storeId":"hz-001","channel":"miniProgram"}' \
  '{"phone":"13800000004","name":"刘洋","birthday":"1985-07-01","storeId":"gz-001","channel":"callCenter"}' \
  '{"phone":"13800000005","name":"陈静","storeId":"online","channel":"web","marketingConsent":true}' \
  '{"phone":"13800000006","name":"杨磊","birthday":"2000-12-31","gender":"male","storeId":"hz-001","channel":"batchImport"}'; do
  i=$((i + 1))
  out=$(api POST /api/members "$member" "demo-member-$i")
  case "$out" in
    *'"memberId"'*) [ -n "$first_member" ] || first_member=$(printf '%s' "$out" | sed -n 's/.*"memberId":"\([^"]*\)".*/\1/p') ;;
    *duplicate_phone*) echo "seed: member $i exists already" >&2 ;;
    *) echo "seed: member $i failed: $out" >&2 ;;
  esac
done
if [ -n "$first_member" ]; then
  # Some history for the first member: a top-up with bonus, a sale paid partly with stored value, a partial refund.
  api POST "/api/members/$first_member/top-ups" '{"amount":50000,"channel":"storeTerminal","storeId":"sh-001"}' demo-topup-1 >/dev/null
  api POST /api/sales "{\"saleId\":\"demo-sh-001-0001\",\"storeId\":\"sh-001\",\"memberId\":\"$first_member\",\"payWithStoredValue\":10000,
    \"lines\":[{\"sku\":\"MILK-1L\",\"category\":\"dairy\",\"quantity\":2,\"unitPrice\":1590},{\"sku\":\"RICE-5KG\",\"category\":\"grocery\",\"quantity\":1,\"unitPrice\":6990}]}" demo-sale-1 >/dev/null
  api POST /api/sales/demo-sh-001-0001/refunds '{"refundId":"demo-r1","lines":[{"line":0,"quantity":1}]}' demo-refund-1 >/dev/null
fi
# The programme-health figures of the dashboard come from the daily snapshot: take the first one now.
api POST /api/ops/reports/snapshot '{}' demo-snapshot >/dev/null
echo "seed: demo chain ready (2 regions, 4 stores, 6 members with a sign-up gift pack; ledger history on 13800000001)" >&2
echo "$terminal"

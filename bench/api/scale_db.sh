#!/usr/bin/env bash
# A database of N generated transactions for timing the read endpoints at scale (bench/api/scale_endpoints.sh).
#   PGHOST=... PGPORT=... PGUSER=postgres bench/api/scale_db.sh DB N
# Reuses the bulk path of bench/rollups/scale.sh and overview.sh: the generator's catalogue and customers, then its
# N transactions streamed into one COPY (never row by row) with techmart.scoring = off and
# session_replication_role = replica (no row trigger: amount = quantity * unit_price in the stream; is_suspicious =
# the generator's ground truth, fraud_score 60-99 for those lines and 0-39 for the others, as if scored; the planted
# patterns into planted_fraud), one alert per suspicious line (resolved unless in the last two days, where a third is
# acknowledged and the rest open), then in one pass each: analytics.alert_counts_rebuild(), analytics.rollup_rebuild(),
# analytics.product_daily_rebuild(), analytics.customers_spent_rebuild(), analytics.customer_months_rebuild(), techmart.rebuild_state(), VACUUM ANALYZE. The data ends at the current hour
# (--end), so the endpoints' default ranges (now - 30 days etc.) cover it. DB is dropped first.
# Env: GEN (techmart-gen), CUSTOMERS [100000], PRODUCTS [2000], DAYS [60].
set -Eeuo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DB="${1:?database name}"; N="${2:?number of transactions}"
GEN="${GEN:-$ROOT/build/data/generator/techmart-gen}"
[ -x "$GEN" ] || { echo "techmart-gen not found (build it or set GEN)"; exit 1; }
CUSTOMERS="${CUSTOMERS:-100000}"; PRODUCTS="${PRODUCTS:-2000}"; DAYS="${DAYS:-60}"
END="${END:-$(date -u +%Y-%m-%dT%H:00:00Z)}"
args=(--customers "$CUSTOMERS" --products "$PRODUCTS" --days "$DAYS" --transactions "$N" --end "$END")
P=(psql -X -q -v ON_ERROR_STOP=1 -d "$DB")
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
t0=$(date +%s)
step() { echo "# $DB: $* ($(( $(date +%s) - t0 )) s)"; }

psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
(cd "$ROOT/migrations" && sqitch --quiet deploy "db:pg:$DB" >/dev/null)
"$GEN" --stdout categories "${args[@]}" | "${P[@]}" -c "\copy categories (id, name, description) FROM STDIN (FORMAT csv, HEADER)"
"$GEN" --stdout suppliers "${args[@]}" | "${P[@]}" -c "\copy suppliers (id, name, reliability_score, country, contact_email) FROM STDIN (FORMAT csv, HEADER)"
"$GEN" --stdout products "${args[@]}" | "${P[@]}" -c "\copy products (id, sku, name, description, category_id, price, stock_quantity, low_stock_threshold, supplier_id) FROM STDIN (FORMAT csv, HEADER)"
"$GEN" --stdout customers "${args[@]}" | "${P[@]}" -c "\copy customers (id, email, name, country, city, home_lat, home_lon, registration_date) FROM STDIN (FORMAT csv, HEADER)"
step "catalogue and $CUSTOMERS customers"

# fields 1-16 of the generator, then amount, fraud_score, is_suspicious, fraud_reasons; the planted patterns aside
touch "$TMP/planted"
REASON='"[{""rule"": ""amount_zscore"", ""value"": 4.1, ""threshold"": 3, ""contribution"": 40, ""detail"": ""amount 4.1 standard deviations above the customer mean""}]"'
"$GEN" --stdout transactions "${args[@]}" \
  | awk -F, -v OFS=, -v reason="$REASON" -v planted="$TMP/planted" '
      NR == 1 { print "header"; next }
      { s = ($17 == "") ? "f" : "t"; if (s == "t") print $1 "," $17 > planted
        score = (s == "t") ? 60 + ($1 * 7919) % 40 : ($1 * 104729) % 40
        $17 = ""; NF = 16; printf "%s,%.3f,%d,%s,%s\n", $0, $4 * $5, score, s, (s == "t") ? reason : "[]" }
      END { close(planted) }' \
  | PGOPTIONS="-c techmart.scoring=off -c session_replication_role=replica" "${P[@]}" -c "\copy transactions (id, customer_id, product_id, quantity, unit_price, transaction_time, status, payment_method, platform, order_number, country, latitude, longitude, device_id, ip_address, payment_fingerprint, amount, fraud_score, is_suspicious, fraud_reasons) FROM STDIN (FORMAT csv, HEADER)"
"${P[@]}" -c "\copy planted_fraud (transaction_id, pattern) FROM '$TMP/planted' (FORMAT csv)"
step "$N transactions copied"
PGOPTIONS="-c session_replication_role=replica" "${P[@]}" <<'SQL'
SELECT setval(pg_get_serial_sequence('transactions', 'id'), (SELECT max(id) + 1 FROM transactions), false);
ANALYZE transactions;
INSERT INTO alerts (type, severity, message, transaction_id, customer_id, product_id, status, created_at,
                    acknowledged_at, resolved_at)
SELECT 'planted_fraud', (ARRAY['low', 'medium', 'high', 'critical'])[1 + t.id % 4], 'bench: suspicious line',
       t.id, t.customer_id, t.product_id,
       CASE WHEN t.transaction_time < e.t_end - interval '2 days' THEN 'resolved'
            WHEN t.id % 3 = 0 THEN 'acknowledged' ELSE 'open' END,
       t.transaction_time,
       CASE WHEN t.transaction_time < e.t_end - interval '2 days' OR t.id % 3 = 0
            THEN t.transaction_time + make_interval(hours => 1 + (t.id % 4)::int) END,
       CASE WHEN t.transaction_time < e.t_end - interval '2 days'
            THEN t.transaction_time + make_interval(hours => 5 + (t.id % 20)::int) END
  FROM transactions t, (SELECT max(transaction_time) AS t_end FROM transactions) e
 WHERE t.is_suspicious
 ORDER BY t.transaction_time;
SQL
step "$("${P[@]}" -tA -c "SELECT count(*) FROM alerts") alerts"
"${P[@]}" -c "SELECT analytics.alert_counts_rebuild()" >/dev/null
"${P[@]}" -c "SELECT analytics.rollup_rebuild()" >/dev/null
"${P[@]}" -c "SELECT analytics.product_daily_rebuild()" >/dev/null  # the COPY above ran with session_replication_role = replica
step "rollups rebuilt"
"${P[@]}" -c "SELECT analytics.customers_spent_rebuild()" >/dev/null
"${P[@]}" -c "SELECT analytics.customer_months_rebuild()" >/dev/null
"${P[@]}" -c "SELECT techmart.rebuild_state()" >/dev/null
step "customers' spend, monthly rollups and scoring state rebuilt"
"${P[@]}" -c "VACUUM ANALYZE"
"${P[@]}" -c "CREATE TABLE bench_loaded AS SELECT $N::bigint AS n, now() AS loaded_at"
step "done: $N transactions"

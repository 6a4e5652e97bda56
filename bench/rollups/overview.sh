#!/usr/bin/env bash
# Dashboard overview and 30 days of hourly sales at several table sizes (issue 4: "median under
# 5 ms each with 10,000,000 transactions, and no more than 1.5x their median at 100,000").
#   PGHOST=... PGPORT=... PGUSER=postgres bench/rollups/overview.sh [SIZE ...]   (default: 100000 10000000)
# For each SIZE: database techmart_bench_ov_SIZE (kept; REUSE=1 reuses a complete earlier load),
# migrations deployed, the generator's catalogue and customers, then SIZE transactions over DAYS
# days loaded by the history path: COPY with techmart.scoring = off and session_replication_role =
# replica (no row trigger, no FK check: the generator's references are consistent; amount computed
# in the stream, is_suspicious = the generator's ground truth, as if scored), one alert per
# suspicious line (created at its time; resolved after a few hours unless in the last two days,
# where a third is acknowledged and the rest open), then analytics.rollup_rebuild() and VACUUM
# ANALYZE. as_of = the last hour of the data + 37 minutes (a partial hour at both ends of the
# comparison). Timed in the server, median / p95 of REPEAT calls after 20 warm-ups:
#   overview  api.dashboard_overview(as_of)
#   hourly    api.hourly_sales(as_of - 30 days, as_of)
# and each part of the overview alone (sales totals, active customers, alert counts, low stock).
# Prints one table per size, then the ratio of the medians last size / first size and the target.
# Env: GEN (techmart-gen), CUSTOMERS [50000], PRODUCTS [1000], DAYS [60], REPEAT [200], REUSE [0].
set -Eeuo pipefail
# Transactions of a generated history or on random products: the stock upkeep (change stock_sales)
# is off, as for any load of past transactions (its own cost: bench/RESULTS.md "Sales move the stock").
export PGOPTIONS="${PGOPTIONS:-} -c techmart.track_stock=off"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SIZES=("$@"); [ ${#SIZES[@]} -gt 0 ] || SIZES=(100000 10000000)
GEN="${GEN:-$ROOT/build/data/generator/techmart-gen}"
[ -x "$GEN" ] || { echo "techmart-gen not found (build it or set GEN)"; exit 1; }
CUSTOMERS="${CUSTOMERS:-50000}"; PRODUCTS="${PRODUCTS:-1000}"; DAYS="${DAYS:-60}"
REPEAT="${REPEAT:-200}"; REUSE="${REUSE:-0}"
P=(psql -X -q -v ON_ERROR_STOP=1)
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT

load() {  # load N transactions into database $1 by the history path
  local db="$1" n="$2" args=(--customers "$CUSTOMERS" --products "$PRODUCTS" --days "$DAYS" --transactions "$2") t0 t1
  if [ "$REUSE" = 1 ] && [ "$(psql -XtA -d "$db" -c "SELECT n FROM bench_loaded" 2>/dev/null)" = "$n" ]; then
    echo "# $db: reusing the earlier load of $n transactions"; return 0
  fi
  psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
  (cd "$ROOT/migrations" && sqitch --quiet deploy "db:pg:$db" >/dev/null)
  export PGDATABASE="$db"
  "$GEN" --stdout categories "${args[@]}" | "${P[@]}" -c "\copy categories (id, name, description) FROM STDIN (FORMAT csv, HEADER)"
  "$GEN" --stdout suppliers "${args[@]}" | "${P[@]}" -c "\copy suppliers (id, name, reliability_score, country, contact_email) FROM STDIN (FORMAT csv, HEADER)"
  "$GEN" --stdout products "${args[@]}" | "${P[@]}" -c "\copy products (id, sku, name, description, category_id, price, stock_quantity, low_stock_threshold, supplier_id) FROM STDIN (FORMAT csv, HEADER)"
  "$GEN" --stdout customers "${args[@]}" | "${P[@]}" -c "\copy customers (id, email, name, country, city, home_lat, home_lon, registration_date) FROM STDIN (FORMAT csv, HEADER)"
  t0=$(date +%s)
  # fields 1-16 of the generator, amount = quantity * unit_price, is_suspicious from fraud_pattern (17)
  "$GEN" --stdout transactions "${args[@]}" \
    | awk -F, -v OFS=, 'NR == 1 { print "header"; next }
        { s = ($17 == "") ? "f" : "t"; $17 = ""; NF = 16; printf "%s,%.3f,%s\n", $0, $4 * $5, s }' \
    | PGOPTIONS="$PGOPTIONS -c techmart.scoring=off -c session_replication_role=replica" "${P[@]}" -c "\copy transactions (id, customer_id, product_id, quantity, unit_price, transaction_time, status, payment_method, platform, order_number, country, latitude, longitude, device_id, ip_address, payment_fingerprint, amount, is_suspicious) FROM STDIN (FORMAT csv, HEADER)"
  t1=$(date +%s); echo "# $db: $n transactions copied in $((t1 - t0)) s"
  PGOPTIONS="-c session_replication_role=replica" "${P[@]}" <<'SQL'
SELECT setval(pg_get_serial_sequence('transactions', 'id'), (SELECT max(id) + 1 FROM transactions), false);
ANALYZE transactions;
INSERT INTO alerts (type, severity, message, transaction_id, customer_id, product_id, status, created_at,
                    acknowledged_at, resolved_at)
SELECT 'planted_fraud', 'high', 'bench: suspicious line', t.id, t.customer_id, t.product_id,
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
  t1=$(date +%s); echo "# $db: alerts $(psql -XtA -c "SELECT count(*) FROM alerts"), $((t1 - t0)) s so far"
  "${P[@]}" -c "SELECT analytics.alert_counts_rebuild()" >/dev/null
  "${P[@]}" -c "SELECT analytics.rollup_rebuild()" >/dev/null
  t1=$(date +%s); echo "# $db: rollups rebuilt, $((t1 - t0)) s so far"
  "${P[@]}" -c "VACUUM ANALYZE"
  "${P[@]}" -c "CREATE TABLE bench_loaded AS SELECT $n::bigint AS n"
  echo "# $db: $n transactions loaded in $(( $(date +%s) - t0 )) s"
}

LAT_SQL=$(cat <<'SQL'
CREATE FUNCTION pg_temp.lat(q text, n int) RETURNS TABLE (median_ms numeric, p95_ms numeric) LANGUAGE plpgsql AS $$
DECLARE t timestamptz; ms float8[] := '{}';
BEGIN
  FOR i IN 1 .. 20 LOOP EXECUTE q; END LOOP;
  FOR i IN 1 .. n LOOP
    t := clock_timestamp(); EXECUTE q;
    ms := ms || extract(epoch FROM clock_timestamp() - t) * 1000;
  END LOOP;
  RETURN QUERY SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY x)::numeric, 3),
                      round(percentile_cont(0.95) WITHIN GROUP (ORDER BY x)::numeric, 3) FROM unnest(ms) x;
END $$;
SQL
)
measure() {  # N DB: one line per query: N name median p95
  local n="$1" db="$2" a
  a="$(psql -XtA -d "$db" -c "SELECT date_trunc('hour', max(transaction_time)) + interval '37 minutes' FROM transactions")"
  psql -XtAq -F' ' -d "$db" <<SQL | sed "s/^/$n /"
$LAT_SQL
CREATE TEMP TABLE w AS
SELECT '$a'::timestamptz AS as_of,
       date_trunc('day', '$a'::timestamptz AT TIME ZONE analytics.business_timezone()) AT TIME ZONE analytics.business_timezone() AS t_start,
       (date_trunc('day', '$a'::timestamptz AT TIME ZONE analytics.business_timezone()) - interval '1 day') AT TIME ZONE analytics.business_timezone() AS y_start,
       (('$a'::timestamptz AT TIME ZONE analytics.business_timezone()) - interval '1 day') AT TIME ZONE analytics.business_timezone() AS y_end;
SELECT 'overview', * FROM pg_temp.lat(\$q\$SELECT api.dashboard_overview('$a')\$q\$, $REPEAT);
SELECT 'hourly_30d', * FROM pg_temp.lat(\$q\$SELECT api.hourly_sales(timestamptz '$a' - interval '30 days', '$a')\$q\$, $REPEAT);
SELECT 'part:sales_totals_today', * FROM pg_temp.lat(\$q\$SELECT analytics.sales_totals(t_start, as_of) FROM w\$q\$, $REPEAT);
SELECT 'part:sales_totals_yesterday', * FROM pg_temp.lat(\$q\$SELECT analytics.sales_totals(y_start, y_end) FROM w\$q\$, $REPEAT);
SELECT 'part:active_customers_today', * FROM pg_temp.lat(\$q\$SELECT analytics.active_customers(t_start, as_of) FROM w\$q\$, $REPEAT);
SELECT 'part:active_customers_yesterday', * FROM pg_temp.lat(\$q\$SELECT analytics.active_customers(y_start, y_end) FROM w\$q\$, $REPEAT);
SELECT 'part:new_alerts_today', * FROM pg_temp.lat(\$q\$SELECT analytics.alerts_created(t_start, as_of) FROM w\$q\$, $REPEAT);
SELECT 'part:open_alerts_at', * FROM pg_temp.lat(\$q\$SELECT analytics.alerts_open_at(as_of) FROM w\$q\$, $REPEAT);
SELECT 'part:low_stock_count_y', * FROM pg_temp.lat(\$q\$SELECT analytics.low_stock_count(y_end) FROM w\$q\$, $REPEAT);
SELECT 'rows:transactions', count(*), 0 FROM transactions;
SELECT 'rows:alerts', count(*), 0 FROM alerts;
SELECT 'rows:rollups', count(*), 0 FROM analytics.sales_hourly;
SELECT 'check:open_alerts_counted_scanned', analytics.alerts_open_at(as_of),
       (SELECT count(*) FROM alerts a WHERE a.created_at <= w.as_of AND coalesce(a.acknowledged_at, a.resolved_at, 'infinity') > w.as_of
           AND coalesce(a.resolved_at, 'infinity') > w.as_of) FROM w;
SELECT 'check:active_customers_hll_exact', analytics.active_customers(t_start, as_of), analytics.active_customers_exact(t_start, as_of) FROM w;
SQL
}

echo "== overview and hourly sales: sizes ${SIZES[*]}, $CUSTOMERS customers, $PRODUCTS products, $DAYS days, $REPEAT calls each; load $(cut -d' ' -f1-3 /proc/loadavg) =="
for n in "${SIZES[@]}"; do
  db="techmart_bench_ov_$n"
  load "$db" "$n"
  measure "$n" "$db" | tee -a "$TMP/results"
done
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
first="${SIZES[0]}"; last="${SIZES[${#SIZES[@]}-1]}"
echo "query | median ms at $first | p95 | median ms at $last | p95 | ratio of medians"
awk -v a="$first" -v b="$last" '$1 == a { m1[$2] = $3; p1[$2] = $4; if (!($2 in seen)) { seen[$2] = 1; order[++k] = $2 } }
  $1 == b { m2[$2] = $3; p2[$2] = $4 }
  END { for (i = 1; i <= k; i++) { q = order[i];
          printf "%s | %s | %s | %s | %s | %s\n", q, m1[q], p1[q], m2[q], p2[q], (m1[q] > 0 && q !~ /^rows:/) ? sprintf("%.2f", m2[q] / m1[q]) : "" } }' "$TMP/results"
awk -v a="$first" -v b="$last" '$1 == a { m1[$2] = $3 } $1 == b { m2[$2] = $3 }
  END { for (q in m1) if (q == "overview" || q == "hourly_30d")
          printf "target %s: median %.3f ms at %s (< 5: %s), ratio %.2f (<= 1.5: %s)\n", q, m2[q], b,
                 (m2[q] < 5) ? "met" : "NOT met", m2[q] / m1[q], (m2[q] / m1[q] <= 1.5) ? "met" : "NOT met" }' "$TMP/results"

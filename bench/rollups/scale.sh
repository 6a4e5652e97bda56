#!/usr/bin/env bash
# Rollups at scale and the hot-row claim, ratios within one run (bench/README.md, "Rollups at scale").
#   PGHOST=... PGPORT=... PGUSER=postgres bench/rollups/scale.sh [SIZE ...]   (default: 100000 1000000)
# For each SIZE: creates techmart_bench_scale (dropped first), deploys the migrations, streams the
# generator's catalogue/customers/transactions into COPY as the import does (techmart.scoring =
# off, the rollup insert trigger disabled, then analytics.rollup_rebuild() in one pass), and times,
# in the server (median and p95 of REPEAT calls after 10 warm-up calls):
#   overview  api.dashboard_overview(as_of)        vs the same sales figures and active customers
#             computed by scans of transactions (analytics.sales_scan, active_customers_exact)
#   hourly    api.hourly_sales(as_of - 30 days, as_of) vs a GROUP BY of transactions over the 30 days
# and the overview's active customers (HyperLogLog) against the exact count.
# Then (last SIZE's database) the hot row: CLIENTS (2 and 4) pgbench writers, each transaction two
# single-line INSERT statements into the current hour and COMMIT (the slot row stays locked until
# commit), with the per-backend slots vs a single row per hour (analytics.rollup_slot() replaced
# by 0); alternating rounds, median tps; rollup_check() afterwards.
# Env: GEN (techmart-gen), CUSTOMERS [50000], PRODUCTS [1000], REPEAT [50], HOT_SECONDS [10], ROUNDS [3],
# SQITCH_TO (deploy the migrations up to this change only, e.g. when the installed extension is older).
set -Eeuo pipefail
# Transactions of a generated history or on random products: the stock upkeep (change stock_sales)
# is off, as for any load of past transactions (its own cost: bench/RESULTS.md "Sales move the stock").
export PGOPTIONS="${PGOPTIONS:-} -c techmart.track_stock=off"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SIZES=("$@"); [ ${#SIZES[@]} -gt 0 ] || SIZES=(100000 1000000)
GEN="${GEN:-$ROOT/build/data/generator/techmart-gen}"
[ -x "$GEN" ] || { echo "techmart-gen not found (build it or set GEN)"; exit 1; }
CUSTOMERS="${CUSTOMERS:-50000}"; PRODUCTS="${PRODUCTS:-1000}"; REPEAT="${REPEAT:-50}"
HOT_SECONDS="${HOT_SECONDS:-10}"; ROUNDS="${ROUNDS:-3}"
DB=techmart_bench_scale
export PGDATABASE=$DB
P=(psql -X -q -v ON_ERROR_STOP=1)
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT

load() {  # load N transactions like the import: scoring off, rollups rebuilt in one pass
  local n="$1" args=(--customers "$CUSTOMERS" --products "$PRODUCTS" --transactions "$1") t0
  psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
  (cd "$ROOT/migrations" && sqitch --quiet deploy ${SQITCH_TO:+--to "$SQITCH_TO"} "db:pg:$DB" >/dev/null)
  "$GEN" --stdout categories "${args[@]}" | "${P[@]}" -c "\copy categories (id, name, description) FROM STDIN (FORMAT csv, HEADER)"
  "$GEN" --stdout suppliers "${args[@]}" | "${P[@]}" -c "\copy suppliers (id, name, reliability_score, country, contact_email) FROM STDIN (FORMAT csv, HEADER)"
  "$GEN" --stdout products "${args[@]}" | "${P[@]}" -c "\copy products (id, sku, name, description, category_id, price, stock_quantity, low_stock_threshold, supplier_id) FROM STDIN (FORMAT csv, HEADER)"
  "$GEN" --stdout customers "${args[@]}" | "${P[@]}" -c "\copy customers (id, email, name, country, city, home_lat, home_lon, registration_date) FROM STDIN (FORMAT csv, HEADER)"
  t0=$(date +%s)
  "${P[@]}" -c "ALTER TABLE transactions DISABLE TRIGGER transactions_rollup_ins"
  # the generator's last column (fraud_pattern, never quoted) is not a column of transactions
  "$GEN" --stdout transactions "${args[@]}" | sed 's/,[^,]*$//' \
    | PGOPTIONS="$PGOPTIONS -c techmart.scoring=off" "${P[@]}" -c "\copy transactions (id, customer_id, product_id, quantity, unit_price, transaction_time, status, payment_method, platform, order_number, country, latitude, longitude, device_id, ip_address, payment_fingerprint) FROM STDIN (FORMAT csv, HEADER)"
  "${P[@]}" -c "ALTER TABLE transactions ENABLE TRIGGER transactions_rollup_ins"
  "${P[@]}" -c "SELECT analytics.rollup_rebuild()" -c "SELECT setval(pg_get_serial_sequence('transactions', 'id'), (SELECT max(id) + 1 FROM transactions), false)" -c "VACUUM ANALYZE"
  echo "# $n transactions loaded, rollups rebuilt in $(( $(date +%s) - t0 )) s"
}

# the same figures as the overview's sales part and the hourly series, by scans of transactions
SCAN_SQL=$(cat <<'SQL'
CREATE FUNCTION pg_temp.overview_scan(p_as_of timestamptz) RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
  tz text := analytics.business_timezone();
  t_start timestamptz := date_trunc('day', p_as_of AT TIME ZONE tz) AT TIME ZONE tz;
  y_start timestamptz := (date_trunc('day', p_as_of AT TIME ZONE tz) - interval '1 day') AT TIME ZONE tz;
  y_end timestamptz := ((p_as_of AT TIME ZONE tz) - interval '1 day') AT TIME ZONE tz;
BEGIN
  RETURN jsonb_build_object(
    'today', (SELECT to_jsonb(s) FROM analytics.sales_scan(t_start, p_as_of) s),
    'yesterday', (SELECT to_jsonb(s) FROM analytics.sales_scan(y_start, y_end) s),
    'yesterday_full', (SELECT to_jsonb(s) FROM analytics.sales_scan(y_start, t_start) s),
    'customers', analytics.active_customers_exact(t_start, p_as_of),
    'customers_y', analytics.active_customers_exact(y_start, y_end));
END $$;
CREATE FUNCTION pg_temp.hourly_scan(p_from timestamptz, p_to timestamptz) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_agg(jsonb_build_object('t', g.h, 'revenue', coalesce(x.revenue, 0), 'orders', coalesce(x.orders, 0),
                                      'transactions', coalesce(x.transactions, 0)) ORDER BY g.h)
    FROM generate_series(analytics.hour_floor(p_from), p_to - interval '1 hour', interval '1 hour') g(h)
    LEFT JOIN (SELECT date_bin('1 hour', t.transaction_time, '2000-01-01') AS h,
                      coalesce(sum(t.amount) FILTER (WHERE t.status = 'completed'), 0)
                        - coalesce(sum(t.amount) FILTER (WHERE t.kind = 'refund'), 0) AS revenue,
                      count(DISTINCT coalesce(t.order_number, '#' || t.id)) FILTER (WHERE t.status = 'completed') AS orders,
                      count(*) AS transactions
                 FROM transactions t WHERE t.transaction_time >= p_from AND t.transaction_time < p_to GROUP BY 1) x
      ON x.h = g.h
$$;
CREATE FUNCTION pg_temp.lat(q text, n int) RETURNS TABLE (median_ms numeric, p95_ms numeric) LANGUAGE plpgsql AS $$
DECLARE t timestamptz; ms float8[] := '{}';
BEGIN
  FOR i IN 1 .. 10 LOOP EXECUTE q; END LOOP;
  FOR i IN 1 .. n LOOP
    t := clock_timestamp(); EXECUTE q;
    ms := ms || extract(epoch FROM clock_timestamp() - t) * 1000;
  END LOOP;
  RETURN QUERY SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY x)::numeric, 3),
                      round(percentile_cont(0.95) WITHIN GROUP (ORDER BY x)::numeric, 3) FROM unnest(ms) x;
END $$;
SQL
)
measure() {  # N: one result line per query
  local n="$1" as_of
  as_of="$(psql -XtA -c "SELECT date_trunc('hour', max(transaction_time)) + interval '37 minutes' FROM transactions")"
  psql -XtAq -F' ' <<SQL | sed "s/^/$n /"
$SCAN_SQL
SELECT 'overview_rollups', * FROM pg_temp.lat(\$q\$SELECT api.dashboard_overview('$as_of')\$q\$, $REPEAT);
SELECT 'overview_scan', * FROM pg_temp.lat(\$q\$SELECT pg_temp.overview_scan('$as_of')\$q\$, $REPEAT);
SELECT 'hourly_rollups', * FROM pg_temp.lat(\$q\$SELECT api.hourly_sales(timestamptz '$as_of' - interval '30 days', '$as_of')\$q\$, $REPEAT);
SELECT 'hourly_scan', * FROM pg_temp.lat(\$q\$SELECT pg_temp.hourly_scan(timestamptz '$as_of' - interval '30 days', '$as_of')\$q\$, $REPEAT);
SELECT 'active_customers_est_exact', (o->'active_customers'->>'value')::numeric,
       analytics.active_customers_exact((o->'today'->>'from')::timestamptz, (o->'today'->>'to')::timestamptz)
  FROM (SELECT api.dashboard_overview('$as_of') AS o) x;
SQL
}

echo "== rollups at scale: sizes ${SIZES[*]}, $CUSTOMERS customers, $PRODUCTS products, $REPEAT calls each =="
for n in "${SIZES[@]}"; do
  load "$n"
  measure "$n" | tee -a "$TMP/results"
done
echo
echo "size | overview rollups ms (median/p95) | overview scan ms | scan/rollups | hourly rollups ms | hourly scan ms | scan/rollups | active customers est/exact"
for n in "${SIZES[@]}"; do
  awk -v n="$n" '$1 == n { m[$2] = $3; p[$2] = $4 }
    END { printf "%s | %s / %s | %s / %s | %.1f | %s / %s | %s / %s | %.1f | %s / %s\n", n,
          m["overview_rollups"], p["overview_rollups"], m["overview_scan"], p["overview_scan"],
          m["overview_scan"] / m["overview_rollups"], m["hourly_rollups"], p["hourly_rollups"],
          m["hourly_scan"], p["hourly_scan"], m["hourly_scan"] / m["hourly_rollups"],
          m["active_customers_est_exact"], p["active_customers_est_exact"] }' "$TMP/results"
done
first="${SIZES[0]}"; last="${SIZES[${#SIZES[@]}-1]}"
awk -v a="$first" -v b="$last" '$1 == a { x[$2] = $3 } $1 == b { y[$2] = $3 }
  END { printf "growth %s -> %s (median ratio): overview rollups %.2f, overview scan %.2f, hourly rollups %.2f, hourly scan %.2f\n",
        a, b, y["overview_rollups"] / x["overview_rollups"], y["overview_scan"] / x["overview_scan"],
        y["hourly_rollups"] / x["hourly_rollups"], y["hourly_scan"] / x["hourly_scan"] }' "$TMP/results"

# ---------------------------------------------------------------- hot row
cat > "$TMP/hot.sql" <<'SQL'
\set c random(1, 1000)
\set p random(1, 100)
BEGIN;
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, transaction_time, status, payment_method, platform, country)
VALUES (:c, :p, 1, 9.99, now(), 'completed', 'paypal', 'web', 'GB');
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, transaction_time, status, payment_method, platform, country)
VALUES (:c, :p + 1, 1, 9.99, now(), 'completed', 'paypal', 'web', 'GB');
COMMIT;
SQL
slot_fn() { "${P[@]}" -c "CREATE OR REPLACE FUNCTION analytics.rollup_slot() RETURNS smallint LANGUAGE sql STABLE PARALLEL SAFE AS \$\$ SELECT $1::smallint \$\$"; }
tps() { PGOPTIONS="$PGOPTIONS -c techmart.scoring=off" pgbench -n -c "$1" -j "$1" -T "$HOT_SECONDS" -f "$TMP/hot.sql" 2>&1 | awk '/^tps/ {print $3}'; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo
echo "hot row: each transaction = 2 single-line INSERTs into the current hour + COMMIT; $ROUNDS alternating rounds of ${HOT_SECONDS}s (fraud scoring off)"
for c in 2 4; do
  s=(); o=()
  for r in $(seq "$ROUNDS"); do
    slot_fn "(pg_backend_pid() % 8)"; s+=("$(tps "$c")")
    slot_fn 0; o+=("$(tps "$c")")
  done
  slot_fn "(pg_backend_pid() % 8)"
  ms=$(printf '%s\n' "${s[@]}" | median); mo=$(printf '%s\n' "${o[@]}" | median)
  echo "$c clients: slots ${ms} tps (runs ${s[*]}), one row per hour ${mo} tps (runs ${o[*]}), ratio $(echo "scale=2; $ms / $mo" | bc)"
done
echo "rollup_check differences after the hot-row runs: $(psql -XtA -c "SELECT count(*) FROM analytics.rollup_check(now() - interval '2 hours', now() + interval '1 hour')")"

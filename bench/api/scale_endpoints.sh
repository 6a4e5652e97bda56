#!/usr/bin/env bash
# Every SQL call the REST service makes for a GET endpoint (and the live stream's per-event calls), timed in the
# server on databases of different sizes (made by bench/api/scale_db.sh), as the service calls them: the service's
# defaults (as_of = now(), from = to - the route's default range) and the dashboard's requests on load and on each
# filter (web/src: category and country filters, the day view, a date range, an as_of in the past).
#   PGHOST=... PGPORT=... PGUSER=postgres bench/api/scale_endpoints.sh DB_SMALL DB_LARGE [ONLY_REGEX]
# Per call: one warm-up call, then n calls (n = BUDGET_MS / the warm-up's time, between 3 and REPEAT; 1 when the
# warm-up took more than 5 s: the warm-up is the figure); median and p95 in ms; -1: over TIMEOUT. Prints a table sorted by the median at DB_LARGE, with the
# ratio DB_LARGE / DB_SMALL. Not timed here (another helper's work): api.list_transactions, the CSV export,
# api.list_alerts.
# Env: REPEAT [30], BUDGET_MS [3000], TIMEOUT [120s: statement_timeout per call], PGOPTIONS (e.g. "-c jit=off"),
# EXCLUDE (a regex of call names left out).
set -Eeuo pipefail
SMALL="${1:?small database}"; LARGE="${2:?large database}"; ONLY="${3:-.}"
EXCLUDE="${EXCLUDE:-}"; REPEAT="${REPEAT:-30}"; BUDGET_MS="${BUDGET_MS:-3000}"; TIMEOUT="${TIMEOUT:-120s}"
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT

# name | SQL (as the service sends it; role 'viewer' where the service passes the token's role)
cat > "$TMP/calls" <<'EOF'
overview (GET /dashboard/overview; SSE metrics event)|SELECT api.dashboard_overview(now())::text
overview as_of 3 days ago (dashboard AsOf)|SELECT api.dashboard_overview(now() - interval '3 days 5 hours')::text
summary|SELECT api.dashboard_summary(now())::text
hourly_sales 24h (dashboard chart, x2)|SELECT api.hourly_sales(now() - interval '24 hours', now(), 'all', NULL)::text
hourly_sales 24h category filter|SELECT api.hourly_sales(now() - interval '24 hours', now(), 'category', '3')::text
hourly_sales 24h country filter|SELECT api.hourly_sales(now() - interval '24 hours', now(), 'country', 'US')::text
forecast hour h12 (dashboard chart)|SELECT api.forecast_revenue('hour', 12, NULL, NULL, date_trunc('hour', now()) + interval '1 hour')::text
forecast day default|SELECT api.forecast_revenue('day', NULL, NULL, NULL, now())::text
forecast day h7 (dashboard day view)|SELECT api.forecast_revenue('day', 7, NULL, NULL, date_trunc('day', now()) + interval '1 day')::text
revenue day 30d (default)|SELECT api.analytics_revenue('day', now() - interval '30 days', now())::text
revenue day 14d (dashboard day view, x2)|SELECT api.analytics_revenue('day', date_trunc('day', now()) - interval '13 days', date_trunc('day', now()) + interval '1 day')::text
revenue hour 30d|SELECT api.analytics_revenue('hour', now() - interval '30 days', now())::text
revenue weekly|SELECT api.analytics_revenue('week', now() - interval '182 days', now())::text
revenue monthly|SELECT api.analytics_revenue('month', now() - interval '365 days', now())::text
revenue annual|SELECT api.analytics_revenue('year', now() - interval '1826 days', now())::text
compare 7d|SELECT api.analytics_compare(now() - interval '7 days', now(), NULL, NULL)::text
breakdown category|SELECT api.analytics_breakdown('category', now() - interval '30 days', now(), 50)::text
breakdown platform|SELECT api.analytics_breakdown('platform', now() - interval '30 days', now(), 50)::text
breakdown country|SELECT api.analytics_breakdown('country', now() - interval '30 days', now(), 50)::text
breakdown supplier|SELECT api.analytics_breakdown('supplier', now() - interval '30 days', now(), 50)::text
breakdown payment_method|SELECT api.analytics_breakdown('payment_method', now() - interval '30 days', now(), 50)::text
breakdown product|SELECT api.analytics_breakdown('product', now() - interval '30 days', now(), 50)::text
patterns hour_of_day|SELECT api.analytics_patterns('hour_of_day', now() - interval '28 days', now())::text
patterns day_of_week|SELECT api.analytics_patterns('day_of_week', now() - interval '28 days', now())::text
growth month 365d|SELECT api.analytics_growth('month', now() - interval '365 days', now())::text
top_products default|SELECT api.analytics_top_products(now() - interval '30 days', now(), 10, 'revenue')::text
top_products dashboard (20, by units)|SELECT api.analytics_top_products(now() - interval '30 days', now(), 20, 'units')::text
top_products dashboard date range 60d|SELECT api.analytics_top_products(now() - interval '60 days', now(), 20, 'revenue')::text
low-stock analytics (dashboard)|SELECT api.inventory_low_stock(now(), 28, 14, 100)::text
low-stock analytics as_of 3 days ago|SELECT api.inventory_low_stock(now() - interval '3 days 5 hours', 28, 14, 100)::text
customers top|SELECT api.customers_top(now() - interval '30 days', now(), 10, 'revenue')::text
customers behavior|SELECT api.customers_behavior(now() - interval '30 days', now(), NULL, 20)::text
customers behavior one customer|SELECT api.customers_behavior(now() - interval '30 days', now(), 4242, 20)::text
customers segments (dashboard)|SELECT api.customers_segments(now())::text
customers segments as_of 3 days ago|SELECT api.customers_segments(now() - interval '3 days 5 hours')::text
customers rfm|SELECT api.customers_rfm(now(), NULL, 100)::text
customers rfm segment champions|SELECT api.customers_rfm(now(), 'champions', 100)::text
customers lifetime-value|SELECT api.customers_lifetime_value(now(), 20, 12)::text
fraud geo default (viewer)|SELECT api.fraud_geo(now() - interval '30 days', now(), 500, 'viewer')::text
fraud geo dashboard (limit 0)|SELECT api.fraud_geo(now() - interval '30 days', now(), 0, 'viewer')::text
fraud rules|SELECT api.fraud_rules()::text
fraud shadow (rules panel)|SELECT api.fraud_shadow()::text
fraud backtest 30d|SELECT api.fraud_backtest(now() - interval '30 days', now(), NULL, 10)::text
health|SELECT api.health()::text
metrics (techmart_ops.prometheus)|SELECT techmart_ops.prometheus()
recent transactions 25 (dashboard feed)|SELECT api.recent_transactions(25, 'viewer')::text
get transaction|SELECT api.get_transaction((SELECT max(id) / 2 FROM transactions), 'viewer')::text
fraud explain|SELECT api.fraud_explain((SELECT max(id) / 2 FROM transactions), 'viewer')::text
suspicious transactions (list_transactions inside)|SELECT api.suspicious_transactions('{}', 'viewer')::text
alerts status|SELECT api.alerts_status('{}')::text
get alert|SELECT api.get_alert((SELECT max(id) / 2 FROM alerts), 'viewer')::text
inventory low-stock list|SELECT api.low_stock('{}')::text
inventory list|SELECT api.list_inventory('{}')::text
inventory history|SELECT api.inventory_history(7, '{}')::text
products list|SELECT api.list_products('{}')::text
product|SELECT api.get_product(7)::text
categories (dashboard filter)|SELECT api.list_categories('{"limit": "200", "sort": "name"}')::text
category|SELECT api.get_category(3)::text
suppliers list|SELECT api.list_suppliers('{}')::text
supplier|SELECT api.get_supplier(3)::text
customers list|SELECT api.list_customers('{}', 'viewer')::text
customer|SELECT api.get_customer(4242, 'viewer')::text
users list|SELECT api.list_users('{}')::text
user|SELECT api.get_user(1)::text
stream cursor (SSE connect)|SELECT api.stream_replay(NULL, NULL, 0)::text
stream replay (Last-Event-ID, 50 tx back)|SELECT api.stream_replay((SELECT max(id) - 50 FROM transactions), (SELECT max(id) - 5 FROM alerts), 1000)::text
EOF

LAT_SQL=$(cat <<SQL
SET statement_timeout = '$TIMEOUT';
CREATE FUNCTION pg_temp.lat(q text) RETURNS TABLE (n int, median_ms numeric, p95_ms numeric) LANGUAGE plpgsql AS \$\$
DECLARE t timestamptz; first float8; ms float8[] := '{}'; reps int;
BEGIN
  t := clock_timestamp(); EXECUTE q; first := extract(epoch FROM clock_timestamp() - t) * 1000;
  IF first > 5000 THEN  -- a slow call: the warm-up is the measurement
    RETURN QUERY SELECT 1, round(first::numeric, 3), round(first::numeric, 3); RETURN;
  END IF;
  reps := least($REPEAT, greatest(3, floor($BUDGET_MS / greatest(first, 0.01))))::int;
  FOR i IN 1 .. reps LOOP
    t := clock_timestamp(); EXECUTE q;
    ms := ms || extract(epoch FROM clock_timestamp() - t) * 1000;
  END LOOP;
  RETURN QUERY SELECT reps, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY x)::numeric, 3),
                      round(percentile_cont(0.95) WITHIN GROUP (ORDER BY x)::numeric, 3) FROM unnest(ms) x;
EXCEPTION WHEN query_canceled THEN  -- statement_timeout
  RETURN QUERY SELECT 0, -1::numeric, -1::numeric;
END \$\$;
SQL
)

run() {  # DB: one line per call: name<TAB>n<TAB>median<TAB>p95
  local db="$1" name sql
  {
    echo "$LAT_SQL"
    while IFS='|' read -r name sql; do
      [[ "$name" =~ $ONLY ]] || continue
      [ -n "$EXCLUDE" ] && [[ "$name" =~ $EXCLUDE ]] && continue
      printf "SELECT %s, * FROM pg_temp.lat(%s);\n" "\$n\$$name\$n\$" "\$q\$$sql\$q\$"
    done < "$TMP/calls"
  } | psql -X -q -tA -F$'\t' -v ON_ERROR_STOP=1 -d "$db"
}

echo "== GET endpoints' SQL, $SMALL vs $LARGE, $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg) =="
for db in "$SMALL" "$LARGE"; do
  echo "# $db: $(psql -X -tA -d "$db" -c "SELECT count(*) || ' transactions, ' || (SELECT count(*) FROM alerts) || ' alerts, ' || (SELECT count(*) FROM analytics.sales_hourly) || ' rollup rows' FROM transactions")"
done
run "$SMALL" > "$TMP/small"
run "$LARGE" > "$TMP/large"
echo "load at the end $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| call | $LARGE median ms (p95, n) | $SMALL median ms (p95, n) | ratio |"
echo "|---|---:|---:|---:|"
awk -F'\t' 'NR == FNR { s[$1] = $3; sp[$1] = $4; sn[$1] = $2; next }
  { printf "%s\t| %s | %s (%s, %d) | %s (%s, %d) | %.1f |\n", $3, $1, $3, $4, $2, s[$1], sp[$1], sn[$1], $3 / (s[$1] > 0 ? s[$1] : 0.001) }' \
  "$TMP/small" "$TMP/large" | sort -t$'\t' -k1,1 -g -r | cut -f2-

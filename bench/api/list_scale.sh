#!/usr/bin/env bash
# GET /transactions at a large table (change list_transactions_totals), ratios within one run.
#   PGHOST=... PGPORT=... PGUSER=postgres [BUILD=1 N=5000000] flock -o /tmp/techmart-bench.lock bench/api/list_scale.sh
# BUILD=1 (default when the database techmart_bench_lists does not exist) creates techmart_bench_lists: the
# migrations, then the generator's catalogue, CUSTOMERS customers and N transactions streamed into COPY with
# scoring off and the rollups rebuilt in one pass (as bench/rollups/scale.sh), then a deterministic fraud score
# per row (hash of the id, skewed: ~9 % at 50 or more, ~2 % suspicious at 70 or more) with the rollups rebuilt.
# Then, per request, the median server time of REPEAT calls of api.list_transactions(p, 'viewer') (the
# function GET /transactions calls) against the function it replaced (count(*) of every matching row, then
# the page; kept as pg_temp.list_transactions_counting, its body as the migrations had it) in the same
# session, and the total each reports. Last, a deep page: offset OFFSET against a cursor at the same row.
# Env: N (5000000), CUSTOMERS (100000), PRODUCTS (2000), REPEAT (7), OFFSET (1000000), GEN (techmart-gen).
set -Eeuo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
N="${N:-5000000}"; CUSTOMERS="${CUSTOMERS:-100000}"; PRODUCTS="${PRODUCTS:-2000}"; REPEAT="${REPEAT:-7}"
OFFSET="${OFFSET:-1000000}"
GEN="${GEN:-$ROOT/build/data/generator/techmart-gen}"
DB=techmart_bench_lists
P=(psql -X -q -v ON_ERROR_STOP=1 -d "$DB")
if [ "${BUILD:-}" = 1 ] || ! psql -XAtq -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
  [ -x "$GEN" ] || { echo "techmart-gen not found (build it or set GEN)"; exit 1; }
  args=(--customers "$CUSTOMERS" --products "$PRODUCTS" --transactions "$N")
  psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
  (cd "$ROOT/migrations" && sqitch --quiet deploy "db:pg:$DB" >/dev/null)
  "$GEN" --stdout categories "${args[@]}" | "${P[@]}" -c "\copy categories (id, name, description) FROM STDIN (FORMAT csv, HEADER)"
  "$GEN" --stdout suppliers "${args[@]}" | "${P[@]}" -c "\copy suppliers (id, name, reliability_score, country, contact_email) FROM STDIN (FORMAT csv, HEADER)"
  "$GEN" --stdout products "${args[@]}" | "${P[@]}" -c "\copy products (id, sku, name, description, category_id, price, stock_quantity, low_stock_threshold, supplier_id) FROM STDIN (FORMAT csv, HEADER)"
  "$GEN" --stdout customers "${args[@]}" | "${P[@]}" -c "\copy customers (id, email, name, country, city, home_lat, home_lon, registration_date) FROM STDIN (FORMAT csv, HEADER)"
  "$GEN" --stdout transactions "${args[@]}" | sed 's/,[^,]*$//' \
    | PGOPTIONS="-c techmart.scoring=off" "${P[@]}" -c "ALTER TABLE transactions DISABLE TRIGGER USER" \
        -c "\copy transactions (id, customer_id, product_id, quantity, unit_price, transaction_time, status, payment_method, platform, order_number, country, latitude, longitude, device_id, ip_address, payment_fingerprint) FROM STDIN (FORMAT csv, HEADER)" \
        -c "UPDATE transactions SET fraud_score = round((power((hashint8(id) & 1048575)::float8 / 1048575, 4) * 100)::numeric, 2), is_suspicious = power((hashint8(id) & 1048575)::float8 / 1048575, 4) * 100 >= 70" \
        -c "ALTER TABLE transactions ENABLE TRIGGER USER"
  "${P[@]}" -c "SELECT analytics.rollup_rebuild()" -c "SELECT setval(pg_get_serial_sequence('transactions', 'id'), (SELECT max(id) + 1 FROM transactions), false)" -c "VACUUM ANALYZE"
fi
"${P[@]}" -At <<SQL
-- the function before list_transactions_totals, as migrations/revert/list_transactions_totals.sql restores it
$(awk '/^CREATE OR REPLACE FUNCTION api.list_transactions\(p jsonb, p_role text\)/ { on = 1 } on { print } on && /^END \$function\$/ { exit }' \
     "$ROOT/migrations/revert/list_transactions_totals.sql" \
   | sed 's/^CREATE OR REPLACE FUNCTION api.list_transactions(/CREATE FUNCTION pg_temp.list_transactions_counting(/')
;
CREATE FUNCTION pg_temp.ms(q text, n int) RETURNS numeric LANGUAGE plpgsql AS \$\$
DECLARE t timestamptz; ms numeric[] := '{}';
BEGIN
  EXECUTE q;  -- warm
  FOR i IN 1 .. n LOOP
    t := clock_timestamp(); EXECUTE q; ms := ms || (extract(epoch FROM clock_timestamp() - t) * 1000)::numeric;
  END LOOP;
  RETURN round((SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(ms) x), 2);
END \$\$;
SELECT format('%s transactions, %s customers; median of %s calls (ms), server time of the function', (SELECT count(*) FROM transactions), (SELECT count(*) FROM customers), $REPEAT);
SELECT format('%-62s %9s %9s %7s  %s', 'request (viewer)', 'counting', 'now', 'ratio', 'totals: counting / now (exact?)');
WITH b AS (SELECT max(transaction_time) AS hi FROM transactions),
     c AS (SELECT customer_id AS c FROM transactions WHERE transaction_time > (SELECT hi - interval '1 day' FROM b) LIMIT 1),
     r(label, p) AS (
  SELECT 'default page (newest first, 50)', '{}'::jsonb
  UNION ALL SELECT 'last 7 days (from/to not on the hour)',
         jsonb_build_object('from', (SELECT hi - interval '7 days 13 min' FROM b), 'to', (SELECT hi - interval '5 min' FROM b))
  UNION ALL SELECT 'status=pending', '{"status": "pending"}'
  UNION ALL SELECT 'suspicious=true, last 30 days', jsonb_build_object('suspicious', 'true', 'from', (SELECT hi - interval '30 days' FROM b))
  UNION ALL SELECT 'min_score=50', '{"min_score": "50"}'
  UNION ALL SELECT 'category_id=3', '{"category_id": "3"}'
  UNION ALL SELECT 'country=DE, status=completed', '{"country": "DE", "status": "completed"}'
  UNION ALL SELECT 'customer_id (a recent buyer)', jsonb_build_object('customer_id', (SELECT c FROM c))
  UNION ALL SELECT 'sort=-amount', '{"sort": "-amount"}')
SELECT format('%-62s %9s %9s %7s  %s / %s (%s)', r.label, o.ms, n.ms, round(n.ms / nullif(o.ms, 0), 3),
              (pg_temp.list_transactions_counting(r.p, 'viewer'))->>'total', x->>'total', x->>'total_exact')
  FROM r,
       LATERAL (SELECT pg_temp.ms(format('SELECT pg_temp.list_transactions_counting(%L, ''viewer'')', r.p), $REPEAT) AS ms) o,
       LATERAL (SELECT pg_temp.ms(format('SELECT api.list_transactions(%L, ''viewer'')', r.p), $REPEAT) AS ms) n,
       LATERAL (SELECT api.list_transactions(r.p, 'viewer') AS x) xx;
-- a deep page: offset against the cursor of the row just before it (the same 50 rows)
WITH k AS (SELECT t.transaction_time, t.id FROM transactions t ORDER BY t.transaction_time DESC, t.id DESC OFFSET $OFFSET - 1 LIMIT 1),
     c AS (SELECT api._cursor_encode('-transaction_time', jsonb_build_array(k.transaction_time, k.id)) AS cur FROM k)
SELECT format('%-62s %9s %9s %7s  same rows: %s',
              'page at row $OFFSET: offset (now) vs cursor (now)',
              pg_temp.ms(format('SELECT api.list_transactions(%L, ''viewer'')', '{"offset": "$OFFSET"}'), 3),
              pg_temp.ms(format('SELECT api.list_transactions(%L, ''viewer'')', jsonb_build_object('cursor', c.cur)), $REPEAT),
              '',
              api.list_transactions('{"offset": "$OFFSET"}', 'viewer')->'items' = api.list_transactions(jsonb_build_object('cursor', c.cur), 'viewer')->'items')
  FROM c;
SQL

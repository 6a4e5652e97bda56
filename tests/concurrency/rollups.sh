#!/usr/bin/env bash
# Concurrency test of the live rollups: N parallel writers (separate connections, pgbench)
# insert single lines and multi-line orders into the same few hours, update statuses, scores, locations
# and countries and delete lines, all at once; then analytics.rollup_check() must return no row (it covers
# analytics.geo_hourly too: change fraud_geo_rollup).
#
#   PGHOST=... PGPORT=... PGUSER=postgres PGDATABASE=techmart tests/concurrency/rollups.sh
#
# Needs a database with the migrations deployed (seed data optional). Uses ids 96xxxx for
# its customers/products and the hours of 2020-06-01 10:00-13:00 UTC; removes its rows at
# the end. Env: WRITERS (default 6), SECONDS_PER_RUN (default 15).
# Prints "ok ..." and exits 0 on success; "not ok ..." and exits 1 otherwise.
WRITERS="${WRITERS:-6}"
DURATION="${SECONDS_PER_RUN:-15}"
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cleanup_sql="
  DELETE FROM transactions WHERE customer_id BETWEEN 960001 AND 960099;
  DELETE FROM customers WHERE id BETWEEN 960001 AND 960099;
  DELETE FROM products WHERE id BETWEEN 960001 AND 960099;
  DELETE FROM categories WHERE id BETWEEN 960001 AND 960099;"
"${PSQL[@]}" -c "$cleanup_sql"
"${PSQL[@]}" <<'SQL'
INSERT INTO categories (id, name) VALUES (960001, 'concurrency cat A'), (960002, 'concurrency cat B');
INSERT INTO products (id, sku, name, category_id, price, stock_quantity)
SELECT 960000 + i, 'CONC-' || i, 'concurrency product ' || i, 960001 + i % 2, 9.99, 100000000 FROM generate_series(1, 4) i;
INSERT INTO customers (id, email, name, country)
SELECT 960000 + i, 'conc' || i || '@example.com', 'Concurrency ' || i, 'GB' FROM generate_series(1, 40) i;
SQL

# one line into an order shared by all writers (same hour: the hot spot)
cat > "$DIR/insert.sql" <<'SQL'
\set c random(960001, 960040)
\set p random(960001, 960004)
\set o random(1, 300)
\set h random(0, 2)
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, transaction_time, status, payment_method, platform, order_number, country)
VALUES (:c, :p, 1 + :o % 3, 9.999, '2020-06-01 10:00Z'::timestamptz + :h * interval '1 hour' + :o * interval '7 seconds',
        (ARRAY['completed','completed','completed','refunded','blocked'])[1 + :o % 5], 'paypal',
        (ARRAY['web','ios_app'])[1 + :h % 2], 'CONC-' || :o, (ARRAY['GB','DE',NULL])[1 + :p % 3]);
SQL
# one line without order number (the insert trigger's upsert alone, template apply_lone: change rollup_single_row)
cat > "$DIR/lone.sql" <<'SQL'
\set c random(960001, 960040)
\set p random(960001, 960004)
\set s random(1, 10800)
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, transaction_time, status, payment_method, platform, country,
                          latitude, longitude)
VALUES (:c, :p, 1 + :s % 3, 4.5, '2020-06-01 10:00Z'::timestamptz + :s * interval '1 second',
        (ARRAY['completed','completed','pending','refunded'])[1 + :s % 4], 'paypal', (ARRAY['web','ios_app'])[1 + :s % 2],
        (ARRAY['GB','DE',NULL])[1 + :p % 3], CASE WHEN :s % 5 <> 0 THEN 51.5 + :s / 10800.0 END,
        CASE WHEN :s % 5 <> 0 THEN -0.1234567 * :c / 960000.0 END);
SQL
# (change fraud_geo_rollup) the map's figures of a random line: score, location, country (analytics.geo_hourly)
cat > "$DIR/geo.sql" <<'SQL'
\set o random(1, 300)
\set s random(0, 9999)
UPDATE transactions SET fraud_score = :s / 100.0, latitude = CASE WHEN :s % 4 = 0 THEN NULL ELSE 40 + :s / 1000.0 END,
       longitude = CASE WHEN :s % 4 = 0 THEN NULL ELSE 2.5 - :s / 3333.0 END, country = (ARRAY['GB','FR',NULL])[1 + :s % 3]
 WHERE id = (SELECT max(id) FROM transactions WHERE order_number = 'CONC-' || :o);
SQL
# a multi-row statement: two lines of a new order and a line without order number (one customer)
cat > "$DIR/multi.sql" <<'SQL'
\set c random(960001, 960040)
\set o random(1000, 1000000000)
\set h random(0, 2)
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, transaction_time, status, payment_method, order_number)
VALUES (:c, 960001, 1, 1.001, '2020-06-01 10:30Z'::timestamptz + :h * interval '1 hour', 'completed', 'credit_card', 'CONC-M' || :o),
       (:c, 960002, 2, 2.002, '2020-06-01 10:30Z'::timestamptz + :h * interval '1 hour', 'completed', 'credit_card', 'CONC-M' || :o),
       (:c, 960003, 3, 3.003, '2020-06-01 10:45Z'::timestamptz + :h * interval '1 hour', 'pending', 'credit_card', NULL);
SQL
# status changes of a random line of a shared order
cat > "$DIR/status.sql" <<'SQL'
\set o random(1, 300)
\set s random(1, 4)
UPDATE transactions SET status = (ARRAY['completed','refunded','blocked','failed'])[:s]
 WHERE id = (SELECT min(id) FROM transactions WHERE order_number = 'CONC-' || :o);
SQL
# delete a random line of a shared order
cat > "$DIR/delete.sql" <<'SQL'
\set o random(1, 300)
DELETE FROM transactions WHERE id = (SELECT max(id) FROM transactions WHERE order_number = 'CONC-' || :o);
SQL

echo "# $WRITERS writers for ${DURATION}s"
# --max-tries: deadlocks between multi-row statements of different customers come from the
# per-customer fraud state (row order), not from the rollups; retried like a client would.
pgbench -n -c "$WRITERS" -j "$WRITERS" -T "$DURATION" --max-tries=20 \
  -f "$DIR/insert.sql@6" -f "$DIR/lone.sql@3" -f "$DIR/multi.sql@2" -f "$DIR/status.sql@3" -f "$DIR/delete.sql@1" \
  -f "$DIR/geo.sql@2" 2>&1 \
  | grep -E 'number of (transactions|failed|transactions retried)|tps|aborted' | sed 's/^/# /'

diffs="$("${PSQL[@]}" -tA -c "SELECT count(*) FROM analytics.rollup_check('2020-06-01', '2020-06-02')")"
rows="$("${PSQL[@]}" -tA -c "SELECT count(*) FROM transactions WHERE customer_id BETWEEN 960001 AND 960099")"
slots="$("${PSQL[@]}" -tA -c "SELECT max(n) FROM (SELECT count(*) n FROM analytics.sales_hourly WHERE dim = 'all' AND hour >= '2020-06-01' AND hour < '2020-06-02' GROUP BY hour) s")"
echo "# $rows transactions written; up to $slots slot rows per hour (writers spread over slots)"
if [ "$diffs" = 0 ] && [ "$rows" -gt 0 ]; then
  echo "ok 1 - rollups equal the GROUP BY recomputation after $WRITERS parallel writers"
else
  echo "not ok 1 - rollup_check() reports $diffs differences"; fail=1
  "${PSQL[@]}" -c "SELECT * FROM analytics.rollup_check('2020-06-01', '2020-06-02') LIMIT 20"
fi
if [ "${slots:-0}" -gt 1 ]; then
  echo "ok 2 - concurrent writers to one hour used $slots different rows (no single hot row)"
else
  echo "not ok 2 - only ${slots:-0} slot rows for an hour"; fail=1
fi
# bulk statements (80 lines: the rollup insert trigger's C apply, change rollup_apply_c) into the same
# hours, first with per-backend slots, then with every writer in slot 0: new buckets inserted by two
# writers at once (unique_violation in the C apply, redone by the SQL upsert) and waits on each other's rows
cat > "$DIR/bulk.sql" <<'SQL'
\set c random(0, 39)
\set s random(1, 1000000)
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, transaction_time, status, payment_method, platform, order_number, country)
SELECT 960001 + (i * 7 + :c) % 40, 960001 + i % 4, 1 + i % 3, 1.5, '2020-06-01 10:00Z'::timestamptz + ((i * 37 + :s) % 10800) * interval '1 second',
       (ARRAY['completed','completed','refunded','pending'])[1 + i % 4], 'paypal', (ARRAY['web','ios_app'])[1 + i % 2],
       CASE WHEN i % 3 = 0 THEN NULL ELSE 'CONC-B' || :s || '-' || i / 2 END, (ARRAY['GB','DE',NULL])[1 + i % 3]
  FROM generate_series(1, 80) i
 ORDER BY 1;  -- by customer: the fraud engine locks customers in row order (docs/fraud.md), so statements
              -- in different orders deadlock each other (1 s each) and left ~1 statement a second here
SQL
bulk_slot_fn="$("${PSQL[@]}" -tA -c "SELECT pg_get_functiondef('analytics.rollup_slot()'::regprocedure)")"
for phase in slots one; do
  if [ $phase = one ]; then
    "${PSQL[@]}" -c "CREATE OR REPLACE FUNCTION analytics.rollup_slot() RETURNS smallint LANGUAGE sql STABLE PARALLEL SAFE AS \$\$ SELECT 0::smallint \$\$"
  fi
  pgbench -n -c "$WRITERS" -j "$WRITERS" -T "$(( (DURATION + 1) / 2 ))" --max-tries=20 \
    -f "$DIR/bulk.sql@3" -f "$DIR/insert.sql@2" -f "$DIR/status.sql@1" -f "$DIR/geo.sql@1" 2>&1 \
    | grep -E 'number of (transactions|failed|transactions retried)|tps|aborted' | sed "s/^/# bulk ($phase): /"
done
"${PSQL[@]}" -c "$bulk_slot_fn"
diffs="$("${PSQL[@]}" -tA -c "SELECT count(*) FROM analytics.rollup_check('2020-06-01', '2020-06-02')")"
if [ "$diffs" = 0 ]; then
  echo "ok 3 - rollups exact after $WRITERS writers of 80-line statements (per-backend slots, then one slot)"
else
  echo "not ok 3 - rollup_check() reports $diffs differences after the bulk writers"; fail=1
  "${PSQL[@]}" -c "SELECT * FROM analytics.rollup_check('2020-06-01', '2020-06-02') LIMIT 20"
fi
# (change product_sales_daily) the per-product daily rollup of the same writes: its rows of 2020-06-01 against the
# recomputation from transactions (rows of zeros count as absent)
pd_sql="SELECT (SELECT count(*) FROM (
            (SELECT * FROM analytics.product_daily d WHERE d.day = '2020-06-01Z'
                AND (d.revenue, d.orders, d.units, d.pending_units, d.refund_units, d.transactions, d.suspicious) <> (0, 0, 0, 0, 0, 0, 0)
             EXCEPT SELECT * FROM analytics.product_daily_recompute('2020-06-01Z', '2020-06-02Z'))
            UNION ALL
            (SELECT * FROM analytics.product_daily_recompute('2020-06-01Z', '2020-06-02Z')
             EXCEPT SELECT * FROM analytics.product_daily d WHERE d.day = '2020-06-01Z')) x)
     + (SELECT count(*) FROM (
            (SELECT * FROM analytics.product_units_hourly h WHERE h.hour >= '2020-06-01Z' AND h.hour < '2020-06-02Z'
                AND (h.pending_units, h.refund_units) <> (0, 0)
             EXCEPT SELECT * FROM analytics.product_units_recompute('2020-06-01Z', '2020-06-02Z'))
            UNION ALL
            (SELECT * FROM analytics.product_units_recompute('2020-06-01Z', '2020-06-02Z')
             EXCEPT SELECT * FROM analytics.product_units_hourly h WHERE h.hour >= '2020-06-01Z' AND h.hour < '2020-06-02Z')) x)"
diffs="$("${PSQL[@]}" -tA -c "$pd_sql")"
if [ "$diffs" = 0 ]; then
  echo "ok 4 - analytics.product_daily exact after the parallel writers (single, multi-row, 80-line, status, delete)"
else
  echo "not ok 4 - analytics.product_daily: $diffs rows differ from the recomputation"; fail=1
  "${PSQL[@]}" -c "SELECT * FROM analytics.product_daily d WHERE d.day = '2020-06-01Z' EXCEPT SELECT * FROM analytics.product_daily_recompute('2020-06-01Z', '2020-06-02Z')"
fi
"${PSQL[@]}" -c "$cleanup_sql"
diffs="$("${PSQL[@]}" -tA -c "SELECT count(*) FROM analytics.rollup_check('2020-06-01', '2020-06-02')")"
pdiffs="$("${PSQL[@]}" -tA -c "$pd_sql")"
if [ "$diffs" = 0 ] && [ "$pdiffs" = 0 ]; then echo "ok 5 - exact after removing the test rows"; else echo "not ok 5 - $diffs / $pdiffs differences after cleanup"; fail=1; fi
finish 5

#!/usr/bin/env bash
# Concurrency test of the per-customer monthly rollups (migrations/deploy/customer_months.sql): N parallel
# writers (pgbench, separate connections) on the same 12 customers insert single lines into orders shared by all
# writers, multi-row statements over several customers in random order (with refund rows), lines of orders that
# straddle the month boundary 2020-07-31 / 2020-08-01; change statuses, move lines across the boundary and to
# other customers, and delete lines, all at once. Then analytics.customer_months_check() must return no row
# (customer_months, customer_totals and customer_order_spans equal their recomputation from transactions), no
# statement may have failed (pgbench without --max-tries: a deadlock fails the test; the triggers lock the
# statement's customers in id order) and pg_stat_database.deadlocks must not move.
#
#   PGHOST=... PGPORT=... PGUSER=postgres PGDATABASE=techmart tests/concurrency/customer_months.sh
#
# Scoring is off for the writers (as in customers_spent.sh: the fraud engine's own locks are not under test).
# Uses ids 98xxxx and July-August 2020; removes its rows at the end.
# Env: WRITERS (default 4), SECONDS_PER_RUN (default 10). Prints TAP; exits 1 on failure.
WRITERS="${WRITERS:-4}"
DURATION="${SECONDS_PER_RUN:-10}"
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
export PGOPTIONS="${PGOPTIONS:-} -c techmart.track_stock=off"

cleanup_sql="
  DELETE FROM transactions WHERE customer_id BETWEEN 980001 AND 980099;
  DELETE FROM customers WHERE id BETWEEN 980001 AND 980099;
  DELETE FROM products WHERE id BETWEEN 980001 AND 980099;
  DELETE FROM categories WHERE id BETWEEN 980001 AND 980099;"
"${PSQL[@]}" -c "$cleanup_sql"
"${PSQL[@]}" <<'SQL'
INSERT INTO categories (id, name) VALUES (980001, 'cmonths concurrency');
INSERT INTO products (id, sku, name, category_id, price, stock_quantity)
SELECT 980000 + i, 'CM-CONC-' || i, 'cmonths concurrency product ' || i, 980001, 9.99, 100000000 FROM generate_series(1, 3) i;
INSERT INTO customers (id, email, name, country)
SELECT 980000 + i, 'cmconc' || i || '@example.com', 'Cmonths concurrency ' || i, 'GB' FROM generate_series(1, 12) i;
SQL

# one line into one of 30 orders shared by every writer, on either side of the month boundary
cat > "$DIR/insert.sql" <<'SQL'
\set c random(980001, 980012)
\set o random(1, 30)
\set s random(1, 5)
\set t random(-7200, 7200)
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, transaction_time, status, payment_method, order_number)
VALUES (:c, 980001, 1 + :s % 3, 3.333, '2020-08-01Z'::timestamptz + :t * interval '1 second',
        (ARRAY['completed','completed','pending','refunded','failed'])[:s], 'paypal', 'CM-CONC-' || :o);
SQL
# several customers in one statement, in an order that differs from statement to statement; refund rows; lines
# without an order number
cat > "$DIR/multi.sql" <<'SQL'
\set a random(0, 11)
\set b random(1, 11)
\set o random(1, 30)
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, transaction_time, status, payment_method, kind, order_number)
SELECT 980001 + (:a + i * :b) % 12, 980002, 1 + i % 2, 1.25 + i, '2020-07-31 23:00Z'::timestamptz + i * interval '17 minutes',
       CASE WHEN i % 5 = 4 THEN 'refunded' ELSE 'completed' END, 'credit_card',
       CASE WHEN i % 5 = 4 THEN 'refund' ELSE 'sale' END, CASE WHEN i % 3 = 0 THEN NULL ELSE 'CM-CONC-' || (:o + i) % 30 END
  FROM generate_series(1, 8) i;
SQL
# status flips of a few lines of several customers at once
cat > "$DIR/status.sql" <<'SQL'
\set s random(1, 4)
\set m random(2, 5)
UPDATE transactions SET status = (ARRAY['completed','refunded','pending','completed'])[:s]
 WHERE kind = 'sale' AND customer_id BETWEEN 980001 AND 980012 AND id % 37 = :m;
SQL
# a line moved across the month boundary, or to another customer
cat > "$DIR/move.sql" <<'SQL'
\set c random(980001, 980012)
\set d random(980001, 980012)
\set t random(-7200, 7200)
UPDATE transactions SET customer_id = :d, transaction_time = '2020-08-01Z'::timestamptz + :t * interval '1 second'
 WHERE id = (SELECT max(id) FROM transactions WHERE customer_id = :c);
SQL
cat > "$DIR/delete.sql" <<'SQL'
\set c random(980001, 980012)
DELETE FROM transactions WHERE id = (SELECT min(id) FROM transactions WHERE customer_id = :c);
SQL

echo "# $WRITERS writers for ${DURATION}s on 12 customers"
PGOPTIONS="$PGOPTIONS -c techmart.scoring=off" run_writers \
  -f "$DIR/insert.sql@5" -f "$DIR/multi.sql@3" -f "$DIR/status.sql@2" -f "$DIR/move.sql@2" -f "$DIR/delete.sql@1"

rows="$("${PSQL[@]}" -tA -c "SELECT count(*) FROM transactions WHERE customer_id BETWEEN 980001 AND 980012")"
spans="$("${PSQL[@]}" -tA -c "SELECT count(*) FROM analytics.customer_order_spans WHERE customer_id BETWEEN 980001 AND 980012")"
diffs="$("${PSQL[@]}" -tA -c "SELECT count(*) FROM analytics.customer_months_check()")"
if [ "$diffs" = 0 ] && [ "$rows" -gt 0 ]; then
  echo "ok 1 - customer_months, customer_totals and customer_order_spans equal the recomputation after $WRITERS parallel writers ($rows lines, $spans orders over two months)"
else
  echo "not ok 1 - $diffs rows differ from the recomputation ($rows lines)"; fail=1
  "${PSQL[@]}" -c "SELECT * FROM analytics.customer_months_check() LIMIT 20"
fi
check_writers 2
check_no_deadlock 3
"${PSQL[@]}" -c "$cleanup_sql"
diffs="$("${PSQL[@]}" -tA -c "SELECT count(*) FROM analytics.customer_months_check()")"
if [ "$diffs" = 0 ]; then echo "ok 4 - exact after removing the test rows"; else echo "not ok 4 - $diffs rows differ after cleanup"; fail=1; fi
finish 4

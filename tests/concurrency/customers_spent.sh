#!/usr/bin/env bash
# Concurrency test of customers.total_spent (migrations/deploy/customers_spent.sql): N parallel
# writers (pgbench, separate connections) on the same 12 customers insert single lines, multi-row
# statements over several customers in random order and refund rows, change statuses, amounts and
# customers of lines, and delete lines, all at once; then every customer's total_spent must equal
# the recomputation from transactions (analytics.customers_spent_check() returns no row), and no
# statement may have failed: pgbench runs without --max-tries, so a deadlock fails the test (the
# triggers update the customers of a statement in customer-id order).
#
#   PGHOST=... PGPORT=... PGUSER=postgres PGDATABASE=techmart tests/concurrency/customers_spent.sh
#
# Scoring is off for the writers (PGOPTIONS -c techmart.scoring=off): the fraud engine's per-customer
# state is locked in row order and has deadlocks of its own between multi-customer statements
# (tests/concurrency/rollups.sh retries them); here only the spend upkeep's locks are exercised.
# Uses ids 97xxxx and hours of 2020-07-01; removes its rows at the end.
# Env: WRITERS (default 4), SECONDS_PER_RUN (default 10). Prints TAP; exits 1 on failure.
WRITERS="${WRITERS:-4}"
DURATION="${SECONDS_PER_RUN:-10}"
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cleanup_sql="
  DELETE FROM transactions WHERE customer_id BETWEEN 970001 AND 970099;
  DELETE FROM customers WHERE id BETWEEN 970001 AND 970099;
  DELETE FROM products WHERE id BETWEEN 970001 AND 970099;
  DELETE FROM categories WHERE id BETWEEN 970001 AND 970099;"
"${PSQL[@]}" -c "$cleanup_sql"
"${PSQL[@]}" <<'SQL'
INSERT INTO categories (id, name) VALUES (970001, 'spent concurrency');
INSERT INTO products (id, sku, name, category_id, price, stock_quantity)
SELECT 970000 + i, 'SPENT-CONC-' || i, 'spent concurrency product ' || i, 970001, 9.99, 100000000 FROM generate_series(1, 3) i;
INSERT INTO customers (id, email, name, country)
SELECT 970000 + i, 'spentconc' || i || '@example.com', 'Spent concurrency ' || i, 'GB' FROM generate_series(1, 12) i;
SQL

cat > "$DIR/insert.sql" <<'SQL'
\set c random(970001, 970012)
\set s random(1, 5)
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, transaction_time, status, payment_method, order_number)
VALUES (:c, 970001, 1 + :s % 3, 3.333, '2020-07-01 10:00Z', (ARRAY['completed','completed','pending','refunded','failed'])[:s],
        'paypal', 'SPENT-CONC-' || :c);
SQL
# several customers in one statement, in an order that differs from statement to statement
cat > "$DIR/multi.sql" <<'SQL'
\set a random(0, 11)
\set b random(1, 11)
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, transaction_time, status, payment_method, kind)
SELECT 970001 + (:a + i * :b) % 12, 970002, 1 + i % 2, 1.25 + i, '2020-07-01 11:00Z',
       CASE WHEN i % 5 = 4 THEN 'refunded' ELSE 'completed' END, 'credit_card',
       CASE WHEN i % 5 = 4 THEN 'refund' ELSE 'sale' END
  FROM generate_series(1, 8) i;
SQL
# COPY-free bulk: 60 lines over every customer, descending customer ids
cat > "$DIR/bulk.sql" <<'SQL'
\set a random(0, 11)
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, transaction_time, status, payment_method)
SELECT 970012 - (:a + i) % 12, 970003, 1, 0.5 + i % 7, '2020-07-01 12:00Z', 'completed', 'paypal'
  FROM generate_series(1, 60) i;
SQL
# status flips of a few lines of several customers at once
cat > "$DIR/status.sql" <<'SQL'
\set s random(1, 4)
\set m random(2, 5)
UPDATE transactions SET status = (ARRAY['completed','refunded','pending','completed'])[:s]
 WHERE kind = 'sale' AND customer_id BETWEEN 970001 AND 970012 AND id % 97 = :m;
SQL
# amount change and customer change of a random line
cat > "$DIR/move.sql" <<'SQL'
\set c random(970001, 970012)
\set d random(970001, 970012)
UPDATE transactions SET customer_id = :d, amount = amount + 1
 WHERE id = (SELECT max(id) FROM transactions WHERE customer_id = :c);
SQL
cat > "$DIR/delete.sql" <<'SQL'
\set c random(970001, 970012)
DELETE FROM transactions WHERE id = (SELECT min(id) FROM transactions WHERE customer_id = :c);
SQL

echo "# $WRITERS writers for ${DURATION}s on 12 customers"
PGOPTIONS='-c techmart.scoring=off' run_writers \
  -f "$DIR/insert.sql@5" -f "$DIR/multi.sql@3" -f "$DIR/bulk.sql@1" -f "$DIR/status.sql@2" \
  -f "$DIR/move.sql@2" -f "$DIR/delete.sql@1"

rows="$("${PSQL[@]}" -tA -c "SELECT count(*) FROM transactions WHERE customer_id BETWEEN 970001 AND 970012")"
diffs="$("${PSQL[@]}" -tA -c "SELECT count(*) FROM analytics.customers_spent_check() WHERE customer_id BETWEEN 970001 AND 970012")"
if [ "$diffs" = 0 ] && [ "$rows" -gt 0 ]; then
  echo "ok 1 - total_spent equals the recomputation for the 12 customers after $WRITERS parallel writers ($rows lines)"
else
  echo "not ok 1 - $diffs customers differ from the recomputation ($rows lines)"; fail=1
  "${PSQL[@]}" -c "SELECT * FROM analytics.customers_spent_check() WHERE customer_id BETWEEN 970001 AND 970012"
fi
check_writers 2
check_no_deadlock 3
"${PSQL[@]}" -c "$cleanup_sql"
diffs="$("${PSQL[@]}" -tA -c "SELECT count(*) FROM analytics.customers_spent_check()")"
if [ "$diffs" = 0 ]; then echo "ok 4 - every customer exact after removing the test rows"; else echo "not ok 4 - $diffs customers differ after cleanup"; fail=1; fi
finish 4

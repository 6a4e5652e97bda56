#!/usr/bin/env bash
# Concurrency test of the stock upkeep (migrations/deploy/stock_sales.sql, extension/pg/stock_trigger.cpp):
# N parallel writers (pgbench, separate connections) on the same 12 products insert single lines,
# multi-row statements over 10 of them in an order that differs from statement to statement (more than
# 8 products: the one-UPDATE path), refund rows, change statuses, quantities and products of lines,
# delete lines, and compete for a scarce product (20 units, sales that may be refused with 23S01), all
# at once. Then for every product:
#   stock_quantity = its stock before - the units its lines hold (analytics.line_units),
#   the sum of its inventory_history changes = stock after - stock before, and the history is a chain
#   (each row's previous_quantity = the new_quantity of the row before it, in id order, and in
#   changed_at order too), and the scarce product never went below 0;
# no statement may have failed (pgbench runs without --max-tries: a deadlock fails the test; the
# scarce product's refusals are caught inside a DO block and counted), no deadlock.
#
#   PGHOST=... PGPORT=... PGUSER=postgres PGDATABASE=techmart tests/concurrency/stock.sh
#
# Scoring is off for the writers (PGOPTIONS -c techmart.scoring=off): the fraud engine's per-customer
# state is locked in row order and has deadlocks of its own between multi-customer statements
# (tests/concurrency/rollups.sh retries them); here only the stock upkeep's locks are exercised.
# Uses ids 96xxxx and hours of 2020-08-01; removes its rows at the end.
# Env: WRITERS (default 4), SECONDS_PER_RUN (default 10). Prints TAP; exits 1 on failure.
WRITERS="${WRITERS:-4}"
DURATION="${SECONDS_PER_RUN:-10}"
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cleanup_sql="SET client_min_messages = warning;
  DELETE FROM transactions WHERE customer_id BETWEEN 960001 AND 960099;
  DELETE FROM customers WHERE id BETWEEN 960001 AND 960099;
  DELETE FROM products WHERE id BETWEEN 960001 AND 960099;
  DELETE FROM categories WHERE id BETWEEN 960001 AND 960099;
  DROP TABLE IF EXISTS public.stock_conc_start, public.stock_conc_refused;"
"${PSQL[@]}" -c "$cleanup_sql"
"${PSQL[@]}" <<'SQL'
INSERT INTO categories (id, name) VALUES (960001, 'stock concurrency');
INSERT INTO products (id, sku, name, category_id, price, stock_quantity)
SELECT 960000 + i, 'STOCK-CONC-' || i, 'stock concurrency product ' || i, 960001, 9.99,
       CASE WHEN i = 13 THEN 20 ELSE 1000000 END
  FROM generate_series(1, 13) i;
INSERT INTO customers (id, email, name, country)
SELECT 960000 + i, 'stockconc' || i || '@example.com', 'Stock concurrency ' || i, 'GB' FROM generate_series(1, 8) i;
CREATE TABLE public.stock_conc_start AS SELECT id, stock_quantity FROM products WHERE id BETWEEN 960001 AND 960013;
CREATE TABLE public.stock_conc_refused (n integer);
SQL

cat > "$DIR/insert.sql" <<'SQL'
\set c random(960001, 960008)
\set p random(960001, 960012)
\set s random(1, 5)
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, transaction_time, status, payment_method)
VALUES (:c, :p, 1 + :s % 3, 3.5, '2020-08-01 10:00Z', (ARRAY['completed','completed','pending','refunded','failed'])[:s], 'paypal');
SQL
# 10 products in one statement, in an order that differs from statement to statement, with refund rows
cat > "$DIR/multi.sql" <<'SQL'
\set a random(0, 11)
\set b random(1, 11)
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, transaction_time, status, payment_method, kind)
SELECT 960001 + i % 8, 960001 + (:a + i * :b) % 12, 1 + i % 3, 2.5, '2020-08-01 11:00Z',
       CASE WHEN i % 7 = 6 THEN 'refunded' ELSE 'completed' END, 'credit_card',
       CASE WHEN i % 7 = 6 THEN 'refund' ELSE 'sale' END
  FROM generate_series(1, 10) i;
SQL
# 60 lines over every product, descending product ids
cat > "$DIR/bulk.sql" <<'SQL'
\set a random(0, 11)
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, transaction_time, status, payment_method)
SELECT 960001 + i % 8, 960012 - (:a + i) % 12, 1, 1.5, '2020-08-01 12:00Z', 'completed', 'paypal'
  FROM generate_series(1, 60) i;
SQL
# status flips of lines of several products at once (refunds, cancellations, re-completions)
cat > "$DIR/status.sql" <<'SQL'
\set s random(1, 5)
\set m random(2, 5)
UPDATE transactions SET status = (ARRAY['completed','refunded','pending','failed','blocked'])[:s]
 WHERE kind = 'sale' AND product_id BETWEEN 960001 AND 960012 AND id % 31 = :m;
SQL
# quantity and product change of a random line
cat > "$DIR/move.sql" <<'SQL'
\set p random(960001, 960012)
\set q random(960001, 960012)
UPDATE transactions SET product_id = :q, quantity = quantity % 4 + 1
 WHERE id = (SELECT max(id) FROM transactions WHERE product_id = :p);
SQL
cat > "$DIR/delete.sql" <<'SQL'
\set p random(960001, 960012)
DELETE FROM transactions WHERE id = (SELECT min(id) FROM transactions WHERE product_id = :p);
SQL
# the scarce product: 20 units, sales of 1-3 until they are refused (23S01 caught, counted)
cat > "$DIR/scarce.sql" <<'SQL'
\set c random(960001, 960008)
\set q random(1, 3)
DO $$ BEGIN
  INSERT INTO transactions (customer_id, product_id, quantity, unit_price, transaction_time, status, payment_method)
  VALUES (:c, 960013, :q, 4.0, '2020-08-01 13:00Z', 'completed', 'paypal');
EXCEPTION WHEN SQLSTATE '23S01' THEN
  INSERT INTO public.stock_conc_refused VALUES (1);
END $$;
SQL

echo "# $WRITERS writers for ${DURATION}s on 12 shared products and a scarce one"
PGOPTIONS='-c techmart.scoring=off' run_writers \
  -f "$DIR/insert.sql@5" -f "$DIR/multi.sql@3" -f "$DIR/bulk.sql@1" -f "$DIR/status.sql@2" \
  -f "$DIR/move.sql@2" -f "$DIR/delete.sql@1" -f "$DIR/scarce.sql@2"

rows="$("${PSQL[@]}" -tA -c "SELECT count(*) FROM transactions WHERE product_id BETWEEN 960001 AND 960013")"
hist="$("${PSQL[@]}" -tA -c "SELECT count(*) FROM inventory_history WHERE product_id BETWEEN 960001 AND 960013")"
off="$("${PSQL[@]}" -tA -c "
  SELECT count(*) FROM products p JOIN public.stock_conc_start s USING (id)
   WHERE p.stock_quantity <> s.stock_quantity - coalesce((SELECT sum(analytics.line_units(t.kind, t.status, t.quantity))
                                                            FROM transactions t WHERE t.product_id = p.id), 0)")"
if [ "$off" = 0 ] && [ "$rows" -gt 0 ]; then
  echo "ok 1 - every product's stock = its stock before - the units its lines hold ($rows lines)"
else
  echo "not ok 1 - $off products differ from the recomputation ($rows lines)"; fail=1
fi
off="$("${PSQL[@]}" -tA -c "
  SELECT count(*) FROM products p JOIN public.stock_conc_start s USING (id)
   WHERE p.stock_quantity - s.stock_quantity
         <> coalesce((SELECT sum(h.change) FROM inventory_history h WHERE h.product_id = p.id), 0)")"
if [ "$off" = 0 ] && [ "$hist" -gt 0 ]; then
  echo "ok 2 - every product's history adds up to its change of stock ($hist history rows)"
else
  echo "not ok 2 - $off products' history does not add up ($hist rows)"; fail=1
fi
broken="$("${PSQL[@]}" -tA -c "
  SELECT count(*) FROM (
    SELECT h.previous_quantity, lag(h.new_quantity) OVER w AS before, h.changed_at, lag(h.changed_at) OVER w AS at_before,
           row_number() OVER w AS n, h.product_id
      FROM inventory_history h WHERE h.product_id BETWEEN 960001 AND 960013
    WINDOW w AS (PARTITION BY h.product_id ORDER BY h.id)) x
   WHERE (x.n = 1 AND x.previous_quantity <> (SELECT s.stock_quantity FROM public.stock_conc_start s WHERE s.id = x.product_id))
      OR (x.n > 1 AND (x.previous_quantity <> x.before OR x.changed_at < x.at_before))")"
if [ "$broken" = 0 ]; then
  echo "ok 3 - each product's history is one chain: previous = the new quantity of the row before, times increasing"
else
  echo "not ok 3 - $broken history rows do not follow the one before"; fail=1
fi
read -r scarce sold refused <<<"$("${PSQL[@]}" -tA -F ' ' -c "
  SELECT p.stock_quantity, (SELECT coalesce(sum(t.quantity), 0) FROM transactions t WHERE t.product_id = 960013),
         (SELECT count(*) FROM public.stock_conc_refused) FROM products p WHERE p.id = 960013")"
min_new="$("${PSQL[@]}" -tA -c "SELECT coalesce(min(new_quantity), 0) FROM inventory_history WHERE product_id = 960013")"
if [ "$scarce" -ge 0 ] && [ $((20 - sold)) = "$scarce" ] && [ "$refused" -gt 0 ] && [ "$min_new" -ge 0 ]; then
  echo "ok 4 - the scarce product: $sold of 20 units sold, $scarce left, $refused sales refused with 23S01, never below 0"
else
  echo "not ok 4 - the scarce product: stock $scarce, sold $sold, refused $refused, lowest $min_new"; fail=1
fi
check_writers 5
check_no_deadlock 6
"${PSQL[@]}" -c "$cleanup_sql"
finish 6

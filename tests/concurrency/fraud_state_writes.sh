#!/usr/bin/env bash
# Concurrency test of the fraud state's upkeep after DELETE and UPDATE (techmart 0.8, sqitch change
# fraud_state_writes): WRITERS parallel pgbench clients insert single rows and multi-row statements,
# delete lines (one customer's, or a scattered set across customers), update amounts, times and
# locations, move lines to another customer, for 20 overlapping customers; then every customer's
# state and risk_score must equal a recomputation from transactions
# (techmart.customer_state_check(ids) empty; the counts n also against count(*) directly), with no
# error. A deadlock (40P01) is retried by pgbench (--max-tries): the rollup triggers of a DELETE of
# lines of many customers and of an UPDATE moving lines between hours deadlock now and then without
# the state triggers too (measured: 5 in 15 s with them disabled, 3 with them); the test fails only
# when a statement still fails after its retries.
#
#   PGHOST=... PGPORT=... PGUSER=postgres PGDATABASE=techmart tests/concurrency/fraud_state_writes.sh
#
# Uses ids 970401..970420 (customers) and 970401 (product); removes its rows at the end.
# Env: WRITERS (default 6), SECONDS_PER_RUN (default 15). Prints TAP; exit 1 on failure.
WRITERS="${WRITERS:-6}"
DURATION="${SECONDS_PER_RUN:-15}"
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cleanup_sql="
  DELETE FROM alerts WHERE customer_id BETWEEN 970401 AND 970420;
  DELETE FROM transactions WHERE customer_id BETWEEN 970401 AND 970420;
  DELETE FROM techmart.customer_state WHERE customer_id BETWEEN 970401 AND 970420;
  DELETE FROM inventory_history WHERE product_id = 970401;
  DELETE FROM customers WHERE id BETWEEN 970401 AND 970420;
  DELETE FROM products WHERE id = 970401;"
"${PSQL[@]}" -c "$cleanup_sql"
"${PSQL[@]}" <<'SQL'
INSERT INTO products (id, sku, name, price, stock_quantity) VALUES (970401, 'STATE-CONC-1', 'state concurrency', 25, 10000000);
INSERT INTO customers (id, email, name, country, registration_date)
SELECT 970400 + i, 'stateconc' || i || '@example.com', 'State concurrency ' || i, 'FR', '2024-01-01' FROM generate_series(1, 20) i;
-- a history to delete and update from the first second on
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country, latitude, longitude, transaction_time)
SELECT 970400 + c, 970401, 1, (100 + g * 37 % 900) / 10.0, 'credit_card', 'FR', 48.85, 2.35, now() - (g * 13 + c) * interval '1 minute'
  FROM generate_series(1, 20) c CROSS JOIN generate_series(1, 10) g ORDER BY c, g;
SQL
cat > "$DIR/single.sql" <<'SQL'
\set c random(970401, 970420)
\set a random(100, 90000)
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country, latitude, longitude, transaction_time)
VALUES (:c, 970401, 1, :a / 1000.0, (ARRAY['credit_card','paypal','debit_card'])[1 + :a % 3], (ARRAY['FR','DE','US'])[1 + :a % 3],
        48.85 + (:a % 7), 2.35 - (:a % 11), clock_timestamp() - (:a % 5000) * interval '1 second');
SQL
cat > "$DIR/multi.sql" <<'SQL'
\set c random(970401, 970420)
\set a random(100, 90000)
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country, transaction_time)
SELECT :c, 970401, 1 + g % 2, (:a + g * 17) / 1000.0, 'credit_card', 'FR', clock_timestamp() FROM generate_series(1, 4) g;
SQL
cat > "$DIR/delete_one.sql" <<'SQL'
\set c random(970401, 970420)
\set k random(0, 6)
DELETE FROM transactions WHERE id = (SELECT id FROM transactions WHERE customer_id = :c ORDER BY transaction_time DESC, id LIMIT 1 OFFSET :k);
SQL
cat > "$DIR/delete_many.sql" <<'SQL'
\set r random(0, 40)
DELETE FROM transactions WHERE customer_id BETWEEN 970401 AND 970420 AND id % 41 = :r;
SQL
cat > "$DIR/update.sql" <<'SQL'
\set c random(970401, 970420)
\set a random(1, 9000)
UPDATE transactions SET amount = amount + :a / 100.0, transaction_time = transaction_time - interval '7 minutes',
       country = (ARRAY['FR','DE','US','JP'])[1 + :a % 4], latitude = 10 + :a % 50, longitude = 20 - :a % 60,
       payment_method = (ARRAY['credit_card','paypal','crypto'])[1 + :a % 3]
 WHERE id IN (SELECT id FROM transactions WHERE customer_id = :c ORDER BY id DESC LIMIT 2);
SQL
cat > "$DIR/move.sql" <<'SQL'
\set c random(970401, 970420)
\set d random(970401, 970420)
UPDATE transactions SET customer_id = :d WHERE id = (SELECT id FROM transactions WHERE customer_id = :c ORDER BY id DESC LIMIT 1 OFFSET 1);
SQL
echo "# $WRITERS writers for ${DURATION}s"
run_writers --max-tries=20 -f "$DIR/single.sql@6" -f "$DIR/multi.sql@1" \
  -f "$DIR/delete_one.sql@2" -f "$DIR/delete_many.sql@1" -f "$DIR/update.sql@2" -f "$DIR/move.sql@1"
check_writers 1 "$WRITERS writers (inserts, deletes, updates, moves), no statement failed"
counts="$("${PSQL[@]}" -tA -c "SELECT (SELECT count(*) FROM transactions WHERE customer_id BETWEEN 970401 AND 970420) || ' ' ||
  (SELECT coalesce(sum(n), 0) FROM techmart.customer_state WHERE customer_id BETWEEN 970401 AND 970420) || ' ' ||
  (SELECT count(*) FROM (SELECT customer_id FROM transactions WHERE customer_id BETWEEN 970401 AND 970420 GROUP BY 1) c
     FULL JOIN (SELECT customer_id, n FROM techmart.customer_state WHERE customer_id BETWEEN 970401 AND 970420 AND n > 0) s USING (customer_id)
    WHERE s.n IS DISTINCT FROM (SELECT count(*) FROM transactions t WHERE t.customer_id = coalesce(c.customer_id, s.customer_id)))")"
read -r rows n badn <<<"$counts"
echo "# $rows transactions left, the states count $n"
if [ "$rows" -gt 0 ] && [ "$rows" = "$n" ] && [ "$badn" = 0 ]; then
  echo "ok 2 - every customer's state counts exactly its lines"
else
  echo "not ok 2 - $rows lines but the states count $n ($badn customers differ)"; fail=1
fi
check_states_exact 3 970401 970420
"${PSQL[@]}" -c "$cleanup_sql"
finish 3

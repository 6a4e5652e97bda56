#!/usr/bin/env bash
# Concurrency test of the fraud engine: WRITERS parallel pgbench clients (separate connections)
# insert single rows and multi-row statements (one customer each) for 30 overlapping customers;
# then every customer's techmart.customer_state must equal a recomputation from the
# transactions table (techmart.rebuild_state() on a copy), with no deadlock and no lost update.
#
#   PGHOST=... PGPORT=... PGUSER=postgres PGDATABASE=techmart tests/concurrency/fraud_parallel.sh
#
# Uses ids 970001..970030 (customers) and 970001 (product); removes its rows at the end.
# Env: WRITERS (default 6), SECONDS_PER_RUN (default 15). Prints TAP; exit 1 on failure.
WRITERS="${WRITERS:-6}"
DURATION="${SECONDS_PER_RUN:-15}"
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cleanup_sql="
  DELETE FROM alerts WHERE customer_id BETWEEN 970001 AND 970030;
  DELETE FROM transactions WHERE customer_id BETWEEN 970001 AND 970030;
  DELETE FROM techmart.customer_state WHERE customer_id BETWEEN 970001 AND 970030;
  DELETE FROM customers WHERE id BETWEEN 970001 AND 970030;
  DELETE FROM products WHERE id = 970001;"
"${PSQL[@]}" -c "$cleanup_sql"
"${PSQL[@]}" <<'SQL'
INSERT INTO products (id, sku, name, price, stock_quantity) VALUES (970001, 'FRAUD-CONC-1', 'fraud concurrency', 25, 100000);
INSERT INTO customers (id, email, name, country, registration_date)
SELECT 970000 + i, 'fraudconc' || i || '@example.com', 'Fraud concurrency ' || i, 'FR', '2024-01-01' FROM generate_series(1, 30) i;
SQL
cat > "$DIR/single.sql" <<'SQL'
\set c random(970001, 970030)
\set a random(100, 90000)
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country, latitude, longitude, transaction_time)
VALUES (:c, 970001, 1, :a / 1000.0, (ARRAY['credit_card','paypal','debit_card'])[1 + :a % 3], (ARRAY['FR','DE','US'])[1 + :a % 3],
        48.85 + (:a % 7), 2.35 - (:a % 11), clock_timestamp());
SQL
cat > "$DIR/multi.sql" <<'SQL'
\set c random(970001, 970030)
\set a random(100, 90000)
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country, transaction_time)
SELECT :c, 970001, 1 + g % 2, (:a + g * 17) / 1000.0, 'credit_card', 'FR', clock_timestamp() FROM generate_series(1, 4) g;
SQL
echo "# $WRITERS writers for ${DURATION}s"
run_writers -f "$DIR/single.sql@4" -f "$DIR/multi.sql@1"
check_writers 1 "$WRITERS writers, no error and no deadlock"
rows="$("${PSQL[@]}" -tA -c "SELECT count(*) FROM transactions WHERE customer_id BETWEEN 970001 AND 970030")"
n="$("${PSQL[@]}" -tA -c "SELECT coalesce(sum(n), 0) FROM techmart.customer_state WHERE customer_id BETWEEN 970001 AND 970030")"
echo "# $rows transactions written, state counts $n"
if [ "$rows" -gt 0 ] && [ "$rows" = "$n" ]; then echo "ok 2 - the states count every row (no lost update)"; else echo "not ok 2 - $rows rows but the states count $n"; fail=1; fi
check_states_exact 3 970001 970030
"${PSQL[@]}" -c "$cleanup_sql"
finish 3

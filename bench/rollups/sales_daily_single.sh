#!/usr/bin/env bash
# Cost of the per-product daily rollup on the insert path (change product_sales_daily:
# analytics.product_daily_trigger(), PL/pgSQL statement triggers transactions_sales_daily_{ins,upd,del}; since change
# product_daily_insert_c the INSERT trigger calls analytics.product_daily_insert_trigger(), C, counted with it), on a
# migrated and seeded database whose products it restocks (every product's stock set to 1,000,000,000 first: run it
# on a throwaway copy).
#   1. trigger time per statement with track_functions = 'all' (pg_stat_user_functions: total time of
#      analytics.product_daily_trigger): a DO loop of LOOP single-row INSERTs each committed (synchronous_commit
#      off), without and then with an order number (the order's lines probed), and ROUNDS INSERT ... SELECT
#      statements of 10,000 lines over every product (scoring off), rolled back;
#   2. single-row throughput as a ratio within one run: pgbench, CLIENTS clients, synchronous_commit=off,
#      SECS-second runs of one single-row INSERT (every trigger of the product on), the three
#      transactions_sales_daily_* triggers disabled and enabled alternately (the order swapping from pair to
#      pair), PAIRS pairs; the median of the pairs' tps ratios with/without.
#   PGHOST=... PGPORT=... PGUSER=postgres PGDATABASE=<migrated, seeded, throwaway> \
#     flock -o /tmp/techmart-bench.lock bench/rollups/sales_daily_single.sh
# Env: LOOP (3000), ROUNDS (3), PAIRS (8), SECS (4), CLIENTS (2). Deletes the rows it inserted at the end and
# rebuilds product_daily (its rows of the deleted lines are left at zero otherwise).
LOOP="${LOOP:-3000}"; ROUNDS="${ROUNDS:-3}"; PAIRS="${PAIRS:-8}"; SECS="${SECS:-4}"; CLIENTS="${CLIENTS:-2}"
TRIGGERS=(transactions_sales_daily_ins transactions_sales_daily_upd transactions_sales_daily_del)
. "$(dirname "${BASH_SOURCE[0]}")/lib_single.sh"
hfirst=$("${P[@]}" -tA -c "SELECT coalesce(max(id), 0) FROM inventory_history")
"${P[@]}" -c "UPDATE products SET stock_quantity = 1000000000" -c "VACUUM products, customers, transactions"

# the trigger functions timed: with the INSERT trigger's C function of change product_daily_insert_c when it exists
# (the INSERTs call it instead of analytics.product_daily_trigger())
FNS='analytics.product_daily_trigger() analytics.product_daily_insert_trigger()'
for ord in none number; do
  echo "== track_functions: single-row INSERTs ($LOOP, each committed), order number: $ord =="
  o=NULL; [ "$ord" = number ] && o="'SD-' || i"
  timed_rounds product_daily_trigger "-c synchronous_commit=off" "$FNS" "DO \$\$ BEGIN FOR i IN 1..$LOOP LOOP
      INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, order_number)
      VALUES (1 + i % $maxc, 1 + i % $maxp, 1, 19.99, 'paypal', $o); COMMIT; END LOOP; END \$\$;"
done
echo "== track_functions: INSERT ... SELECT of 10,000 lines over $maxp products (scoring off, rolled back) =="
timed_rounds product_daily_trigger "-c techmart.scoring=off" "$FNS" "BEGIN" "
    INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, transaction_time, order_number)
    SELECT 1 + (g * 7919) % $maxc, 1 + (g * 104729) % $maxp, 1 + g % 3, 9.99, 'paypal', now() - g * interval '1 second',
           'SDB-' || (g / 3)
      FROM generate_series(1, 10000) g" "ROLLBACK"

echo "== pgbench single-row INSERT, $CLIENTS clients, ${SECS}s runs, sales_daily triggers off/on alternately =="
pairs sales_daily
"${P[@]}" -c "SET techmart.track_stock = off" -c "DELETE FROM transactions WHERE id > $first" \
  -c "DELETE FROM inventory_history WHERE id > $hfirst" -c "SELECT analytics.customers_spent_rebuild()" \
  -c "SELECT analytics.product_daily_rebuild(now() - interval '1 day')" >/dev/null

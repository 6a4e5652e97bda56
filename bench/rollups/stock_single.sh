#!/usr/bin/env bash
# Cost of the stock upkeep on the insert path (change stock_sales: analytics.stock_trigger(), C statement
# triggers transactions_stock_{ins,upd,del}), on a migrated and seeded database whose products it restocks
# (every product's stock set to 1,000,000,000 first: run it on a throwaway copy).
#   1. trigger time per statement with track_functions = 'all' (pg_stat_user_functions: total time of
#      analytics.stock_trigger, which includes the UPDATE of products and the trigger that UPDATE fires,
#      whose own time is printed too: analytics.rollup_product_category_trigger before the change made it the
#      row trigger analytics.rollup_product_category_row_trigger, which a stock UPDATE no longer fires):
#      a DO loop of LOOP single-row INSERTs each committed (synchronous_commit off), and ROUNDS
#      INSERT ... SELECT statements of 10,000 lines over every product (scoring off), rolled back;
#   2. single-row throughput as a ratio within one run: pgbench, CLIENTS clients, synchronous_commit=off,
#      SECS-second runs of one single-row INSERT (every trigger of the product on), the three
#      transactions_stock_* triggers disabled and enabled alternately (the order swapping from pair to
#      pair), PAIRS pairs; the median of the pairs' tps ratios with/without.
#   PGHOST=... PGPORT=... PGUSER=postgres PGDATABASE=<migrated, seeded, throwaway> \
#     flock -o /tmp/techmart-bench.lock bench/rollups/stock_single.sh
# Env: LOOP (3000), ROUNDS (3), PAIRS (8), SECS (4), CLIENTS (2). Deletes the rows it inserted at the end.
LOOP="${LOOP:-3000}"; ROUNDS="${ROUNDS:-3}"; PAIRS="${PAIRS:-8}"; SECS="${SECS:-4}"; CLIENTS="${CLIENTS:-2}"
TRIGGERS=(transactions_stock_ins transactions_stock_upd transactions_stock_del)
. "$(dirname "${BASH_SOURCE[0]}")/lib_single.sh"
hfirst=$("${P[@]}" -tA -c "SELECT coalesce(max(id), 0) FROM inventory_history")
"${P[@]}" -c "UPDATE products SET stock_quantity = 1000000000" -c "VACUUM products, customers, transactions"

# the category trigger of products (a statement trigger before change stock_sales, a row trigger after it)
CAT=analytics.rollup_product_category_trigger\(\)
[ "$("${P[@]}" -tA -c "SELECT to_regprocedure('analytics.rollup_product_category_row_trigger()') IS NOT NULL")" = t ] \
  && CAT=analytics.rollup_product_category_row_trigger\(\)
echo "== track_functions: single-row INSERTs ($LOOP, each committed) =="
for r in $(seq 1 "$ROUNDS"); do
  s0=$(fn_times 'analytics.stock_trigger()'); c0=$(fn_times "$CAT")
  PGOPTIONS="-c track_functions=all -c synchronous_commit=off" "${P[@]}" -c "DO \$\$ BEGIN FOR i IN 1..$LOOP LOOP
      INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method)
      VALUES (1 + i % $maxc, 1 + i % $maxp, 1, 19.99, 'paypal'); COMMIT; END LOOP; END \$\$;"
  sleep 1  # statistics are reported at the end of the session
  s1=$(fn_times 'analytics.stock_trigger()'); c1=$(fn_times "$CAT")
  echo "round $r: stock_trigger $(per_call "$s0" "$s1"); of which products' category trigger $(per_call "$c0" "$c1")"
done
echo "== track_functions: INSERT ... SELECT of 10,000 lines over $maxp products (scoring off, rolled back) =="
timed_rounds stock_trigger "-c techmart.scoring=off" 'analytics.stock_trigger()' "BEGIN" "
    INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, transaction_time)
    SELECT 1 + (g * 7919) % $maxc, 1 + (g * 104729) % $maxp, 1 + g % 3, 9.99, 'paypal', now() - g * interval '1 second'
      FROM generate_series(1, 10000) g" "ROLLBACK"

echo "== pgbench single-row INSERT, $CLIENTS clients, ${SECS}s runs, stock triggers off/on alternately =="
pairs stock
"${P[@]}" -c "SET techmart.track_stock = off" -c "DELETE FROM transactions WHERE id > $first" \
  -c "DELETE FROM inventory_history WHERE id > $hfirst" -c "SELECT analytics.customers_spent_rebuild()" >/dev/null

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
set -Eeuo pipefail
LOOP="${LOOP:-3000}"; ROUNDS="${ROUNDS:-3}"; PAIRS="${PAIRS:-8}"; SECS="${SECS:-4}"; CLIENTS="${CLIENTS:-2}"
P=(psql -X -q -v ON_ERROR_STOP=1)
dense() { "${P[@]}" -tA -c "SELECT coalesce(min(g) - 1, 0) FROM generate_series(1, (SELECT coalesce(max(id), 0) + 1 FROM $1)) g
                             WHERE NOT EXISTS (SELECT 1 FROM $1 x WHERE x.id = g)"; }
maxc=$(dense customers); maxp=$(dense products)
[ "$maxc" -gt 0 ] && [ "$maxp" -gt 0 ] || { echo "no customers or products with ids from 1" >&2; exit 1; }
first=$("${P[@]}" -tA -c "SELECT coalesce(max(id), 0) FROM transactions")
hfirst=$("${P[@]}" -tA -c "SELECT coalesce(max(id), 0) FROM inventory_history")
toggle() {
  "${P[@]}" -c "ALTER TABLE transactions $1 TRIGGER transactions_sales_daily_ins, $1 TRIGGER transactions_sales_daily_upd, $1 TRIGGER transactions_sales_daily_del"
}
f=$(mktemp)
trap 'rm -f "$f"; toggle ENABLE' EXIT
"${P[@]}" -c "UPDATE products SET stock_quantity = 1000000000" -c "VACUUM products, customers, transactions"

fn_times() {  # prints "calls total_ms self_ms" of a function (with the INSERT trigger's C function of change
  # product_daily_insert_c when it exists: the INSERTs call it instead of analytics.product_daily_trigger())
  "${P[@]}" -tA -F ' ' -c "SELECT pg_stat_clear_snapshot()" \
    -c "SELECT coalesce(sum(calls), 0), coalesce(sum(total_time), 0), coalesce(sum(self_time), 0)
          FROM pg_stat_user_functions
         WHERE funcid IN (to_regprocedure('$1'), to_regprocedure('analytics.product_daily_insert_trigger()'))" | tail -1
}
per_call() {  # per_call BEFORE AFTER: us per call of the difference
  awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " "); n = y[1] - x[1];
    if (n > 0) printf "%d calls, total %.1f us, self %.1f us per call", n, (y[2] - x[2]) * 1000 / n, (y[3] - x[3]) * 1000 / n; else print "no call" }'
}
for ord in none number; do
  echo "== track_functions: single-row INSERTs ($LOOP, each committed), order number: $ord =="
  o=NULL; [ "$ord" = number ] && o="'SD-' || i"
  for r in $(seq 1 "$ROUNDS"); do
    s0=$(fn_times 'analytics.product_daily_trigger()')
    PGOPTIONS="-c track_functions=all -c synchronous_commit=off" "${P[@]}" -c "DO \$\$ BEGIN FOR i IN 1..$LOOP LOOP
        INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, order_number)
        VALUES (1 + i % $maxc, 1 + i % $maxp, 1, 19.99, 'paypal', $o); COMMIT; END LOOP; END \$\$;"
    sleep 1  # statistics are reported at the end of the session
    s1=$(fn_times 'analytics.product_daily_trigger()')
    echo "round $r: product_daily_trigger $(per_call "$s0" "$s1")"
  done
done
echo "== track_functions: INSERT ... SELECT of 10,000 lines over $maxp products (scoring off, rolled back) =="
for r in $(seq 1 "$ROUNDS"); do
  s0=$(fn_times 'analytics.product_daily_trigger()')
  PGOPTIONS="-c track_functions=all -c techmart.scoring=off" "${P[@]}" -c "BEGIN" -c "
      INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, transaction_time, order_number)
      SELECT 1 + (g * 7919) % $maxc, 1 + (g * 104729) % $maxp, 1 + g % 3, 9.99, 'paypal', now() - g * interval '1 second',
             'SDB-' || (g / 3)
        FROM generate_series(1, 10000) g" -c "ROLLBACK"
  sleep 1
  s1=$(fn_times 'analytics.product_daily_trigger()')
  echo "round $r: product_daily_trigger $(per_call "$s0" "$s1")"
done

printf '\\set c random(1, %s)\n\\set p random(1, %s)\nINSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method) VALUES (:c, :p, 1, 19.99, %s);\n' \
  "$maxc" "$maxp" "'paypal'" > "$f"
run() {  # run on|off: prints tps
  [ "$1" = on ] && toggle ENABLE || toggle DISABLE
  local out
  out=$(PGOPTIONS="-c synchronous_commit=off" pgbench -n -c "$CLIENTS" -j "$CLIENTS" -T "$SECS" -f "$f" 2>&1) \
    || { echo "$out" >&2; return 1; }
  awk '/^tps/ {print $3; exit}' <<<"$out"
}
echo "== pgbench single-row INSERT, $CLIENTS clients, ${SECS}s runs, sales_daily triggers off/on alternately =="
run on >/dev/null; run off >/dev/null  # warm-up
ratios=()
for r in $(seq 1 "$PAIRS"); do
  if [ $((r % 2)) = 1 ]; then off=$(run off); on=$(run on); else on=$(run on); off=$(run off); fi
  ratios+=("$(awk -v a="$on" -v b="$off" 'BEGIN {printf "%.3f", a / b}')")
  echo "pair $r: tps without $off, with $on"
done
med=$(printf '%s\n' "${ratios[@]}" | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}')
echo "single-row tps with/without the sales_daily triggers: ${ratios[*]} (median $med); load average $(cut -d' ' -f1-3 /proc/loadavg)"
toggle ENABLE
"${P[@]}" -c "SET techmart.track_stock = off" -c "DELETE FROM transactions WHERE id > $first" \
  -c "DELETE FROM inventory_history WHERE id > $hfirst" -c "SELECT analytics.customers_spent_rebuild()" \
  -c "SELECT analytics.product_daily_rebuild(now() - interval '1 day')" >/dev/null

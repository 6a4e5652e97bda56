#!/usr/bin/env bash
# Single-row cost of the per-customer monthly rollups' upkeep (change customer_months), as a ratio within one
# run: pgbench, CLIENTS clients, synchronous_commit=off, SECS-second runs of one single-row INSERT into
# transactions with every trigger of the product on; the four transactions_months_* triggers disabled and
# enabled alternately (the order swapping from pair to pair), PAIRS pairs. Prints each pair's tps ratio
# with/without, their median, and checks that the rollups are exact afterwards
# (analytics.customer_months_rebuild() after the runs without the triggers). The same script as spent_single.sh.
#   PGHOST=... PGPORT=... PGUSER=postgres PGDATABASE=<migrated, seeded> bench/rollups/cmonths_single.sh
# Env: PAIRS (8), SECS (4), CLIENTS (2). Writes rows into transactions (deleted at the end).
set -Eeuo pipefail
# Transactions of a generated history or on random products: the stock upkeep (change stock_sales)
# is off, as for any load of past transactions (its own cost: bench/RESULTS.md "Sales move the stock").
export PGOPTIONS="${PGOPTIONS:-} -c techmart.track_stock=off"
PAIRS="${PAIRS:-8}"; SECS="${SECS:-4}"; CLIENTS="${CLIENTS:-2}"
P=(psql -X -q -v ON_ERROR_STOP=1)
# ids 1..N with no gap (the seed's and the generator's): the random ids always exist
dense() { "${P[@]}" -tA -c "SELECT coalesce(min(g) - 1, 0) FROM generate_series(1, (SELECT coalesce(max(id), 0) + 1 FROM $1)) g
                             WHERE NOT EXISTS (SELECT 1 FROM $1 x WHERE x.id = g)"; }
maxc=$(dense customers); maxp=$(dense products)
[ "$maxc" -gt 0 ] && [ "$maxp" -gt 0 ] || { echo "no customers or products with ids from 1" >&2; exit 1; }
first=$("${P[@]}" -tA -c "SELECT coalesce(max(id), 0) FROM transactions")
f=$(mktemp); trap 'rm -f "$f"; "${P[@]}" -c "ALTER TABLE transactions ENABLE TRIGGER transactions_months_ins, ENABLE TRIGGER transactions_months_upd, ENABLE TRIGGER transactions_months_del, ENABLE TRIGGER transactions_months_trunc"' EXIT
printf '\\set c random(1, %s)\n\\set p random(1, %s)\nINSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method) VALUES (:c, :p, 1, 19.99, %s);\n' \
  "$maxc" "$maxp" "'paypal'" > "$f"
toggle() {
  local a=$1
  "${P[@]}" -c "ALTER TABLE transactions $a TRIGGER transactions_months_ins, $a TRIGGER transactions_months_upd, $a TRIGGER transactions_months_del, $a TRIGGER transactions_months_trunc"
}
run() {  # run on|off: prints tps
  [ "$1" = on ] && toggle ENABLE || toggle DISABLE
  local out
  out=$(PGOPTIONS="$PGOPTIONS -c synchronous_commit=off" pgbench -n -c "$CLIENTS" -j "$CLIENTS" -T "$SECS" -f "$f" 2>&1) \
    || { echo "$out" >&2; return 1; }
  awk '/^tps/ {print $3; exit}' <<<"$out"
}
"${P[@]}" -c "VACUUM customers, transactions"
run on >/dev/null; run off >/dev/null  # warm-up
ratios=()
for r in $(seq 1 "$PAIRS"); do
  if [ $((r % 2)) = 1 ]; then off=$(run off); on=$(run on); else on=$(run on); off=$(run off); fi
  ratios+=("$(awk -v a="$on" -v b="$off" 'BEGIN {printf "%.3f", a / b}')")
  echo "pair $r: tps without $off, with $on"
done
med=$(printf '%s\n' "${ratios[@]}" | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}')
echo "single-row tps with/without the customer_months triggers: ${ratios[*]} (median $med); load average $(cut -d' ' -f1-3 /proc/loadavg)"
toggle ENABLE
"${P[@]}" -c "DELETE FROM transactions WHERE id > $first" -c "SELECT analytics.customer_months_rebuild()" >/dev/null
echo "customer_months_check differences after the runs: $("${P[@]}" -tA -c "SELECT count(*) FROM analytics.customer_months_check()")"

#!/usr/bin/env bash
# Single-row cost of the sales rollup insert trigger with and without change rollup_single_row, as
# ratios within one run: the change reverted and deployed alternately (sqitch, the order swapping from
# pair to pair), PAIRS pairs. Per run, in one backend with every trigger of the product on: a DO loop
# of N single-row INSERTs into transactions, each committed; the rollup insert trigger's time per INSERT
# (pg_stat_user_functions, track_functions = all) and the backend's CPU time per INSERT
# (/proc/<pid>/stat, utime + stime). Two workloads:
#   repeat  the lead's loop: now(), customers 1 + i % 1000, products 1 + i % 500, 'paypal' (after the
#           first 1,000 INSERTs of the hour every line's customer is in its buckets' sketches: ~3 KB,
#           stored out of line); WARM INSERTs of the same loop before each run
#   new     N lines of distinct customers (1..N) in an hour of their own (2019-01-01 + run hours, one
#           second apart), no warm-up: every INSERT changes the sketches (out of line after ~680)
# Prints each pair, the medians of the ratios after/before, and rollup_check() of the touched hours.
#   PGHOST=... PGPORT=... PGUSER=postgres PGDATABASE=<migrated, seeded: 1,000 customers>
#   MIGRATIONS=<the checkout's migrations/> bench/rollups/single_row.sh
# Env: PAIRS (5), N (1000), WARM (200). Ends with the change deployed; leaves the rows it inserted.
set -Eeuo pipefail
# Transactions of a generated history or on random products: the stock upkeep (change stock_sales)
# is off, as for any load of past transactions (its own cost: bench/RESULTS.md "Sales move the stock").
export PGOPTIONS="${PGOPTIONS:-} -c techmart.track_stock=off"
PAIRS="${PAIRS:-5}"; N="${N:-1000}"; WARM="${WARM:-200}"
: "${MIGRATIONS:?MIGRATIONS: the migrations/ directory of the checkout}"
: "${PGDATABASE:?}"
P=(psql -X -q -v ON_ERROR_STOP=1)
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
hz=$(getconf CLK_TCK)
hour=0
state=""
version() {  # version before|after
  [ "$state" = "$1" ] && return 0
  state=$1
  if [ "$1" = before ]; then (cd "$MIGRATIONS" && sqitch --quiet revert -y --to rollup_single_row^ "db:pg:$PGDATABASE" >/dev/null)
  else (cd "$MIGRATIONS" && sqitch --quiet deploy --to rollup_single_row "db:pg:$PGDATABASE" >/dev/null); fi
}
loop() {  # loop repeat|new COUNT
  if [ "$1" = repeat ]; then
    echo "DO \$\$ BEGIN FOR i IN 1..$2 LOOP INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method) VALUES (1 + i % 1000, 1 + i % 500, 1, 19.99, 'paypal'); COMMIT; END LOOP; END \$\$;"
  else
    echo "DO \$\$ BEGIN FOR i IN 1..$2 LOOP INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, transaction_time) VALUES (1 + (i - 1) % 1000, 1 + i % 500, 1, 19.99, 'paypal', '2019-01-01Z'::timestamptz + $hour * interval '1 hour' + i * interval '1 second'); COMMIT; END LOOP; END \$\$;"
  fi
}
run() {  # run repeat|new: prints "trigger_us cpu_us" per INSERT
  local warm=""
  if [ "$1" = repeat ]; then warm=$(loop repeat "$WARM"); else hour=$((hour + 1)); fi
  "${P[@]}" -tA > "$d/out" <<SQL
SET track_functions = 'all';
SELECT pg_backend_pid() AS pid \gset
\setenv BPID :pid
$warm
SELECT pg_stat_reset();
\! awk '{print \$14 + \$15}' /proc/\$BPID/stat > $d/cpu0
$(loop "$1" "$N")
\! awk '{print \$14 + \$15}' /proc/\$BPID/stat > $d/cpu1
SELECT pg_stat_force_next_flush();
SELECT round((total_time * 1000 / $N)::numeric, 1) FROM pg_stat_user_functions WHERE funcname = 'rollup_insert_trigger';
SQL
  echo "$(grep -E '^[0-9.]+$' "$d/out" | tail -1) $(awk -v a="$(cat "$d/cpu0")" -v b="$(cat "$d/cpu1")" -v hz="$hz" -v n="$N" 'BEGIN {printf "%.0f", (b - a) * 1e6 / hz / n}')"
}
med() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'; }
version after; run repeat >/dev/null  # warm-up: the hour's sketches filled
declare -A rt rc
for r in $(seq 1 "$PAIRS"); do
  if [ $((r % 2)) = 1 ]; then order="before after"; else order="after before"; fi
  declare -A res=()
  for v in $order; do
    version "$v"
    for w in repeat new; do res[$v-$w]=$(run "$w"); done
  done
  for w in repeat new; do
    read -r tb cb <<<"${res[before-$w]}"; read -r ta ca <<<"${res[after-$w]}"
    rt[$w]+="$(ratio "$ta" "$tb") "; rc[$w]+="$(ratio "$ca" "$cb") "
    echo "pair $r $w: rollup trigger us/insert before $tb, after $ta; backend CPU us/insert before $cb, after $ca"
  done
done
for w in repeat new; do
  echo "$w: rollup trigger time after/before: ${rt[$w]}(median $(tr ' ' '\n' <<<"${rt[$w]}" | grep . | med)); backend CPU per insert after/before: ${rc[$w]}(median $(tr ' ' '\n' <<<"${rc[$w]}" | grep . | med))"
done
echo "load average $(cut -d' ' -f1-3 /proc/loadavg)"
version after
echo "rollup_check differences (today, and the hours of the new runs): $("${P[@]}" -tA -c "SELECT (SELECT count(*) FROM analytics.rollup_check(date_trunc('day', now()), now() + interval '1 hour')) + (SELECT count(*) FROM analytics.rollup_check('2019-01-01', '2019-01-03'))")"

# Sourced by the single-row benches of this directory (cmonths_single.sh, spent_single.sh, stock_single.sh,
# sales_daily_single.sh): the harness they share. A bench sets TRIGGERS (the triggers of transactions it switches
# off and on), PAIRS, SECS and CLIENTS, sources this file, and keeps its own preparation, trigger-time rounds and
# exactness check. On sourcing: strict mode, the psql command P, maxc / maxp (customers and products have the ids
# 1..maxc and 1..maxp with no gap), first (transactions' highest id before the bench), the pgbench script $f (one
# single-row INSERT on a random customer and product; removed at exit, when TRIGGERS are enabled again).
set -Eeuo pipefail
P=(psql -X -q -v ON_ERROR_STOP=1)
# ids 1..N with no gap (the seed's and the generator's): the random ids always exist
dense() { "${P[@]}" -tA -c "SELECT coalesce(min(g) - 1, 0) FROM generate_series(1, (SELECT coalesce(max(id), 0) + 1 FROM $1)) g
                             WHERE NOT EXISTS (SELECT 1 FROM $1 x WHERE x.id = g)"; }
maxc=$(dense customers); maxp=$(dense products)
[ "$maxc" -gt 0 ] && [ "$maxp" -gt 0 ] || { echo "no customers or products with ids from 1" >&2; exit 1; }
first=$("${P[@]}" -tA -c "SELECT coalesce(max(id), 0) FROM transactions")

# toggle ENABLE|DISABLE: the TRIGGERS of transactions, in one ALTER TABLE
toggle() {
  local t sql=""
  for t in "${TRIGGERS[@]}"; do sql+="${sql:+, }$1 TRIGGER $t"; done
  "${P[@]}" -c "ALTER TABLE transactions $sql"
}
f=$(mktemp)
trap 'rm -f "$f"; toggle ENABLE' EXIT
printf '\\set c random(1, %s)\n\\set p random(1, %s)\nINSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method) VALUES (:c, :p, 1, 19.99, %s);\n' \
  "$maxc" "$maxp" "'paypal'" > "$f"

run() {  # run on|off: prints tps
  [ "$1" = on ] && toggle ENABLE || toggle DISABLE
  local out
  out=$(PGOPTIONS="${PGOPTIONS:-} -c synchronous_commit=off" pgbench -n -c "$CLIENTS" -j "$CLIENTS" -T "$SECS" -f "$f" 2>&1) \
    || { echo "$out" >&2; return 1; }
  awk '/^tps/ {print $3; exit}' <<<"$out"
}

# pairs NAME: a warm-up pair, then PAIRS pairs of runs without and with the TRIGGERS (the order swapping from pair
# to pair); prints each pair's tps, the ratios with/without and their median ("the NAME triggers"); ends with the
# TRIGGERS enabled
pairs() {
  local r on off med ratios=()
  run on >/dev/null; run off >/dev/null  # warm-up
  for r in $(seq 1 "$PAIRS"); do
    if [ $((r % 2)) = 1 ]; then off=$(run off); on=$(run on); else on=$(run on); off=$(run off); fi
    ratios+=("$(awk -v a="$on" -v b="$off" 'BEGIN {printf "%.3f", a / b}')")
    echo "pair $r: tps without $off, with $on"
  done
  med=$(printf '%s\n' "${ratios[@]}" | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}')
  echo "single-row tps with/without the $1 triggers: ${ratios[*]} (median $med); load average $(cut -d' ' -f1-3 /proc/loadavg)"
  toggle ENABLE
}

# fn_times FUNCTION...: "calls total_ms self_ms" of the functions together (pg_stat_user_functions; a function
# that does not exist counts nothing)
fn_times() {
  local x ids=""
  for x; do ids+="${ids:+, }to_regprocedure('$x')"; done
  "${P[@]}" -tA -F ' ' -c "SELECT pg_stat_clear_snapshot()" \
    -c "SELECT coalesce(sum(calls), 0), coalesce(sum(total_time), 0), coalesce(sum(self_time), 0)
          FROM pg_stat_user_functions WHERE funcid IN ($ids)" | tail -1
}
per_call() {  # per_call BEFORE AFTER: us per call of the difference
  awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " "); n = y[1] - x[1];
    if (n > 0) printf "%d calls, total %.1f us, self %.1f us per call", n, (y[2] - x[2]) * 1000 / n, (y[3] - x[3]) * 1000 / n; else print "no call" }'
}

# timed_rounds LABEL OPTIONS "FUNCTION..." SQL...: ROUNDS rounds of the statements SQL (one psql, one -c each;
# PGOPTIONS: track_functions=all and OPTIONS), each printing "round r: LABEL" and the calls and time per call of the
# FUNCTIONs (space-separated) during the round
timed_rounds() {
  local label=$1 opts=$2 fns r s0 s1 sql=() x
  read -ra fns <<<"$3"
  shift 3
  for x; do sql+=(-c "$x"); done
  for r in $(seq 1 "$ROUNDS"); do
    s0=$(fn_times "${fns[@]}")
    PGOPTIONS="-c track_functions=all $opts" "${P[@]}" "${sql[@]}"
    sleep 1  # statistics are reported at the end of the session
    s1=$(fn_times "${fns[@]}")
    echo "round $r: $label $(per_call "$s0" "$s1")"
  done
}

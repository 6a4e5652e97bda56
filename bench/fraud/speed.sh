#!/usr/bin/env bash
# Speed of the fraud engine as ratios within one run: bulk INSERT ... SELECT of ROWS generated
# rows into (a) a copy of transactions with the same columns, indexes, constraints and foreign
# keys and no trigger, (b) the same copy with the two scoring triggers; then single-row INSERTs
# from pgbench (2 clients, synchronous_commit off and on) into each, by the protocol of
# bench/README.md (alternating pairs of short runs, mixed runs; WAL and server CPU per
# transaction). Then the backend CPU time of both, single-row and bulk (see below). Needs a
# database with the migrations and seed data (PGHOST/PGPORT/PGDATABASE, a superuser).
# Env: ROWS (200000), SECONDS_PER_RUN (3), SINGLE_ROUNDS (15), MIXED_ROUNDS (5), MIXED_SECONDS
# (10), SINGLE_SYNC ("off on"), CPU_TX (3000), CPU_ROUNDS (3); BULK, SINGLE, CPU (1; 0 skips).
set -Eeuo pipefail
ROWS="${ROWS:-200000}"
SECS="${SECONDS_PER_RUN:-3}"
PSQL=(psql -X -q -v ON_ERROR_STOP=1)
"${PSQL[@]}" <<'SQL'
DROP TABLE IF EXISTS bench_plain, bench_scored;
CREATE TABLE bench_plain (LIKE transactions INCLUDING ALL);
ALTER TABLE bench_plain ADD FOREIGN KEY (customer_id) REFERENCES customers (id), ADD FOREIGN KEY (product_id) REFERENCES products (id);
CREATE TABLE bench_scored (LIKE transactions INCLUDING ALL);
ALTER TABLE bench_scored ADD FOREIGN KEY (customer_id) REFERENCES customers (id), ADD FOREIGN KEY (product_id) REFERENCES products (id);
CREATE TRIGGER bench_score BEFORE INSERT ON bench_scored FOR EACH ROW EXECUTE FUNCTION techmart.score_transaction();
CREATE TRIGGER bench_score_flush AFTER INSERT ON bench_scored FOR EACH STATEMENT EXECUTE FUNCTION techmart.score_transaction_flush();
SQL
gen="SELECT 1 + (g * 7919) % (SELECT max(id) FROM customers), 1 + (g * 104729) % (SELECT max(id) FROM products), 1 + g % 3,
            5 + (g * 31) % 200, (1 + g % 3) * (5 + (g * 31) % 200), 'credit_card', 'DE', now() - interval '30 days' + g * interval '1 second'
       FROM generate_series(1::bigint, $ROWS) g"
cols="(customer_id, product_id, quantity, unit_price, amount, payment_method, country, transaction_time)"
t() { local s e; s=$(date +%s%N); "${PSQL[@]}" -c "$1"; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
if [ "${BULK:-1}" = 1 ]; then
  plain=$(t "INSERT INTO bench_plain $cols $gen")
  scored=$(t "INSERT INTO bench_scored $cols $gen")
  echo "bulk INSERT...SELECT of $ROWS rows: plain ${plain} ms, scored ${scored} ms, scored throughput = $(awk "BEGIN{printf \"%.0f\", 100*$plain/$scored}")% of plain"
fi
maxc=$("${PSQL[@]}" -tA -c "SELECT max(id) FROM customers")
maxp=$("${PSQL[@]}" -tA -c "SELECT max(id) FROM products")
for tbl in bench_plain bench_scored; do
  echo "\\set c random(1, $maxc)
\\set p random(1, $maxp)
INSERT INTO $tbl (customer_id, product_id, quantity, unit_price, amount, payment_method) VALUES (:c, :p, 1, 19.99, 19.99, 'paypal');" > /tmp/bench_fraud_$tbl.sql
done
# Single-row INSERTs (bench/README.md, "The single-row protocol"): per synchronous_commit
# setting, VACUUM + one CHECKPOINT + a warm-up run of each table, then SINGLE_ROUNDS pairs of
# SECONDS_PER_RUN-second pgbench runs (2 clients) of plain and scored, the order alternating
# from pair to pair (plain first in odd pairs, scored first in even ones) so a drift of the
# machine hits both sides alike, a VACUUM before each pair and no checkpoint during the pairs
# (counted: needs checkpoint_timeout and max_wal_size above the pairs' time and WAL; printed).
# Same session settings for both sides. Per pair the ratio scored/plain of tps; printed: the
# median ratio and its spread (interquartile range, min-max), the median tps of each side, the
# server CPU per transaction, and per transaction (differences over each run / its transactions:
# the cluster's, so nothing else may write to it meanwhile) the WAL bytes, records, full-page
# images and WAL syncs, medians. Then MIXED_ROUNDS mixed runs (both scripts in one pgbench run).
SINGLE_ROUNDS="${SINGLE_ROUNDS:-15}"
MIXED_ROUNDS="${MIXED_ROUNDS:-5}"; MIXED_SECONDS="${MIXED_SECONDS:-10}"
"${PSQL[@]}" -tA -F' ' -c "SELECT 'settings: ' || string_agg(name || '=' || setting || coalesce(unit, ''), ', ' ORDER BY name)
  FROM pg_settings WHERE name IN ('max_wal_size', 'checkpoint_timeout', 'wal_compression', 'full_page_writes',
    'wal_sync_method', 'commit_delay', 'shared_buffers', 'wal_buffers', 'fsync', 'autovacuum')"
wal_now() { "${PSQL[@]}" -tA -F' ' -c "SELECT pg_current_wal_insert_lsn() - '0/0', wal_records, wal_fpi, wal_sync FROM pg_stat_wal"; }
# CPU ticks of the whole server (utime + stime of the postmaster's live children, plus cutime +
# cstime of the postmaster: its exited children, e.g. the pgbench backends once gone); "NA" when
# the server is not on this host
pm=$(awk '{sub(/^.*\) /, ""); print $2}' "/proc/$("${PSQL[@]}" -tA -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'")/stat" 2>/dev/null || true)
server_ticks() {
  [ -n "$pm" ] && [ -r "/proc/$pm/stat" ] || { echo NA; return; }
  # fields after the command name "(...)": 2 = ppid, 12/13 = utime/stime, 14/15 = cutime/cstime
  { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v pm="$pm" '{pid = $1; sub(/^.*\) /, "")}
    pid == pm {s += $14 + $15} $2 == pm {s += $12 + $13} END {print s}'
}
single_run() {  # single_run TABLE SYNC SECONDS: one pgbench run; prints "tps transactions
  local tbl=$1 sc=$2 secs=$3 out w0 w1 c0 c1 n tps  # bytes records fpi syncs cpu_us" (per transaction)
  w0=$(wal_now); c0=$(server_ticks)
  out=$(PGOPTIONS="-c synchronous_commit=$sc" PGAPPNAME=bench_fraud_single pgbench -n -c 2 -j 2 -T "$secs" \
        -f /tmp/bench_fraud_$tbl.sql 2>&1) || { echo "$out" >&2; return 1; }
  # the backends report their WAL counters as they exit: wait until they are gone
  for _ in $(seq 1 50); do
    [ "$("${PSQL[@]}" -tA -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'bench_fraud_single'")" = 0 ] && break
    sleep 0.1
  done
  sleep 0.2
  w1=$(wal_now); c1=$(server_ticks)
  n=$(awk '/number of transactions actually processed/ {print $NF}' <<<"$out" | cut -d/ -f1)
  tps=$(awk '/^tps/ {print $3; exit}' <<<"$out")
  awk -v tps="$tps" -v n="$n" -v a="$w0" -v b="$w1" -v c0="$c0" -v c1="$c1" -v tck="$(getconf CLK_TCK)" 'BEGIN {
    split(a, x, " "); split(b, y, " ");
    printf "%s %d %.0f %.2f %.3f %.3f %s\n", tps, n, (y[1] - x[1]) / n, (y[2] - x[2]) / n, (y[3] - x[3]) / n,
      (y[4] - x[4]) / n, (c0 == "NA" ? "NA" : sprintf("%.1f", (c1 - c0) * 1e6 / tck / n))}'
}
# quantile Q of the numbers on stdin (linear interpolation)
quantile() { sort -g | awk -v q="$1" '{v[NR] = $1} END {p = 1 + (NR - 1) * q; i = int(p); f = p - i;
  printf "%.4f", (i < NR) ? v[i] + f * (v[i + 1] - v[i]) : v[i]}'; }
ckpts() { "${PSQL[@]}" -tA -c "SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter"; }
for sc in $([ "${SINGLE:-1}" = 1 ] && echo "${SINGLE_SYNC:-off on}"); do
  "${PSQL[@]}" -c "VACUUM bench_plain, bench_scored, techmart.customer_state, customers" -c "CHECKPOINT"
  single_run bench_plain "$sc" 3 >/dev/null; single_run bench_scored "$sc" 3 >/dev/null  # warm-up
  f="/tmp/bench_fraud_single_$sc.txt"; : >"$f"
  k0=$(ckpts); t0=$(date +%s); l0=$(cut -d' ' -f1 /proc/loadavg)
  id0=$("${PSQL[@]}" -tA -c "SELECT coalesce(max(id), 0) FROM bench_scored")
  for r in $(seq 1 "$SINGLE_ROUNDS"); do
    "${PSQL[@]}" -c "VACUUM bench_plain, bench_scored, techmart.customer_state, customers"
    order="bench_plain bench_scored"; [ $((r % 2)) -eq 0 ] && order="bench_scored bench_plain"
    for tbl in $order; do echo "$r $tbl $(single_run "$tbl" "$sc" "$SECS")" >>"$f"; done
  done
  k1=$(ckpts); t1=$(date +%s); l1=$(cut -d' ' -f1 /proc/loadavg)
  # per pair: 100 * scored/plain of tps (column 3) and 100 * plain/scored of server CPU per transaction (column 9)
  pairs() { awk -v c="$1" -v inv="$2" '{t[$1 " " $2] = $c} END {for (r = 1; (r " bench_plain") in t; r++) {
    p = t[r " bench_plain"]; s = t[r " bench_scored"]; if (p == "NA" || s == "NA" || p == 0 || s == 0) continue;
    print (inv ? 100 * p / s : 100 * s / p)}}' "$f"; }
  col() { awk -v t="$1" -v c="$2" '$2 == t {print $c}' "$f" | quantile 0.5; }
  ratios=$(pairs 3 0)
  label=$([ $sc = off ] && echo "synchronous_commit=off" || echo "durable (synchronous_commit=on)")
  printf 'pgbench single-row, 2 clients, %s, %d pairs of %ss: scored = %.0f%% of plain tps (median of the pairs; IQR %.0f-%.0f%%, min-max %.0f-%.0f%%); median tps plain %.0f, scored %.0f\n' \
    "$label" "$SINGLE_ROUNDS" "$SECS" "$(quantile 0.5 <<<"$ratios")" "$(quantile 0.25 <<<"$ratios")" "$(quantile 0.75 <<<"$ratios")" \
    "$(quantile 0 <<<"$ratios")" "$(quantile 1 <<<"$ratios")" "$(col bench_plain 3)" "$(col bench_scored 3)"
  echo "  pairs (scored % of plain tps): $(pairs 3 0 | awk '{printf "%s%.0f", (NR > 1 ? " " : ""), $1}')"
  if ! grep -q NA "$f"; then
    cratios=$(pairs 9 1)
    printf '  server CPU per transaction (all backends and server processes), medians: plain %.0f us, scored %.0f us; plain/scored = %.0f%% (median of the pairs; IQR %.0f-%.0f%%)\n' \
      "$(col bench_plain 9)" "$(col bench_scored 9)" "$(quantile 0.5 <<<"$cratios")" "$(quantile 0.25 <<<"$cratios")" "$(quantile 0.75 <<<"$cratios")"
  fi
  # what the scored rows of the pairs were like: the workload decides how many rules fire (with the seed's 1,000
  # customers each one buys several times a second, so the velocity rules fire on most rows) and so the row's size
  "${PSQL[@]}" -tA -F' ' -c "SELECT count(*), round(100 * avg(is_suspicious::int), 1), round(avg(jsonb_array_length(fraud_reasons)), 2),
      round(avg(pg_column_size(fraud_reasons))), round(avg(fraud_score), 1) FROM bench_scored WHERE id > $id0" |
    awk -v c="$maxc" '{printf "  the pairs'"'"' scored rows: %d, %s %% suspicious, %s reasons per row, %s bytes of fraud_reasons stored per row, mean score %s (customers drawn from %d)\n", $1, $2, $3, $4, $5, c}'
  echo "  $((k1 - k0)) checkpoints during the $((t1 - t0)) s of the pairs (0 expected: see checkpoint_timeout, max_wal_size); load average $l0 -> $l1"
  printf '  WAL per transaction, medians: plain %.0f bytes, %.2f records, %.3f FPI, %.3f syncs; scored %.0f bytes, %.2f records, %.3f FPI, %.3f syncs; bytes scored/plain %.2fx\n' \
    "$(col bench_plain 5)" "$(col bench_plain 6)" "$(col bench_plain 7)" "$(col bench_plain 8)" \
    "$(col bench_scored 5)" "$(col bench_scored 6)" "$(col bench_scored 7)" "$(col bench_scored 8)" \
    "$(awk "BEGIN {printf \"%.4f\", $(col bench_scored 5) / $(col bench_plain 5)}")"
  # mixed runs: both scripts in the same pgbench run (each client picks plain or scored at random
  # per transaction), so both see the same moment of the machine and its disk; the ratio of the
  # mean latencies (plain/scored) is the throughput ratio of two separate 2-client runs
  # (tps = clients / mean latency) without the drift between them
  if [ "$MIXED_ROUNDS" -gt 0 ]; then
    for r in $(seq 1 "$MIXED_ROUNDS"); do
      PGOPTIONS="-c synchronous_commit=$sc" pgbench -n -c 2 -j 2 -T "$MIXED_SECONDS" \
        -f /tmp/bench_fraud_bench_plain.sql@1 -f /tmp/bench_fraud_bench_scored.sql@1 2>&1 |
        awk '/^SQL script [0-9]+:/ {k = $3 + 0} /latency average/ {lat[k] = $(NF - 1)} /^ - [0-9]+ transactions/ {n[k] = $2}
             END {printf "%.0f %s %s %s %s\n", 100 * lat[1] / lat[2], lat[1], lat[2], n[1], n[2]}'
    done >"/tmp/bench_fraud_mixed_$sc.txt"
    m="/tmp/bench_fraud_mixed_$sc.txt"
    printf '  mixed runs (%d x %ss, plain and scored transactions interleaved in one pgbench run): scored = %.0f%% of plain (median; min-max %.0f-%.0f%%) = mean latency plain/scored, medians %.3f / %.3f ms; runs: %s\n' \
      "$MIXED_ROUNDS" "$MIXED_SECONDS" "$(awk '{print $1}' "$m" | quantile 0.5)" "$(awk '{print $1}' "$m" | quantile 0)" \
      "$(awk '{print $1}' "$m" | quantile 1)" "$(awk '{print $2}' "$m" | quantile 0.5)" "$(awk '{print $3}' "$m" | quantile 0.5)" \
      "$(awk '{printf "%s%s", (NR > 1 ? " " : ""), $1}' "$m")"
  fi
done
# Backend CPU time (utime + stime of the one backend running the statements, /proc/PID/stat: needs
# the server on this host; skipped otherwise). On a shared, loaded machine the wall-clock ratios
# above move by tens of points between runs; the CPU time of the backend much less. CPU_TX
# single-row INSERTs (synchronous_commit off, random customers and products, one psql) and
# the bulk INSERT ... SELECT of ROWS rows into each table (emptied first), alternating, CPU_ROUNDS
# rounds, median. Env: CPU_TX (3000), CPU_ROUNDS (3).
CPU_TX="${CPU_TX:-3000}"; CPU_ROUNDS="${CPU_ROUNDS:-3}"
[ "${CPU:-1}" = 1 ] || { "${PSQL[@]}" -c "DROP TABLE bench_plain, bench_scored"; exit 0; }
tck=$(getconf CLK_TCK)
cpu_ms() {  # cpu_ms FILE: runs the statements of FILE in one new session, prints its backend CPU ms
  local pid c0 c1 l
  coproc CPU { psql -X -q -tA -v ON_ERROR_STOP=1 2>&1; }
  echo "SET synchronous_commit = off; SELECT pg_backend_pid();" >&"${CPU[1]}"; read -r pid <&"${CPU[0]}"
  [ -r "/proc/$pid/stat" ] || { echo "\\q" >&"${CPU[1]}"; wait "$CPU_PID" 2>/dev/null; echo NA; return; }
  c0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  cat "$1" >&"${CPU[1]}"; echo "SELECT 'cpu-done';" >&"${CPU[1]}"
  while read -r l <&"${CPU[0]}"; do [ "$l" = cpu-done ] && break; case "$l" in *ERROR*) echo "$l" >&2 ;; esac; done
  c1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  echo "\\q" >&"${CPU[1]}"; wait "$CPU_PID" 2>/dev/null || true
  echo $(( (c1 - c0) * 1000 / tck ))
}
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
"${PSQL[@]}" -c "TRUNCATE bench_plain, bench_scored"
for tbl in bench_plain bench_scored; do
  awk -v n="$CPU_TX" -v mc="$maxc" -v mp="$maxp" -v t="$tbl" 'BEGIN {srand(7); for (i = 0; i < n; i++)
    printf "INSERT INTO %s (customer_id, product_id, quantity, unit_price, amount, payment_method) VALUES (%d, %d, 1, 19.99, 19.99, '"'"'paypal'"'"');\n", t, 1 + int(rand() * mc), 1 + int(rand() * mp)}' >"/tmp/bench_fraud_cpu1_$tbl.sql"
  echo "INSERT INTO $tbl $cols $gen;" >"/tmp/bench_fraud_cpub_$tbl.sql"
done
for r in $(seq 1 "$CPU_ROUNDS"); do
  for tbl in bench_plain bench_scored; do
    echo "single $tbl $(cpu_ms "/tmp/bench_fraud_cpu1_$tbl.sql")"
    echo "bulk $tbl $(cpu_ms "/tmp/bench_fraud_cpub_$tbl.sql")"
  done
done >/tmp/bench_fraud_cpu.txt
if grep -q NA /tmp/bench_fraud_cpu.txt; then
  echo "backend CPU: skipped (the server is not on this host)"
else
  for kind in single bulk; do
    p=$(awk -v k=$kind '$1 == k && $2 == "bench_plain" {print $3}' /tmp/bench_fraud_cpu.txt | median)
    s=$(awk -v k=$kind '$1 == k && $2 == "bench_scored" {print $3}' /tmp/bench_fraud_cpu.txt | median)
    what=$([ $kind = single ] && echo "$CPU_TX single-row INSERTs (synchronous_commit=off)" || echo "bulk INSERT...SELECT of $ROWS rows")
    echo "backend CPU, $what, median of $CPU_ROUNDS: plain $p ms, scored $s ms, scored = $(awk "BEGIN{printf \"%.0f\", 100*$p/$s}")% of plain"
  done
fi
"${PSQL[@]}" -c "DROP TABLE bench_plain, bench_scored"

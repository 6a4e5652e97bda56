#!/usr/bin/env bash
# Speed of the fraud engine as ratios within one run: bulk INSERT ... SELECT of ROWS generated
# rows into (a) a copy of transactions with the same columns, indexes, constraints and foreign
# keys and no trigger, (b) the same copy with the two scoring triggers; then pgbench single-row
# inserts (2 clients, synchronous_commit off and on) into each. Needs a database with the
# migrations and seed data (PGHOST/PGPORT/PGDATABASE). Then WAL bytes per single-row INSERT into
# each. Then the backend CPU time of both, single-row and bulk (see below).
# Env: ROWS (200000), SECONDS_PER_RUN (15), WAL_TX (2000), CPU_TX (3000), CPU_ROUNDS (3).
set -Eeuo pipefail
ROWS="${ROWS:-200000}"
SECS="${SECONDS_PER_RUN:-15}"
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
plain=$(t "INSERT INTO bench_plain $cols $gen")
scored=$(t "INSERT INTO bench_scored $cols $gen")
echo "bulk INSERT...SELECT of $ROWS rows: plain ${plain} ms, scored ${scored} ms, scored throughput = $(awk "BEGIN{printf \"%.0f\", 100*$plain/$scored}")% of plain"
maxc=$("${PSQL[@]}" -tA -c "SELECT max(id) FROM customers")
maxp=$("${PSQL[@]}" -tA -c "SELECT max(id) FROM products")
for sc in off on; do
  for tbl in bench_plain bench_scored; do
    echo "\\set c random(1, $maxc)
\\set p random(1, $maxp)
INSERT INTO $tbl (customer_id, product_id, quantity, unit_price, amount, payment_method) VALUES (:c, :p, 1, 19.99, 19.99, 'paypal');" > /tmp/bench_fraud_$tbl.sql
    tps=$(PGOPTIONS="-c synchronous_commit=$sc" pgbench -n -c 2 -j 2 -T "$SECS" -f /tmp/bench_fraud_$tbl.sql 2>/dev/null | awk '/^tps/ {print $3}')
    eval "tps_$tbl=$tps"
  done
  echo "pgbench 2 clients, synchronous_commit=$sc: plain $tps_bench_plain tps, scored $tps_bench_scored tps = $(awk "BEGIN{printf \"%.0f\", 100*$tps_bench_scored/$tps_bench_plain}")% of plain"
done
# WAL written per single-row INSERT (the durable case pays one WAL flush per commit either way;
# what the trigger adds is the state row's new version, its row lock, the customers.risk_score
# update and alerts): WAL_TX statements on one connection, LSN difference / WAL_TX. The LSN is
# the cluster's: the figure is only meaningful on a cluster nothing else writes to meanwhile.
WAL_TX="${WAL_TX:-2000}"
for tbl in bench_plain bench_scored; do
  a=$("${PSQL[@]}" -tA -c "SELECT pg_current_wal_insert_lsn()")
  PGOPTIONS="-c synchronous_commit=off" pgbench -n -c 1 -t "$WAL_TX" -f /tmp/bench_fraud_$tbl.sql >/dev/null 2>&1
  b=$("${PSQL[@]}" -tA -c "SELECT pg_current_wal_insert_lsn()")
  eval "wal_$tbl=$("${PSQL[@]}" -tA -c "SELECT round(pg_wal_lsn_diff('$b', '$a') / $WAL_TX)")"
done
echo "WAL per single-row INSERT ($WAL_TX statements): plain $wal_bench_plain bytes, scored $wal_bench_scored bytes = $(awk "BEGIN{printf \"%.2f\", $wal_bench_scored/$wal_bench_plain}")x"
# Backend CPU time (utime + stime of the one backend running the statements, /proc/PID/stat: needs
# the server on this host; skipped otherwise). On a shared, loaded machine the wall-clock ratios
# above move by tens of points between runs; the CPU time of the backend much less. CPU_TX
# single-row INSERTs (synchronous_commit off, random customers and products, one psql) and
# the bulk INSERT ... SELECT of ROWS rows into each table (emptied first), alternating, CPU_ROUNDS
# rounds, median. Env: CPU_TX (3000), CPU_ROUNDS (3).
CPU_TX="${CPU_TX:-3000}"; CPU_ROUNDS="${CPU_ROUNDS:-3}"
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

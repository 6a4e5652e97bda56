#!/usr/bin/env bash
# The fraud engine at scale, as ratios within one run (bench/README.md, "Fraud engine"):
# CUSTOMERS customers (added to a database with the migrations and seed data, PG* env), then a
# bulk INSERT ... SELECT of ROWS generated rows spread over all customers into (a) a copy of
# transactions without trigger, (b) the same copy with the scoring triggers; scored throughput
# in % of plain. Then memory flatness: one backend inserts ROWS scored rows as STEPS statements
# and prints, after each, its memory contexts (pg_backend_memory_contexts: total, and the
# engine's own contexts) and its RSS (VmRSS of /proc/PID/status; needs the same host).
# Env: ROWS (1000000), CUSTOMERS (100000), STEPS (10; 0: no memory series). The bulk line also
# gives the CPU time of each statement's backend (same host only).
set -Eeuo pipefail
ROWS="${ROWS:-1000000}"
CUSTOMERS="${CUSTOMERS:-100000}"
STEPS="${STEPS:-10}"
PSQL=(psql -X -q -v ON_ERROR_STOP=1)
"${PSQL[@]}" <<SQL
SELECT setval(pg_get_serial_sequence('customers', 'id'), (SELECT max(id) FROM customers));
INSERT INTO customers (email, name, country, registration_date)
SELECT 'scale-' || g || '@example.com', 'Scale ' || g, (ARRAY['DE','FR','GB','US','NL'])[1 + g % 5], '2024-01-01'
  FROM generate_series((SELECT count(*) FROM customers) + 1, $CUSTOMERS) g;
DROP TABLE IF EXISTS bench_plain, bench_scored, bench_customer_ids;
CREATE TABLE bench_plain (LIKE transactions INCLUDING ALL);
ALTER TABLE bench_plain ADD FOREIGN KEY (customer_id) REFERENCES customers (id), ADD FOREIGN KEY (product_id) REFERENCES products (id);
CREATE TABLE bench_scored (LIKE transactions INCLUDING ALL);
ALTER TABLE bench_scored ADD FOREIGN KEY (customer_id) REFERENCES customers (id), ADD FOREIGN KEY (product_id) REFERENCES products (id);
CREATE TRIGGER bench_score BEFORE INSERT ON bench_scored FOR EACH ROW EXECUTE FUNCTION techmart.score_transaction();
CREATE TRIGGER bench_score_flush AFTER INSERT ON bench_scored FOR EACH STATEMENT EXECUTE FUNCTION techmart.score_transaction_flush();
CREATE TABLE bench_customer_ids AS SELECT row_number() OVER (ORDER BY id) AS rn, id FROM customers;
ALTER TABLE bench_customer_ids ADD PRIMARY KEY (rn);
ANALYZE bench_customer_ids;
CHECKPOINT;
SQL
ncust=$("${PSQL[@]}" -tA -c "SELECT count(*) FROM customers")
maxp=$("${PSQL[@]}" -tA -c "SELECT max(id) FROM products")
gen() {  # rows $1 .. $2, time order, customer ids spread over all customers
  echo "SELECT c.id, 1 + (g * 104729) % $maxp, 1 + g % 3, 5 + (g * 31) % 200,
               (1 + g % 3) * (5 + (g * 31) % 200), 'credit_card', 'DE', timestamptz '2026-01-01' + g * interval '2 seconds'
          FROM generate_series($1::bigint, $2) g JOIN bench_customer_ids c ON c.rn = 1 + (g * 7919) % $ncust"
}
cols="(customer_id, product_id, quantity, unit_price, amount, payment_method, country, transaction_time)"
# t SQL: runs SQL in a new session; prints its wall ms and the CPU ms of its backend
# (utime + stime from /proc: NA when the server is on another host)
tck=$(getconf CLK_TCK)
t() {
  local s e pid c0 c1 l
  coproc T { psql -X -q -tA -v ON_ERROR_STOP=1 2>&1; }
  echo "SELECT pg_backend_pid();" >&"${T[1]}"; read -r pid <&"${T[0]}"
  c0=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo NA)
  s=$(date +%s%N)
  echo "$1; SELECT 't-done';" >&"${T[1]}"
  while read -r l <&"${T[0]}"; do [ "$l" = t-done ] && break; case "$l" in *ERROR*) echo "$l" >&2; exit 1 ;; esac; done
  e=$(date +%s%N)
  c1=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo NA)
  echo "\\q" >&"${T[1]}"; wait "$T_PID" 2>/dev/null || true
  if [ "$c0" = NA ] || [ "$c1" = NA ]; then echo "$(( (e - s) / 1000000 )) NA"; else echo "$(( (e - s) / 1000000 )) $(( (c1 - c0) * 1000 / tck ))"; fi
}
read -r plain plain_cpu < <(t "INSERT INTO bench_plain $cols $(gen 1 "$ROWS")")
"${PSQL[@]}" -c "CHECKPOINT"
read -r scored scored_cpu < <(t "INSERT INTO bench_scored $cols $(gen 1 "$ROWS")")
echo "bulk INSERT...SELECT of $ROWS rows over $ncust customers: plain ${plain} ms, scored ${scored} ms, scored throughput = $(awk "BEGIN{printf \"%.0f\", 100*$plain/$scored}")% of plain"
[ "$plain_cpu" = NA ] || echo "  backend CPU: plain ${plain_cpu} ms, scored ${scored_cpu} ms, scored = $(awk "BEGIN{printf \"%.0f\", 100*$plain_cpu/$scored_cpu}")% of plain"
"${PSQL[@]}" -c "TRUNCATE bench_scored; CHECKPOINT"
if [ "$STEPS" = 0 ]; then  # no memory series
  "${PSQL[@]}" -c "DROP TABLE bench_plain, bench_scored, bench_customer_ids"
  exit 0
fi

# memory: one backend, STEPS statements of ROWS/STEPS scored rows each
step=$(( ROWS / STEPS ))
coproc PG { psql -X -q -tA -v ON_ERROR_STOP=1 2>&1; }
echo "SELECT pg_backend_pid();" >&"${PG[1]}"
read -r pid <&"${PG[0]}"
mem_line() {
  echo "SELECT sum(total_bytes) || ' ' || coalesce(sum(total_bytes) FILTER (WHERE name LIKE 'techmart%'), 0) FROM pg_backend_memory_contexts;" >&"${PG[1]}"
  local m; read -r m <&"${PG[0]}" || { echo "psql ended"; exit 1; }
  case "$m" in *ERROR*) echo "$m"; exit 1 ;; esac
  echo "$1 rows: memory contexts ${m% *} bytes (techmart ${m#* }), VmRSS $(awk '/VmRSS/ {print $2 " " $3}' /proc/"$pid"/status)"
}
echo "SET synchronous_commit = off;" >&"${PG[1]}"
for i in $(seq 1 "$STEPS"); do
  echo "INSERT INTO bench_scored $cols $(gen $(( (i - 1) * step + 1 )) $(( i * step )));" >&"${PG[1]}"
  mem_line $(( i * step ))
done
echo "\\q" >&"${PG[1]}"
wait "$PG_PID" 2>/dev/null || true
"${PSQL[@]}" -c "DROP TABLE bench_plain, bench_scored, bench_customer_ids"

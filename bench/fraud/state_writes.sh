#!/usr/bin/env bash
# The fraud state's upkeep after DELETE / UPDATE (techmart 0.8, sqitch change fraud_state_writes):
# what the triggers transactions_fraud_state_{del,upd,trunc} cost, as ratios within one run, each
# figure measured with the triggers and without them (dropped), in alternating rounds.
# Uses a running cluster (PG* env) and creates/drops the database techmart_bench_state (migrations
# deployed, no seed): CUSTOMERS customers with HISTORY scored lines each, one product; then per round
#   insert  single-row INSERT (pgbench, 1 client): no state trigger fires on INSERT -> ratio ~1;
#   status  single-row UPDATE of status (the API's PATCH): the trigger compares the line versions;
#   amount  single-row UPDATE of amount: the customer's state recomputed from its HISTORY lines;
#   delete  single-row DELETE (rolled back, so the table stays the same): the same recomputation;
# and once each way CALL techmart.rescore over the whole history after a weight change (its UPDATEs of
# fraud_score recompute the rescored customers' state with the trigger).
# synchronous_commit = off for the pgbench rounds (commit flushes are not what is compared).
# Env: CUSTOMERS (1000), HISTORY (30), BENCH_SECONDS (5), ROUNDS (3). Run under
#   flock -o /tmp/techmart-bench.lock bench/fraud/state_writes.sh
set -Eeuo pipefail
export PGOPTIONS="${PGOPTIONS:-} -c techmart.track_stock=off -c synchronous_commit=off -c client_min_messages=warning"
CUSTOMERS="${CUSTOMERS:-1000}"
HISTORY="${HISTORY:-30}"
SECONDS_PER="${BENCH_SECONDS:-5}"
ROUNDS="${ROUNDS:-3}"
DB=techmart_bench_state
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DIR="$(mktemp -d)"
trap 'rm -rf "$DIR"' EXIT
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
(cd "$ROOT/migrations" && sqitch --quiet deploy "db:pg:$DB" >/dev/null)
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -d "$DB")
"${PSQL[@]}" <<SQL
INSERT INTO customers (id, email, name, country, registration_date)
SELECT i, 'state-' || i || '@example.com', 'State ' || i, 'DE', '2020-01-01' FROM generate_series(1, $CUSTOMERS) i;
INSERT INTO products (id, sku, name, price, stock_quantity) VALUES (1, 'STATE-1', 'State product', 40, 1000000000);
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country, transaction_time)
SELECT c, 1, 1, 5 + (g * 7919 + c) % 400, (ARRAY['credit_card','paypal','debit_card'])[1 + (g + c) % 3], 'DE',
       timestamptz '2026-01-01' + (g * $CUSTOMERS + c) * interval '37 seconds'
  FROM generate_series(1, $HISTORY) g CROSS JOIN generate_series(1, $CUSTOMERS) c ORDER BY g, c;
VACUUM ANALYZE;
SQL
maxid="$("${PSQL[@]}" -tAc "SELECT max(id) FROM transactions")"
cat > "$DIR/insert.sql" <<SQL
\set c random(1, $CUSTOMERS)
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country)
VALUES (:c, 1, 1, 12.5, 'paypal', 'DE');
SQL
cat > "$DIR/status.sql" <<SQL
\set i random(1, $maxid)
UPDATE transactions SET status = CASE status WHEN 'completed' THEN 'pending' ELSE 'completed' END WHERE id = :i;
SQL
cat > "$DIR/amount.sql" <<SQL
\set i random(1, $maxid)
UPDATE transactions SET amount = amount + 0.01 WHERE id = :i;
SQL
cat > "$DIR/delete.sql" <<SQL
\set i random(1, $maxid)
BEGIN;
DELETE FROM transactions WHERE id = :i;
ROLLBACK;
SQL
drop="DROP TRIGGER IF EXISTS transactions_fraud_state_del ON transactions; DROP TRIGGER IF EXISTS transactions_fraud_state_upd ON transactions;
      DROP TRIGGER IF EXISTS transactions_fraud_state_trunc ON transactions;"
create="$(sed -n '/^CREATE TRIGGER transactions_fraud_state_del/,/^COMMIT;/p' "$ROOT/migrations/deploy/fraud_state_writes.sql" | sed '$d')"
tps() { pgbench -n -c 1 -j 1 -T "$SECONDS_PER" -f "$DIR/$1.sql" "$DB" 2>&1 | sed -n 's/^tps = \([0-9.]*\).*/\1/p'; }
declare -A with without
for r in $(seq 1 "$ROUNDS"); do
  for mode in with without; do
    if [ $mode = without ]; then "${PSQL[@]}" -c "$drop"; else "${PSQL[@]}" -c "$drop" -c "$create"; fi
    for s in insert status amount delete; do
      t="$(tps $s)"
      if [ $mode = with ]; then with[$s]="${with[$s]:-} $t"; else without[$s]="${without[$s]:-} $t"; fi
      echo "round $r $mode $s: $t tps"
    done
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
echo "# median tps (with / without the state triggers; ratio = with / without)"
for s in insert status amount delete; do
  w="$(echo "${with[$s]}" | median)"; wo="$(echo "${without[$s]}" | median)"
  awk -v s="$s" -v w="$w" -v wo="$wo" 'BEGIN {printf "%-7s %10.1f %10.1f  ratio %.3f  (%.3f ms more a statement)\n", s, w, wo, w / wo, 1000 / w - 1000 / wo}'
done
# rescore over the whole history after a weight change, once without and once with the triggers
for mode in without with; do
  if [ $mode = without ]; then "${PSQL[@]}" -c "$drop"; else "${PSQL[@]}" -c "$drop" -c "$create" -c "SELECT techmart.rebuild_state()" >/dev/null; fi
  "${PSQL[@]}" -c "UPDATE techmart.rule_config SET weight = weight * CASE WHEN '$mode' = 'with' THEN 1.5 ELSE 1 / 1.5 END"
  s0=$(date +%s.%N)
  out="$("${PSQL[@]}" -tA -c "CALL techmart.rescore('-infinity', 'infinity', 500)")"
  s1=$(date +%s.%N)
  echo "rescore $mode: $(echo "$s1 - $s0" | bc) s ($out)"
done
echo "state check: $("${PSQL[@]}" -tAc "SELECT count(*) FROM techmart.customer_state_check()") customers differ (0: exact)"
psql -X -q -d postgres -c "DROP DATABASE $DB"

#!/usr/bin/env bash
# CALL techmart.rescore against scoring the same rows on insert, as a ratio within one run
# (bench/README.md, "Fraud engine: rescore"). Uses a running cluster (PG* env) and creates/drops
# the database techmart_bench_rescore (migrations deployed with sqitch, no seed): CUSTOMERS
# customers, one product; then
#   1. baseline: ROWS rows inserted by one INSERT ... SELECT with the scoring triggers on (time order,
#      spread over the customers);
#   2. their scores cleared (fraud_score NULL, reasons [], not suspicious), VACUUM ANALYZE, then
#      CALL techmart.rescore over their period with BATCH customers per committed batch.
# Prints both times, rows/s and rescore / insert. The rescore writes the changed rows 500 per UPDATE
# (extension/pg/fraud_functions.cpp); it wrote one UPDATE per row before, whose statement triggers
# (rollups, total_spent) dominated. Env: ROWS (200000), CUSTOMERS (20000), BATCH (500).
set -Eeuo pipefail
# Transactions of a generated history or on random products: the stock upkeep (change stock_sales)
# is off, as for any load of past transactions (its own cost: bench/RESULTS.md "Sales move the stock").
export PGOPTIONS="${PGOPTIONS:-} -c techmart.track_stock=off"
ROWS="${ROWS:-200000}"
CUSTOMERS="${CUSTOMERS:-20000}"
BATCH="${BATCH:-500}"
DB=techmart_bench_rescore
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
(cd "$ROOT/migrations" && sqitch --quiet deploy "db:pg:$DB" >/dev/null)
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -d "$DB")
"${PSQL[@]}" <<SQL
INSERT INTO customers (id, email, name, country, registration_date)
SELECT i, 'rescore-' || i || '@example.com', 'Rescore ' || i, 'DE', '2020-01-01' FROM generate_series(1, $CUSTOMERS) i;
INSERT INTO products (id, sku, name, price) VALUES (1, 'RESCORE-1', 'Rescore product', 40);
ANALYZE;
SQL
ms() {  # milliseconds of one statement, timed by the server
  "${PSQL[@]}" -tA -c "DO \$\$ DECLARE t0 timestamptz := clock_timestamp(); BEGIN $1; RAISE NOTICE 'ms=%', round(extract(epoch FROM clock_timestamp() - t0) * 1000); END \$\$" 2>&1 \
    | sed -n 's/.*ms=\([0-9]*\).*/\1/p'
}
ins=$(ms "INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country, transaction_time)
          SELECT 1 + (g * 7919) % $CUSTOMERS, 1, 1, 20 + g % 50, 'credit_card', 'DE', timestamptz '2026-01-01' + g * interval '30 seconds'
            FROM generate_series(1, $ROWS) g")
"${PSQL[@]}" -c "UPDATE transactions SET fraud_score = NULL, fraud_reasons = '[]', is_suspicious = false" -c "VACUUM ANALYZE transactions"
t0=$(date +%s%N)
out=$("${PSQL[@]}" -tA -c "CALL techmart.rescore('2026-01-01', '2027-01-01', $BATCH)")
t1=$(date +%s%N)
res=$(( (t1 - t0) / 1000000 ))
check=$("${PSQL[@]}" -tA -c "SELECT count(*) FROM transactions WHERE fraud_score IS NULL" -c "SELECT count(*) FROM analytics.rollup_check()")
echo "rows $ROWS, customers $CUSTOMERS, batch $BATCH"
echo "scored INSERT: $ins ms ($(( ROWS * 1000 / (ins > 0 ? ins : 1) )) rows/s)"
echo "CALL rescore:  $res ms ($(( ROWS * 1000 / (res > 0 ? res : 1) )) rows/s), reported (rescored|changed|newly|no longer|batches) $out"
echo "rescore / insert: $(awk -v a="$res" -v b="$ins" 'BEGIN { printf "%.2f", a / b }')"
echo "unscored rows left, rollup_check differences: $(echo $check)"
psql -X -q -d postgres -c "DROP DATABASE $DB"

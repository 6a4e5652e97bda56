#!/usr/bin/env bash
# A scoring writer that waits for another transaction's lock on a customer's state row must not
# trust the customers.risk_score it read before the wait. Deterministic: the other transaction
# (a DELETE, then an UPDATE moving lines to another customer, each run by the fraud_state_writes
# triggers) changes the customer's state and lowers risk_score to 0.00 and stays open; the writer's
# INSERT starts, reads risk_score 100.00 with its snapshot and waits for the state row (polled in
# pg_stat_activity until it waits on a lock); the other transaction commits; the writer folds its
# lines into the new state, whose risk_score is 100.00 again -- equal to the stale text it read.
# Until 2026-12-08 the write-back compared with that stale text, skipped the UPDATE of customers
# and left risk_score 0.00 beside a state of risk 100.00 (seen as a rare failure of the
# state-concurrency suites: "risk_score DIFFERENT 99.71 / 99.89"). Each round then checks
# techmart.customer_state_check for the customer (check_states_exact, lib.sh).
#
#   PGHOST=... PGPORT=... PGUSER=postgres PGDATABASE=techmart tests/concurrency/fraud_risk_stale.sh
#
# Uses ids 970451..970452 (customers) and 970451 (product); removes its rows at the end. Prints TAP.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cleanup_sql="
  DELETE FROM alerts WHERE customer_id BETWEEN 970451 AND 970452;
  DELETE FROM transactions WHERE customer_id BETWEEN 970451 AND 970452;
  DELETE FROM techmart.customer_state WHERE customer_id BETWEEN 970451 AND 970452;
  DELETE FROM inventory_history WHERE product_id = 970451;
  DELETE FROM customers WHERE id BETWEEN 970451 AND 970452;
  DELETE FROM products WHERE id = 970451;"
"${PSQL[@]}" -c "$cleanup_sql"
"${PSQL[@]}" <<'SQL'
INSERT INTO products (id, sku, name, price, stock_quantity) VALUES (970451, 'RISK-STALE-1', 'risk stale', 10, 10000000);
INSERT INTO customers (id, email, name, country, registration_date)
SELECT 970450 + i, 'riskstale' || i || '@example.com', 'Risk stale ' || i, 'FR', now() - interval '2 days'
  FROM generate_series(1, 2) i;
SQL
# 40 lines that every rule finds suspicious (huge amounts, high-risk method, four countries in
# minutes): the customer's risk saturates, risk_score 100.00
burst="INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country, latitude, longitude, transaction_time)
SELECT 970451, 970451, 5, 4000 + g, 'crypto', (ARRAY['NG','US','RU','BR'])[1 + g % 4], (ARRAY[6.5, 40.7, 55.7, -23.5])[1 + g % 4],
       (ARRAY[3.4, -74.0, 37.6, -46.6])[1 + g % 4], now() - interval '1 hour' + g * interval '20 seconds' FROM generate_series(1, 40) g"
risk() { "${PSQL[@]}" -tA -c "SELECT risk_score FROM customers WHERE id = 970451"; }

# race N TEXT SQL: the round described at the top, with SQL as the other transaction's change
race() {
  local holder writer l i waiting=0 before
  "${PSQL[@]}" -c "$burst"
  before="$(risk)"
  coproc HOLDER { PGAPPNAME=risk_stale_holder psql -X -q -tA -v ON_ERROR_STOP=1 2>&1; }
  holder=$HOLDER_PID
  echo "BEGIN; $3; SELECT 'changed';" >&"${HOLDER[1]}"
  while read -r l <&"${HOLDER[0]}"; do [ "$l" = changed ] && break; echo "# holder: $l"; done
  PGAPPNAME=risk_stale_writer "${PSQL[@]}" -c "$burst" &
  writer=$!
  for i in $(seq 1 300); do
    if [ "$("${PSQL[@]}" -tA -c "SELECT count(*) FROM pg_stat_activity
          WHERE application_name = 'risk_stale_writer' AND wait_event_type = 'Lock'")" = 1 ]; then
      waiting=1; break
    fi
    sleep 0.05
  done
  echo "COMMIT; SELECT 'committed';" >&"${HOLDER[1]}"
  while read -r l <&"${HOLDER[0]}"; do [ "$l" = committed ] && break; echo "# holder: $l"; done
  echo '\q' >&"${HOLDER[1]}"
  wait "$holder" 2>/dev/null || true
  wait "$writer" || { echo "not ok $1 - $2: the writer's INSERT failed"; fail=1; return; }
  echo "# $2: risk_score $before before the round, $(risk) after; the writer waited for the lock: $waiting"
  if [ "$waiting" != 1 ]; then
    echo "not ok $1 - $2: the writer never waited for the other transaction's lock"; fail=1; return
  fi
  check_states_exact "$1" 970451 970451
}
race 1 "a DELETE committed while an INSERT waited" "DELETE FROM transactions WHERE customer_id = 970451"
race 2 "an UPDATE moving the lines away committed while an INSERT waited" \
  "UPDATE transactions SET customer_id = 970452 WHERE customer_id = 970451"
check_states_exact 3 970452 970452
"${PSQL[@]}" -c "$cleanup_sql"
finish 3

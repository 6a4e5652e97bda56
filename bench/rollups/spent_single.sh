#!/usr/bin/env bash
# Single-row cost of the customers.total_spent upkeep (changes customers_spent, customers_spent_c), as a
# ratio within one run: pgbench, CLIENTS clients, synchronous_commit=off, SECS-second runs of one
# single-row INSERT into transactions with every trigger of the product on; the four
# transactions_spent_* triggers disabled and enabled alternately (the order swapping from pair to pair),
# PAIRS pairs. Prints each pair's tps ratio with/without, their median, and checks that total_spent
# is exact afterwards (analytics.customers_spent_rebuild() after the runs without the triggers).
#   PGHOST=... PGPORT=... PGUSER=postgres PGDATABASE=<migrated, seeded> bench/rollups/spent_single.sh
# Env: PAIRS (8), SECS (4), CLIENTS (2). Writes rows into transactions (deleted at the end).
# Transactions of a generated history or on random products: the stock upkeep (change stock_sales)
# is off, as for any load of past transactions (its own cost: bench/RESULTS.md "Sales move the stock").
export PGOPTIONS="${PGOPTIONS:-} -c techmart.track_stock=off"
PAIRS="${PAIRS:-8}"; SECS="${SECS:-4}"; CLIENTS="${CLIENTS:-2}"
TRIGGERS=(transactions_spent_ins transactions_spent_upd transactions_spent_del transactions_spent_trunc)
. "$(dirname "${BASH_SOURCE[0]}")/lib_single.sh"
"${P[@]}" -c "VACUUM customers, transactions"
pairs total_spent
"${P[@]}" -c "DELETE FROM transactions WHERE id > $first" -c "SELECT analytics.customers_spent_rebuild()" >/dev/null
echo "customers_spent_check differences after the runs: $("${P[@]}" -tA -c "SELECT count(*) FROM analytics.customers_spent_check()")"

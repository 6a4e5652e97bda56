#!/usr/bin/env bash
# Single-row cost of the per-customer monthly rollups' upkeep (change customer_months), as a ratio within one
# run: pgbench, CLIENTS clients, synchronous_commit=off, SECS-second runs of one single-row INSERT into
# transactions with every trigger of the product on; the four transactions_months_* triggers disabled and
# enabled alternately (the order swapping from pair to pair), PAIRS pairs. Prints each pair's tps ratio
# with/without, their median, and checks that the rollups are exact afterwards
# (analytics.customer_months_rebuild() after the runs without the triggers). The same script as spent_single.sh.
#   PGHOST=... PGPORT=... PGUSER=postgres PGDATABASE=<migrated, seeded> bench/rollups/cmonths_single.sh
# Env: PAIRS (8), SECS (4), CLIENTS (2). Writes rows into transactions (deleted at the end).
# Transactions of a generated history or on random products: the stock upkeep (change stock_sales)
# is off, as for any load of past transactions (its own cost: bench/RESULTS.md "Sales move the stock").
export PGOPTIONS="${PGOPTIONS:-} -c techmart.track_stock=off"
PAIRS="${PAIRS:-8}"; SECS="${SECS:-4}"; CLIENTS="${CLIENTS:-2}"
TRIGGERS=(transactions_months_ins transactions_months_upd transactions_months_del transactions_months_trunc)
. "$(dirname "${BASH_SOURCE[0]}")/lib_single.sh"
"${P[@]}" -c "VACUUM customers, transactions"
pairs customer_months
"${P[@]}" -c "DELETE FROM transactions WHERE id > $first" -c "SELECT analytics.customer_months_rebuild()" >/dev/null
echo "customer_months_check differences after the runs: $("${P[@]}" -tA -c "SELECT count(*) FROM analytics.customer_months_check()")"

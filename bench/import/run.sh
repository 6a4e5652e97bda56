#!/usr/bin/env bash
# Import benchmark, ratio within one run (bench/README.md, section "Import").
#   PGHOST=... PGPORT=... PGUSER=postgres bench/import/run.sh [FILE.csv] [ROUNDS]
# Default FILE: $TECHMART_ONLINE_RETAIL, else ../shared/data/online-retail-2010-12_2011-02.csv; ROUNDS 3.
# Deploys the migrations into techmart_bench_import_tpl once; each round, alternating:
#   baseline  a bare \copy of FILE into an unindexed plain table of 8 text columns (psql);
#   import    a fresh copy of the template database, then the whole import end to end as the
#             CLI runs it (tools/import-online-retail.sh: header, UTF-8 and field-count checks,
#             \copy into staging, validation, customers/products, transactions with
#             techmart.scoring = off, rollups and fraud state rebuilt, ledger; one transaction).
# Prints, per round, the import's phases with their durations (its progress lines: checks of the
# file, copy into staging, then the phases of import.online_retail()), and at the end the medians,
# the ratio import/baseline (target <= 4) and rows per second. Checks that the hourly rollups, the product days
# and the customers' months of the last round are exact.
set -Eeuo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
FILE="$(readlink -f "${1:-${TECHMART_ONLINE_RETAIL:-$ROOT/../shared/data/online-retail-2010-12_2011-02.csv}}")"
ROUNDS="${2:-3}"
TPL=techmart_bench_import_tpl
DB=techmart_bench_import
P=(psql -X -q -v ON_ERROR_STOP=1)
ROWS=$(( $(wc -l < "$FILE") - 1 ))

"${P[@]}" -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" \
  -c "DROP DATABASE IF EXISTS $TPL WITH (FORCE)" -c "CREATE DATABASE $TPL"
(cd "$ROOT/migrations" && sqitch --quiet deploy "db:pg:$TPL" >/dev/null)
"${P[@]}" -d "$TPL" -c "CREATE TABLE bench_bare (a text, b text, c text, d text, e text, f text, g text, h text)"

now() { date +%s%N; }
base=(); imp=()
for r in $(seq 1 "$ROUNDS"); do
  "${P[@]}" -d "$TPL" -c "TRUNCATE bench_bare" -c "CHECKPOINT"
  t0=$(now)
  "${P[@]}" -d "$TPL" -c "\\copy bench_bare FROM '$FILE' (FORMAT csv, HEADER)"
  t1=$(now)
  base+=($(( (t1 - t0) / 1000000 )))

  "${P[@]}" -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" \
    -c "CREATE DATABASE $DB TEMPLATE $TPL" -c "CHECKPOINT"
  t0=$(now)
  PGDATABASE=$DB "$ROOT/tools/import-online-retail.sh" "$FILE" >/dev/null 2>"/tmp/bench-import.$$.log" \
    || { cat "/tmp/bench-import.$$.log"; exit 1; }
  t1=$(now)
  imp+=($(( (t1 - t0) / 1000000 )))
  echo "round $r: bare COPY ${base[-1]} ms, import ${imp[-1]} ms"
  grep -ao 'import \[[a-z0-9/]*\].*' "/tmp/bench-import.$$.log" | sed 's/^import /    /' | cut -c1-160
done
rm -f "/tmp/bench-import.$$.log"
[ "$(psql -XtA -d $DB -c "SELECT count(*) FROM analytics.rollup_check()")" = 0 ] || { echo "rollups not exact"; exit 1; }
[ "$(psql -XtA -d $DB -c "SELECT (SELECT count(*) FROM analytics.product_daily_check()) + (SELECT count(*) FROM analytics.customer_months_check())")" = 0 ] \
  || { echo "product days or customer months not exact"; exit 1; }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
mb=$(median "${base[@]}"); mi=$(median "${imp[@]}")
awk -v b="$mb" -v i="$mi" -v n="$ROWS" 'BEGIN {
  printf "rows %d; median bare COPY %d ms (%.0f rows/s); median import end to end %d ms (%.0f rows/s); ratio %.1fx (target <= 4x)\n",
         n, b, n / (b / 1000), i, n / (i / 1000), i / b }'
"${P[@]}" -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "DROP DATABASE IF EXISTS $TPL WITH (FORCE)"

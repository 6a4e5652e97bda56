#!/usr/bin/env bash
# End-to-end test of the Online Retail import on the shared three-month file (docs/import.md).
#
#   PGHOST=... PGPORT=... PGUSER=postgres tests/import/online_retail.sh [FILE.csv]
#
# Creates its own database (techmart_import_test), deploys the migrations, imports FILE with the
# CLI path (tools/import-online-retail.sh), and compares the product's analytics functions (and
# their api.* JSON wrappers) with totals computed here by awk straight from the raw CSV, to the
# penny: invoices, customers, products, net revenue per month, revenue per country, top five
# customers by net spend. Then: a second import changes nothing; malformed files (bad dates,
# missing columns, wrong encoding) are reported with line numbers and import nothing; a quoted
# description with commas and quotes survives intact. Prints "ok N checks" / exits 1 on failure.
set -Eeuo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DEFAULT_FILE="$ROOT/../shared/data/online-retail-2010-12_2011-02.csv"
if [ ! -r "$DEFAULT_FILE" ]; then  # a git worktree elsewhere: beside the main checkout
  common="$(git -C "$ROOT" rev-parse --path-format=absolute --git-common-dir 2>/dev/null || true)"
  [ -n "$common" ] && DEFAULT_FILE="$(dirname "$common")/../shared/data/online-retail-2010-12_2011-02.csv"
fi
if [ ! -r "$DEFAULT_FILE" ]; then  # a clone elsewhere (git clone . /tmp/x): beside the checkout it was cloned from
  origin="$(git -C "$ROOT" remote get-url origin 2>/dev/null || true)"
  origin="${origin#file://}"
  [ -d "$origin" ] && DEFAULT_FILE="$(cd "$origin" && pwd)/../shared/data/online-retail-2010-12_2011-02.csv"
fi
FILE="${1:-${TECHMART_ONLINE_RETAIL:-$DEFAULT_FILE}}"
[ -r "$FILE" ] || { echo "not ok: cannot read $FILE"; exit 1; }
DB=techmart_import_test
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
export PGDATABASE=$DB
# month boundaries of the file are UK local dates
export PGOPTIONS="-c analytics.business_timezone=Europe/London"
Q() { psql -X -q -tA -v ON_ERROR_STOP=1 "$@"; }
checks=0; failed=0
check() {  # check NAME EXPECTED ACTUAL
  checks=$((checks + 1))
  if [ "$2" == "$3" ]; then echo "ok $checks - $1"
  else failed=$((failed + 1)); echo "not ok $checks - $1"; { diff <(echo "$2") <(echo "$3") | head -20 | sed 's/^/#   /'; } || true; fi
}

psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
(cd "$ROOT/migrations" && sqitch --quiet deploy "db:pg:$DB") >/dev/null

# ---------------------------------------------------------------- independent totals (awk)
# The rules of docs/import.md, re-implemented: lines of StockCodes that are not products and lines
# with a price <= 0 are set aside; a C invoice with a negative quantity is a refund (net amount
# quantity * price < 0); other negative or zero quantities are set aside; lines without CustomerID
# belong to the guest of their country. Money in thousandths (integers: exact).
LC_ALL=C awk -v out="$TMP" '
  function csv(s,   i, c, L, q, f) {  # split an RFC 4180 line into F[1..n]
    n = 0; f = ""; q = 0; L = length(s)
    for (i = 1; i <= L; i++) {
      c = substr(s, i, 1)
      if (q) { if (c == "\"") { if (substr(s, i + 1, 1) == "\"") { f = f "\""; i++ } else q = 0 } else f = f c }
      else if (c == "\"") q = 1
      else if (c == ",") { F[++n] = f; f = "" }
      else f = f c
    }
    F[++n] = f
  }
  BEGIN {
    split("United Kingdom=GB|France=FR|Australia=AU|Netherlands=NL|Germany=DE|Norway=NO|EIRE=IE|Switzerland=CH|Spain=ES|Poland=PL|Portugal=PT|Italy=IT|Belgium=BE|Lithuania=LT|Japan=JP|Iceland=IS|Channel Islands=XC|Denmark=DK|Cyprus=CY|Sweden=SE|Austria=AT|Israel=IL|Finland=FI|Bahrain=BH|Greece=GR|Hong Kong=HK|Singapore=SG|Lebanon=LB|United Arab Emirates=AE|Saudi Arabia=SA|Czech Republic=CZ|Canada=CA|Unspecified=ZZ|Brazil=BR|USA=US|European Community=EU|Malta=MT|RSA=ZA", a, "|")
    for (i in a) { split(a[i], kv, "="); CC[kv[1]] = kv[2] }
    split("POST DOT C2 M D S B AMAZONFEE CRUK PADS", b, " "); for (i in b) SPECIAL[b[i]] = 1
    SPECIAL["BANK CHARGES"] = 1
  }
  NR == 1 { next }
  {
    sub(/\r$/, "")
    if (index($0, "\"")) csv($0); else n = split($0, F, ",")
    inv = F[1]; sku = F[2]; qty = F[4] + 0; price = F[6]; cust = F[7]; country = F[8]
    u = toupper(sku)
    if (u in SPECIAL || u ~ /^GIFT_/) next
    pm = sprintf("%.0f", price * 1000) + 0
    if (pm <= 0 || qty == 0) next
    if (inv ~ /^C/) { if (qty > 0) next } else if (qty < 0) next
    amt = qty * pm
    cc = CC[country]; if (cc == "") { print "unknown country " country > "/dev/stderr"; exit 1 }
    key = (cust == "") ? "guest-" tolower(cc) : sprintf("c%d", cust + 0)
    month[substr(F[5], 1, 7)] += amt
    ctry[cc] += amt
    spend[key] += amt
    cust_seen[key] = 1
    prod[sku] = 1
    if (inv !~ /^C/) invoice[inv] = 1
  }
  END {
    for (m in month) printf "%s|%.3f\n", m, month[m] / 1000 > out "/month"
    for (c in ctry) printf "%s|%.3f\n", c, ctry[c] / 1000 > out "/country"
    for (k in spend) printf "%s|%.3f\n", k, spend[k] / 1000 > out "/spend"
    nc = 0; for (k in cust_seen) nc++
    np = 0; for (k in prod) np++
    ni = 0; for (k in invoice) ni++
    printf "%d|%d|%d\n", ni, nc, np > out "/counts"
  }' "$FILE"
LC_ALL=C sort -o "$TMP/month" "$TMP/month"
LC_ALL=C sort -t"|" -k1,1 -o "$TMP/country" "$TMP/country"
# (sorted into a file first: `sort | head` under pipefail dies of SIGPIPE when head exits early)
LC_ALL=C sort -t"|" -k2,2nr -k1,1 -o "$TMP/spend" "$TMP/spend"
head -n 5 "$TMP/spend" > "$TMP/top5"

# ---------------------------------------------------------------- import (CLI path)
"$ROOT/tools/import-online-retail.sh" "$FILE" > "$TMP/summary" 2> "$TMP/progress"
check "import prints progress" "7" "$(grep -c 'import \[[1-7]/7\]' "$TMP/progress")"
check "summary: every line read" "$(($(wc -l < "$FILE") - 1))" "$(awk -F'|' '$1 ~ /read/ {gsub(/ /, "", $3); print $3}' "$TMP/summary")"

RANGE="'2010-11-01', '2011-04-01'"
# invoices: distinct orders with a completed sale; customers: active in the period; products sold or refunded
check "invoices, customers, products" "$(cat "$TMP/counts")" \
  "$(Q -c "SELECT (SELECT sum(orders) FROM analytics.sales_series('month', $RANGE)) || '|' ||
               analytics.active_customers_exact($RANGE) || '|' ||
               (SELECT count(*) FROM analytics.breakdown('product', $RANGE))")"
check "invoices = distinct order numbers of sale lines" "$(cut -d'|' -f1 "$TMP/counts")" \
  "$(Q -c "SELECT count(DISTINCT order_number) FROM bi.transactions WHERE kind = 'sale'")"
check "net revenue per month (analytics.sales_series)" "$(cat "$TMP/month")" \
  "$(Q -c "SELECT label || '|' || revenue FROM analytics.sales_series('month', $RANGE) WHERE transactions > 0 ORDER BY 1")"
check "net revenue per month (api.analytics_revenue)" "$(cat "$TMP/month")" \
  "$(Q -c "SELECT i->>'label' || '|' || (i->>'revenue') FROM jsonb_array_elements(api.analytics_revenue('month', $RANGE)->'items') i
            WHERE (i->>'transactions')::int > 0 ORDER BY 1")"
check "net revenue per month (exact totals, analytics.sales_totals)" "$(cat "$TMP/month")" \
  "$(Q -c "SELECT to_char(m, 'YYYY-MM') || '|' || (SELECT revenue FROM analytics.sales_totals(m AT TIME ZONE 'Europe/London', (m + interval '1 month') AT TIME ZONE 'Europe/London'))
            FROM generate_series(timestamp '2010-12-01', '2011-02-01', '1 month') m ORDER BY 1")"
check "revenue per country (analytics.breakdown)" "$(cat "$TMP/country")" \
  "$(Q -c "SELECT key || '|' || revenue FROM analytics.breakdown('country', $RANGE) ORDER BY key COLLATE \"C\"")"
check "revenue per country (api.analytics_breakdown)" "$(cat "$TMP/country")" \
  "$(Q -c "SELECT i->>'key' || '|' || (i->>'revenue') FROM jsonb_array_elements(api.analytics_breakdown('country', $RANGE, 1000)->'items') i ORDER BY i->>'key' COLLATE \"C\"")"
check "top five customers by net spend (analytics.top_customers)" "$(cat "$TMP/top5")" \
  "$(Q -c "SELECT split_part(c.email, '@', 1) || '|' || t.revenue FROM analytics.top_customers($RANGE, 5) t
            JOIN customers c ON c.id = t.customer_id ORDER BY t.rank")"
check "top five customers by net spend (api.customers_top)" "$(cat "$TMP/top5")" \
  "$(Q -c "SELECT split_part(c.email, '@', 1) || '|' || (i->>'revenue') FROM jsonb_array_elements(api.customers_top($RANGE, 5)->'items') i
            JOIN customers c ON c.id = (i->>'customer_id')::bigint ORDER BY (i->>'rank')::int")"
check "rollups exact" "0" "$(Q -c "SELECT count(*) FROM analytics.rollup_check()")"
# the product days (summed from the hourly product rows: change import_rebuilds_cheaper) and the customers' months
check "per-product daily rollup exact" "0" "$(Q -c "SELECT count(*) FROM analytics.product_daily_check()")"
check "per-customer monthly rollups exact" "0" "$(Q -c "SELECT count(*) FROM analytics.customer_months_check()")"
# history does not move today's stock (change stock_sales): new products at 0, no inventory_history row
check "the imported history moved no stock (bulk path)" "0|0" \
  "$(Q -c "SELECT (SELECT count(*) FROM products WHERE stock_quantity <> 0) || '|' || (SELECT count(*) FROM inventory_history)")"
check "fraud state of every imported customer" "$(cut -d'|' -f2 "$TMP/counts")" \
  "$(Q -c "SELECT count(*) FROM techmart.customer_state s JOIN customers c ON c.id = s.customer_id WHERE c.email LIKE '%@online-retail.example'")"

# ---------------------------------------------------------------- idempotence
snapshot() {
  Q -c "SELECT md5(string_agg(x, ',' ORDER BY x)) FROM (
          SELECT 't' || id || kind || status || amount || customer_id || product_id || transaction_time AS x FROM transactions
          UNION ALL SELECT 'c' || id || email || country || registration_date || total_spent FROM customers
          UNION ALL SELECT 'p' || id || sku || name || price || coalesce(category_id, 0) FROM products
          UNION ALL SELECT 'r' || dim || hour || key || revenue || orders || units FROM analytics.sales_hourly_v) s"
}
before="$(snapshot)"
"$ROOT/tools/import-online-retail.sh" "$FILE" > "$TMP/summary2" 2>/dev/null
check "re-import changes nothing" "$before" "$(snapshot)"
check "re-import skips every line" "$(($(wc -l < "$FILE") - 1))" \
  "$(awk -F'|' '$2 ~ /already_imported/ {gsub(/ /, "", $3); print $3}' "$TMP/summary2")"

# ---------------------------------------------------------------- malformed files
HDR="$(head -n 1 "$FILE")"
{ echo "$HDR"
  echo '900001,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2011-03-01 08:26:00,2.55,17850.0,United Kingdom'
  echo '900002,22633,"HAND WARMER, ""UNION JACK""",6,2011-03-32 08:28:00,1.85,17850.0,United Kingdom'
  echo '900003,84879,ASSORTED COLOUR BIRD ORNAMENT,32,03/01/2011 08:34,1.69,13047.0,United Kingdom'
} > "$TMP/bad-dates.csv"
set +e
out="$("$ROOT/tools/import-online-retail.sh" "$TMP/bad-dates.csv" 2>&1)"; rc=$?
set -e
check "bad dates: refused" "1" "$([ $rc -ne 0 ] && echo 1 || echo 0)"
check "bad dates: both lines reported" "line 3: InvoiceDate
line 4: InvoiceDate" "$(echo "$out" | grep -Eo '^line [0-9]+: InvoiceDate')"
{ echo "$HDR"
  echo '900001,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2011-03-01 08:26:00,2.55,17850.0,United Kingdom'
  echo '900002,22633,"HAND WARMER, ""UNION JACK""",6,2011-03-01 08:28:00,1.85,United Kingdom'
  echo '900003,84879,ASSORTED COLOUR BIRD ORNAMENT,32,2011-03-01 08:34:00'
} > "$TMP/missing-columns.csv"
set +e
out="$("$ROOT/tools/import-online-retail.sh" "$TMP/missing-columns.csv" 2>&1)"; rc=$?
set -e
check "missing columns: refused, lines 3 and 4 reported" "1:3: 7 fields
4: 5 fields" "$([ $rc -ne 0 ] && echo 1 || echo 0):$(echo "$out" | grep -Eo '^[0-9]+: [0-9]+ fields')"
{ echo "$HDR"
  echo '900001,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2011-03-01 08:26:00,2.55,17850.0,United Kingdom'
  printf '900002,22633,CAF\xc9 AU LAIT BOWL,6,2011-03-01 08:28:00,1.85,17850.0,France\n'
} > "$TMP/latin1.csv"
set +e
out="$("$ROOT/tools/import-online-retail.sh" "$TMP/latin1.csv" 2>&1)"; rc=$?
set -e
check "wrong encoding: refused with the line number" "1:lines 3" "$([ $rc -ne 0 ] && echo 1 || echo 0):$(echo "$out" | grep -Eo 'lines [0-9]+')"
check "malformed files imported nothing" "$before" "$(snapshot)"

# the same value errors through SQL: every error with its line, nothing imported
Q -c "TRUNCATE import.online_retail_raw"
Q -c "\\copy import.online_retail_raw FROM '$TMP/bad-dates.csv' (FORMAT csv, HEADER)"
check "import.online_retail_errors() lists the lines" "3
4" "$(Q -c "SELECT line FROM import.online_retail_errors()")"

# a quoted description with commas and quotes, imported (next month on top)
{ echo "$HDR"
  echo '900101,99999Q,"HAND WARMER, ""UNION JACK"", RED",6,2011-03-01 08:28:00,1.85,17850.0,United Kingdom'
} > "$TMP/quoted.csv"
"$ROOT/tools/import-online-retail.sh" "$TMP/quoted.csv" >/dev/null 2>&1
check "quoted description with commas and quotes" 'HAND WARMER, "UNION JACK", RED' "$(Q -c "SELECT name FROM products WHERE sku = '99999Q'")"
check "a one-line import (ordinary path) moved no stock, its stock trigger enabled again" "0|0|O" \
  "$(Q -c "SELECT (SELECT count(*) FROM products WHERE stock_quantity <> 0) || '|' || (SELECT count(*) FROM inventory_history)
                  || '|' || (SELECT tgenabled::text FROM pg_trigger WHERE tgname = 'transactions_stock_ins')")"
check "next month on top: only the new line added" "$(( $(Q -c "SELECT count(*) FROM import.online_retail_line") ))" \
  "$(( $(wc -l < "$FILE") - 1 + 1 ))"
check "after every import: hourly, per-product daily and per-customer monthly rollups exact" "0|0|0" \
  "$(Q -c "SELECT (SELECT count(*) FROM analytics.rollup_check()) || '|' || (SELECT count(*) FROM analytics.product_daily_check())
                  || '|' || (SELECT count(*) FROM analytics.customer_months_check())")"

psql -X -q -d postgres -c "DROP DATABASE $DB WITH (FORCE)"
if [ $failed -eq 0 ]; then echo "ok $checks checks"; else echo "not ok: $failed of $checks checks failed"; exit 1; fi

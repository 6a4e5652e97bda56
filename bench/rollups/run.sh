#!/usr/bin/env bash
# Rollup benchmark, ratios within one run (bench/README.md, section "Rollups").
#   PGHOST=... PGPORT=... PGUSER=postgres bench/rollups/run.sh [TRANSACTIONS]
# Creates the database techmart_bench_rollups (dropped first), deploys the migrations, loads
# catalogue and customers from techmart-gen, then:
#   1. bulk insert throughput (INSERT ... SELECT from a staging table, 10,000 rows per
#      statement) with the rollup triggers (hourly, per customer and month, per product and day) on vs
#      off (fraud scoring trigger on in both; other
#      triggers off in both), alternating 3 rounds each, median;
#   2. dashboard overview and 30 days of hourly sales latency (median and p95 of 200 calls,
#      timed in the server) with TRANSACTIONS rows loaded;
#   3. 4 concurrent single-row writers into one hour: rows spread over 8 slots vs one hot row.
# Besides the wall-clock time of each load, the CPU time of the backend that ran it (utime + stime
# from /proc: the server must run on this host; "-" otherwise): on a shared machine it moves much
# less between runs than the wall clock.
# Env: GEN (techmart-gen binary), CUSTOMERS [20000], PRODUCTS [500], BATCH [10000], ROUNDS [3],
# ROLLUPS [rollup|geo|months|sales_daily] (the trigger families switched as "the rollups": transactions_<family>_*;
# e.g. ROLLUPS=rollup for the hourly sales rollups alone, as before change customer_months; ROLLUPS="rollup|geo" the
# hourly ones with the fraud map's analytics.geo_hourly, change fraud_geo_rollup),
# SQITCH_TO (deploy the migrations up to this change only: the same script measures an earlier state),
# SCORING [on] (off: the loads run with techmart.scoring = off — no fraud scoring and no alerts — so the
# upkeep of the sales rollups alone is measured against the bare insert; not the issue's ratio),
# TOGGLE [rollups] (spent: the rollup triggers stay on in both loads and the customers.total_spent
# triggers transactions_spent_* are the ones switched off/on, change customers_spent; instead of the
# latency and hot-row parts, SINGLE [2000] single-row INSERTs, one transaction each, spent triggers off/on
# alternating: backend CPU and wall time per insert).
set -Eeuo pipefail
# Transactions of a generated history or on random products: the stock upkeep (change stock_sales)
# is off, as for any load of past transactions (its own cost: bench/RESULTS.md "Sales move the stock").
export PGOPTIONS="${PGOPTIONS:-} -c techmart.track_stock=off"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
N="${1:-100000}"
GEN="${GEN:-$ROOT/build/data/generator/techmart-gen}"
[ -x "$GEN" ] || GEN="$(ls "$ROOT"/build*/data/generator/techmart-gen 2>/dev/null | head -1)"
[ -x "$GEN" ] || { echo "techmart-gen not found (build it or set GEN)"; exit 1; }
CUSTOMERS="${CUSTOMERS:-20000}"; PRODUCTS="${PRODUCTS:-500}"; BATCH="${BATCH:-10000}"
DB=techmart_bench_rollups
export PGDATABASE=$DB
P=(psql -X -q -v ON_ERROR_STOP=1)
GENARGS=(--customers "$CUSTOMERS" --products "$PRODUCTS" --transactions "$N")

psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
(cd "$ROOT/migrations" && sqitch --quiet deploy ${SQITCH_TO:+--to "$SQITCH_TO"} "db:pg:$DB" >/dev/null)
"$GEN" --stdout categories "${GENARGS[@]}" | "${P[@]}" -c "\copy categories (id, name, description) FROM STDIN (FORMAT csv, HEADER)"
"$GEN" --stdout suppliers "${GENARGS[@]}" | "${P[@]}" -c "\copy suppliers (id, name, reliability_score, country, contact_email) FROM STDIN (FORMAT csv, HEADER)"
"$GEN" --stdout products "${GENARGS[@]}" | "${P[@]}" -c "\copy products (id, sku, name, description, category_id, price, stock_quantity, low_stock_threshold, supplier_id) FROM STDIN (FORMAT csv, HEADER)"
"$GEN" --stdout customers "${GENARGS[@]}" | "${P[@]}" -c "\copy customers (id, email, name, country, city, home_lat, home_lon, registration_date) FROM STDIN (FORMAT csv, HEADER)"
"${P[@]}" <<'SQL'
CREATE UNLOGGED TABLE staging (
  id bigint, customer_id bigint, product_id bigint, quantity integer, unit_price numeric,
  transaction_time timestamptz, status text, payment_method text, platform text, order_number text,
  country text, latitude float8, longitude float8, device_id text, ip_address inet,
  payment_fingerprint text, fraud_pattern text);
SQL
"$GEN" --stdout transactions "${GENARGS[@]}" | "${P[@]}" -c "\copy staging FROM STDIN (FORMAT csv, HEADER)"
"${P[@]}" -c "CREATE INDEX ON staging (id); ANALYZE"
# only the fraud trigger and (when on) the rollup triggers: other triggers off for both runs (the rollups'
# TRUNCATE triggers stay on: each load starts from empty rollups)
OTHERS="$(psql -XtA -c "SELECT string_agg(format('ALTER TABLE transactions DISABLE TRIGGER %I;', tgname), ' ')
                          FROM pg_trigger WHERE tgrelid = 'transactions'::regclass AND NOT tgisinternal
                           AND tgname <> 'transactions_score' AND tgname !~ '^transactions_(${ROLLUPS:-rollup|geo|months|sales_daily})_'
                           AND NOT ('${TOGGLE:-rollups}' = 'spent' AND tgname LIKE 'transactions_spent_%')")"
[ -n "$OTHERS" ] && "${P[@]}" -c "$OTHERS"
# Workaround (bench database only): techmart 0.2 raises alerts whose transaction is not yet
# visible to the alerts FK during multi-row INSERT ... SELECT (reported to the fraud engine).
"${P[@]}" -c "ALTER TABLE alerts DROP CONSTRAINT IF EXISTS alerts_transaction_id_fkey"
# the analytics rollups: hourly (transactions_rollup_*), per customer and month (change customer_months) and per
# product and day (change product_sales_daily), those deployed; their TRUNCATE triggers stay on in both loads
ROLL="$(psql -XtA -c "SELECT string_agg(tgname, ' ' ORDER BY tgname) FROM pg_trigger
                       WHERE tgrelid = 'transactions'::regclass AND tgname ~ '^transactions_(${ROLLUPS:-rollup|geo|months|sales_daily})_(ins|upd|del)$'")"
# the alert counts (analytics.alerts_hourly, change overview_rollups) are rollup upkeep too
AROLL="$(psql -XtA -c "SELECT string_agg(tgname, ' ') FROM pg_trigger WHERE tgrelid = 'alerts'::regclass AND tgname LIKE 'alerts_counts_%'")"
if [ "${TOGGLE:-rollups}" = spent ]; then
  ROLL="transactions_spent_ins transactions_spent_upd transactions_spent_del"; AROLL=""
fi
rollups() {
  for t in $ROLL; do "${P[@]}" -c "ALTER TABLE transactions $1 TRIGGER $t"; done
  for t in $AROLL; do "${P[@]}" -c "ALTER TABLE alerts $1 TRIGGER $t"; done
}

load() {  # load all staged rows in BATCH-row statements, print "seconds cpu_seconds"
  "${P[@]}" -c "TRUNCATE transactions CASCADE" 2>/dev/null
  "${P[@]}" -c "TRUNCATE analytics.sales_hourly, analytics.order_registry"
  "${P[@]}" -c "DO \$\$ BEGIN IF to_regclass('analytics.alerts_hourly') IS NOT NULL THEN TRUNCATE analytics.alerts_hourly; END IF; END \$\$"
  "${P[@]}" -c "DO \$\$ BEGIN IF to_regclass('techmart.customer_state') IS NOT NULL THEN TRUNCATE techmart.customer_state; END IF; END \$\$" 2>/dev/null || true
  "${P[@]}" -c "CHECKPOINT"
  local t0 t1 cpu
  t0=$(date +%s.%N)
  cpu="$("${P[@]}" -tA <<SQL
CREATE FUNCTION pg_temp.cpu_ms() RETURNS bigint LANGUAGE plpgsql AS \$\$
BEGIN  -- utime + stime of this backend in ms (clock ticks of 10 ms), NULL when /proc is not readable
  -- the fields after "pid (comm) ": state is 1, utime 12, stime 13
  RETURN (SELECT (split_part(s, ' ', 12)::bigint + split_part(s, ' ', 13)::bigint) * 10
            FROM (SELECT split_part(pg_read_file('/proc/' || pg_backend_pid() || '/stat'), ') ', 2) s) x);
EXCEPTION WHEN OTHERS THEN RETURN NULL;
END \$\$;
SET techmart.scoring = ${SCORING:-on};
SELECT coalesce(pg_temp.cpu_ms(), -1) AS c0 \\gset
DO \$\$
DECLARE lo bigint; hi bigint; b bigint := $BATCH;
BEGIN
  SELECT min(id), max(id) INTO lo, hi FROM staging;
  WHILE lo <= hi LOOP
    INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, transaction_time, status,
                              payment_method, platform, order_number, country, latitude, longitude,
                              device_id, ip_address, payment_fingerprint)
    SELECT id, customer_id, product_id, quantity, unit_price, transaction_time, status, payment_method, platform,
           order_number, country, latitude, longitude, device_id, ip_address, payment_fingerprint
      FROM staging WHERE id >= lo AND id < lo + b ORDER BY transaction_time, id;
    lo := lo + b;
  END LOOP;
END \$\$;
SELECT CASE WHEN :c0 < 0 THEN '-' ELSE round((pg_temp.cpu_ms() - :c0) / 1000.0, 2)::text END;
SQL
)"
  t1=$(date +%s.%N)
  echo "$(echo "$t1 - $t0" | bc) $cpu"
}
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "== rollups bench: $N transactions, $CUSTOMERS customers, $PRODUCTS products, batches of $BATCH, scoring ${SCORING:-on} =="
on=(); off=(); con=(); coff=()
for r in $(seq "${ROUNDS:-3}"); do
  rollups DISABLE; read -r w c <<<"$(load)"; off+=("$w"); coff+=("$c")
  rollups ENABLE;  read -r w c <<<"$(load)"; on+=("$w"); con+=("$c")
done
t_off=$(printf '%s\n' "${off[@]}" | median); t_on=$(printf '%s\n' "${on[@]}" | median)
echo "bulk insert, fraud trigger only : ${t_off}s  ($(echo "$N / $t_off" | bc) rows/s)  runs: ${off[*]}"
echo "bulk insert, + rollup triggers  : ${t_on}s  ($(echo "$N / $t_on" | bc) rows/s)  runs: ${on[*]}"
echo "throughput ratio rollups on/off : $(echo "scale=3; $t_off / $t_on" | bc)  (target >= 0.80)"
if [ "${coff[0]}" != "-" ]; then
  c_off=$(printf '%s\n' "${coff[@]}" | median); c_on=$(printf '%s\n' "${con[@]}" | median)
  echo "backend CPU, fraud trigger only : ${c_off}s  runs: ${coff[*]}"
  echo "backend CPU, + rollup triggers  : ${c_on}s  runs: ${con[*]}"
  echo "CPU ratio rollups on/off        : $(echo "scale=3; $c_off / $c_on" | bc)  (upkeep $(echo "$c_on - $c_off" | bc) s CPU per $N lines)"
fi
"${P[@]}" -c "ANALYZE"
# (rollup_check covers analytics.geo_hourly, change fraud_geo_rollup: when ROLLUPS leaves out geo its triggers are
# off in both loads and the map's rows count as differences)
echo "rollup_check differences        : $(psql -XtA -c 'SELECT count(*) FROM analytics.rollup_check()')"
# the per-customer monthly and per-product daily rollups, when their family was switched (on in the last load)
case "|${ROLLUPS:-rollup|geo|months|sales_daily}|" in *"|months|"*)
  echo "customer_months_check differences: $(psql -XtA -c 'SELECT count(*) FROM analytics.customer_months_check()' 2>/dev/null || echo -)";; esac
case "|${ROLLUPS:-rollup|geo|months|sales_daily}|" in *"|sales_daily|"*)
  echo "product_daily_check differences  : $(psql -XtA -c 'SELECT count(*) FROM analytics.product_daily_check()' 2>/dev/null || echo -)";; esac
if [ "${TOGGLE:-rollups}" = spent ]; then
  echo "(TOGGLE=spent: 'rollup triggers' above = the rollup triggers on in both, + the total_spent triggers in the second)"
  echo "customers_spent_check differences: $(psql -XtA -c 'SELECT count(*) FROM analytics.customers_spent_check()')"
  # single-row INSERT statements, each its own transaction (a procedure committing after each), random
  # customers and products; backend CPU and wall time of SINGLE [2000] statements, off/on alternating
  single() {
    "${P[@]}" -tA <<SQL
CREATE FUNCTION pg_temp.cpu_ms() RETURNS bigint LANGUAGE plpgsql AS \$\$
BEGIN
  RETURN (SELECT (split_part(s, ' ', 12)::bigint + split_part(s, ' ', 13)::bigint) * 10
            FROM (SELECT split_part(pg_read_file('/proc/' || pg_backend_pid() || '/stat'), ') ', 2) s) x);
EXCEPTION WHEN OTHERS THEN RETURN NULL;
END \$\$;
CREATE PROCEDURE pg_temp.single(n int) LANGUAGE plpgsql AS \$\$
BEGIN
  FOR i IN 1 .. n LOOP
    INSERT INTO transactions (customer_id, product_id, quantity, unit_price, transaction_time, status, payment_method, platform, country)
    VALUES (1 + floor(random() * $CUSTOMERS)::int, 1 + floor(random() * $PRODUCTS)::int, 1, 9.99,
            '2020-01-01 12:00Z'::timestamptz + i * interval '1 second', 'completed', 'paypal', 'web', 'GB');
    COMMIT;
  END LOOP;
END \$\$;
SET techmart.scoring = ${SCORING:-on};
SELECT coalesce(pg_temp.cpu_ms(), -1) AS c0, extract(epoch FROM clock_timestamp()) AS w0 \\gset
CALL pg_temp.single(${SINGLE:-2000});
SELECT round((pg_temp.cpu_ms() - :c0)::numeric / ${SINGLE:-2000} * 1000, 1) || ' ' || round(((extract(epoch FROM clock_timestamp()) - :w0) / ${SINGLE:-2000} * 1e6)::numeric, 1);
SQL
  }
  "${P[@]}" -o /dev/null -c "SELECT setval(pg_get_serial_sequence('transactions', 'id'), (SELECT max(id) + 1 FROM transactions), false)"
  s_on=(); s_off=(); w_on=(); w_off=()
  for r in $(seq "${ROUNDS:-3}"); do
    rollups DISABLE; read -r c w <<<"$(single)"; s_off+=("$c"); w_off+=("$w")
    rollups ENABLE;  read -r c w <<<"$(single)"; s_on+=("$c"); w_on+=("$w")
  done
  m_off=$(printf '%s\n' "${s_off[@]}" | median); m_on=$(printf '%s\n' "${s_on[@]}" | median)
  v_off=$(printf '%s\n' "${w_off[@]}" | median); v_on=$(printf '%s\n' "${w_on[@]}" | median)
  echo "single-row INSERTs (${SINGLE:-2000} per run, one transaction each), spent triggers off: CPU ${m_off} us, wall ${v_off} us per insert  CPU runs: ${s_off[*]}"
  echo "single-row INSERTs (${SINGLE:-2000} per run, one transaction each), spent triggers on : CPU ${m_on} us, wall ${v_on} us per insert  CPU runs: ${s_on[*]}"
  echo "single-row CPU ratio off/on: $(echo "scale=3; $m_off / $m_on" | bc) (+$(echo "$m_on - $m_off" | bc) us CPU per insert); wall ratio $(echo "scale=3; $v_off / $v_on" | bc)"
  "${P[@]}" -o /dev/null -c "SELECT analytics.customers_spent_rebuild()"
  echo "customers_spent_check differences after the single-row runs (rebuilt after the off runs): $(psql -XtA -c 'SELECT count(*) FROM analytics.customers_spent_check()')"
  exit 0
fi

# latency, timed in the server (median and p95 of 200 calls after 20 warm-up calls)
AS_OF="$(psql -XtA -c "SELECT max(transaction_time) - interval '8 hours' FROM transactions")"
lat() { psql -XtAq -F' ' <<SQL
CREATE FUNCTION pg_temp.lat(q text, n int) RETURNS TABLE (median_ms numeric, p95_ms numeric) LANGUAGE plpgsql AS \$\$
DECLARE t timestamptz; ms float8[] := '{}';
BEGIN
  FOR i IN 1 .. 20 LOOP EXECUTE q; END LOOP;
  FOR i IN 1 .. n LOOP
    t := clock_timestamp(); EXECUTE q;
    ms := ms || extract(epoch FROM clock_timestamp() - t) * 1000;
  END LOOP;
  RETURN QUERY SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY x)::numeric, 3),
                      round(percentile_cont(0.95) WITHIN GROUP (ORDER BY x)::numeric, 3) FROM unnest(ms) x;
END \$\$;
SELECT * FROM pg_temp.lat(\$q\$$1\$q\$, 200);
SQL
}
echo "dashboard_overview (median p95 ms): $(lat "SELECT api.dashboard_overview('$AS_OF')")   as_of $AS_OF"
echo "hourly_sales 30 days (median p95 ms): $(lat "SELECT api.hourly_sales(timestamptz '$AS_OF' - interval '30 days', '$AS_OF')")"

# hot row: 4 writers, single-row inserts into one hour; 8 slots vs one slot
cat > /tmp/bench-rollups-one.$$.sql <<'SQL'
\set c random(1, 1000)
\set p random(1, 100)
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, transaction_time, status, payment_method, platform, country)
VALUES (:c, :p, 1, 9.99, '2020-01-01 12:00Z', 'completed', 'paypal', 'web', 'GB');
SQL
"${P[@]}" -o /dev/null -c "SELECT setval(pg_get_serial_sequence('transactions', 'id'), (SELECT max(id) + 1 FROM transactions), false)"
tps() { pgbench -n -c 4 -j 4 -T 10 -f /tmp/bench-rollups-one.$$.sql 2>&1 | awk '/^tps/ {print $3}'; }
t8=$(tps)
"${P[@]}" -c "CREATE OR REPLACE FUNCTION analytics.rollup_slot() RETURNS smallint LANGUAGE sql STABLE PARALLEL SAFE AS \$\$ SELECT 0::smallint \$\$"
t1=$(tps)
"${P[@]}" -c "CREATE OR REPLACE FUNCTION analytics.rollup_slot() RETURNS smallint LANGUAGE sql STABLE PARALLEL SAFE AS \$\$ SELECT (pg_backend_pid() % 8)::smallint \$\$"
rm -f /tmp/bench-rollups-one.$$.sql
echo "4 writers, one hour, single-row inserts: 8 slots ${t8} tps, one hot row ${t1} tps, ratio $(echo "scale=2; $t8 / $t1" | bc)"
echo "rollup_check differences after the concurrent run: $(psql -XtA -c 'SELECT count(*) FROM analytics.rollup_check()')"

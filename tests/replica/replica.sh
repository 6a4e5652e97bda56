#!/usr/bin/env bash
# Read replica (suite `replica` of ./techmart test): a primary and a streaming hot standby made
# with pg_basebackup -R on loopback, both throwaway. Checks:
#   * the standby is in recovery, streams from the primary, and refuses writes (25006);
#   * every view of schema bi and the analytics functions run on the standby and return exactly
#     what they return on the primary (md5 of the result as JSON), after a write on the primary
#     has been replayed;
#   * techmart-api pointed at the standby serves the read endpoints, and a write through it is
#     503 problem+json (25006);
#   * techmart-api with TECHMART_DATABASE_URL = primary and TECHMART_READ_DATABASE_URL = standby
#     (docs/scaling.md): the read endpoints run on the standby (its pg_stat_activity shows the
#     read pool, application_name techmart-api-read), POST /transactions lands on the primary;
#     the standby stopped: the read endpoints still answer 200 (from the primary; log line,
#     techmart_db_read_database_up 0, techmart_db_read_fallback_total); started again: reads go
#     back to it.
# Environment: TECHMART_API_BIN (optional: the API part is skipped without it).
set -Eeuo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PG_BIN="$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)"
[ -x "$PG_BIN/initdb" ] || PG_BIN=/usr/lib/postgresql/15/bin
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
fails=0 n=0
ok()   { n=$((n + 1)); echo "ok $n - $*"; }
fail() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $*"; }
free_port() { local p; for _ in $(seq 1 100); do p=$((20000 + RANDOM % 30000)); (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }; done; exit 1; }

T="$(mktemp -d /tmp/techmart-replica.XXXXXX)"; chmod 755 "$T"
[ "$(id -u)" -eq 0 ] && chown postgres: "$T"
P1="$(free_port)"; P2="$(free_port)"
API_PID=""
cleanup() {
  [ -n "$API_PID" ] && kill "$API_PID" 2>/dev/null || true
  for d in standby primary; do [ -f "$T/$d/PG_VERSION" ] && as_pg "$PG_BIN/pg_ctl" -D "$T/$d" -m immediate -w stop >/dev/null 2>&1 || true; done
  rm -rf "$T"
}
trap cleanup EXIT

conf() {  # conf DIR PORT
  as_pg tee -a "$1/postgresql.conf" >/dev/null <<CONF
port = $2
listen_addresses = '127.0.0.1'
unix_socket_directories = '$T'
timezone = 'UTC'
wal_level = replica
max_wal_senders = 5
hot_standby = on
hot_standby_feedback = on
log_min_messages = warning
shared_preload_libraries = 'techmart'
CONF
}
as_pg "$PG_BIN/initdb" -D "$T/primary" -U postgres -E UTF8 --locale=C.UTF-8 -A trust >"$T/initdb.log" 2>&1
conf "$T/primary" "$P1"
as_pg "$PG_BIN/pg_ctl" -D "$T/primary" -l "$T/primary.log" -w start >/dev/null
q1() { psql -X -q -tA -v ON_ERROR_STOP=1 -h "$T" -p "$P1" -U postgres -d techmart "$@"; }
q2() { psql -X -q -tA -v ON_ERROR_STOP=1 -h "$T" -p "$P2" -U postgres -d techmart "$@"; }
psql -X -q -h "$T" -p "$P1" -U postgres -d postgres -c "CREATE DATABASE techmart" >/dev/null
(cd "$ROOT/migrations" && PGHOST="$T" PGPORT="$P1" PGUSER=postgres sqitch --quiet deploy db:pg:techmart) >"$T/sqitch.log" 2>&1 \
  || { cat "$T/sqitch.log"; exit 1; }
(cd "$ROOT/data" && PGHOST="$T" PGPORT="$P1" PGUSER=postgres PGDATABASE=techmart psql -X -q -1 -v ON_ERROR_STOP=1 -f load.sql) >/dev/null
ok "primary on port $P1: migrations and seed data"

t0=$(date +%s%N)
as_pg "$PG_BIN/pg_basebackup" -h "$T" -p "$P1" -U postgres -D "$T/standby" -R -X stream -c fast >"$T/basebackup.log" 2>&1 \
  || { cat "$T/basebackup.log"; exit 1; }
conf "$T/standby" "$P2"
as_pg "$PG_BIN/pg_ctl" -D "$T/standby" -l "$T/standby.log" -w start >/dev/null
echo "# base backup + standby start: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
[ "$(q2 -c 'SELECT pg_is_in_recovery()')" = t ] && ok "standby on port $P2 is in recovery (hot standby)" || fail "standby in recovery"
[ "$(q1 -c "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")" = 1 ] && ok "primary streams to the standby" || fail "streaming"

# a write on the primary (scored by the trigger, rolled up), replayed on the standby
q1 -c "INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, device_id)
       SELECT c, (SELECT min(id) FROM products), 2, 19.99, 'paypal', 'replica-marker' FROM generate_series(1, 20) c" >/dev/null
lsn="$(q1 -c 'SELECT pg_current_wal_lsn()')"
t0=$(date +%s%N)
for _ in $(seq 1 200); do
  [ "$(q2 -c "SELECT pg_last_wal_replay_lsn() >= '$lsn'::pg_lsn")" = t ] && break; sleep 0.05
done
lag_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$(q2 -c "SELECT count(*) FROM transactions WHERE device_id = 'replica-marker' AND fraud_score IS NOT NULL")" = 20 ] \
  && ok "a write on the primary is on the standby, scored ($lag_ms ms)" || fail "replayed write"

if out="$(q2 -c "INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method) VALUES (1, 1, 1, 1, 'paypal')" 2>&1)"; then
  fail "the standby refuses writes"
else
  grep -q "read-only transaction" <<<"$out" && ok "the standby refuses writes (read-only transaction)" || fail "write refused for the wrong reason: $out"
fi

# the same answers from both: every bi view and the read-only analytics functions
digest() { echo "SELECT md5(coalesce(jsonb_agg(to_jsonb(r) ORDER BY to_jsonb(r)::text)::text, '')) FROM ($1) r"; }
views="$(q1 -c "SELECT format('%I.%I', schemaname, viewname) FROM pg_views WHERE schemaname = 'bi' ORDER BY 1")"
nv=0
for v in $views; do
  a="$(q1 -c "$(digest "SELECT * FROM $v")" 2>&1)"; b="$(q2 -c "$(digest "SELECT * FROM $v")" 2>&1)"
  if [ "$a" != "$b" ] && [ "$(q1 -c "$(digest "SELECT * FROM $v")" 2>&1)" != "$a" ]; then
    # depends on now() to the microsecond (e.g. customer_lifetime_value(now())): compare the rows' keys
    a="$(q1 -c "$(digest "SELECT count(*) FROM $v")" 2>&1)"; b="$(q2 -c "$(digest "SELECT count(*) FROM $v")" 2>&1)"
    echo "# $v depends on now(): row counts compared"
  fi
  if [ "$a" = "$b" ] && [[ "$a" =~ ^[0-9a-f]{32}$ ]]; then nv=$((nv + 1)); else fail "bi view $v on the standby: $b (primary $a)"; fi
done
[ "$nv" -gt 0 ] && [ "$nv" = "$(wc -w <<<"$views")" ] && ok "all $nv bi views run on the standby with the primary's results"
# the start of today taken once from the primary, so primary and standby answer for the same range
# even when midnight passes between the two queries
D="'$(q1 -c "SELECT date_trunc('day', now())")'::timestamptz"
calls=(
  "analytics.sales_totals($D - interval '30 days', $D)"
  "analytics.sales_series('day', $D - interval '30 days', $D)"
  "analytics.active_customers($D - interval '30 days', $D)"
  "analytics.compare_periods($D - interval '60 days', $D - interval '30 days', $D - interval '30 days', $D)"
  "analytics.breakdown('category', $D - interval '30 days', $D)"
  "analytics.hour_of_day_pattern($D - interval '30 days', $D)"
  "analytics.day_of_week_pattern($D - interval '30 days', $D)"
  "analytics.top_products($D - interval '30 days', $D)"
  "analytics.top_customers($D - interval '30 days', $D)"
  "analytics.customer_behavior($D - interval '30 days', $D)"
  "analytics.low_stock($D)"
  "analytics.rfm($D)"
  "analytics.customer_segments($D)"
  "analytics.customer_lifetime_value($D)"
  "analytics.rollup_check()"
)
nf=0 skipped=0
for c in "${calls[@]}"; do
  fn="${c%%(*}"
  if [ "$(q1 -c "SELECT count(*) FROM pg_proc WHERE oid::regproc::text = '$fn' OR format('%s.%s', pronamespace::regnamespace, proname) = '$fn'")" = 0 ]; then
    skipped=$((skipped + 1)); echo "# $fn: not defined, skipped"; continue
  fi
  a="$(q1 -c "$(digest "SELECT * FROM $c")" 2>&1)"; b="$(q2 -c "$(digest "SELECT * FROM $c")" 2>&1)"
  if [ "$a" = "$b" ] && [[ "$a" =~ ^[0-9a-f]{32}$ ]]; then nf=$((nf + 1)); else fail "$c on the standby: $b (primary: $a)"; fi
done
[ "$nf" -gt 0 ] && ok "$nf analytics functions run on the standby with the primary's results ($skipped not defined)"
[ "$(q2 -c "SELECT count(*) FROM analytics.rollup_check()")" = 0 ] && ok "rollups on the standby equal recomputation" || fail "rollup_check on standby"

# the API on the standby: reads work, a write is refused without a 2xx
if [ -n "${TECHMART_API_BIN:-}" ] && [ -x "$TECHMART_API_BIN" ]; then
  secret="replica-test-$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
  port="$(free_port)"
  TECHMART_DATABASE_URL="host=$T port=$P2 dbname=techmart user=techmart_api" TECHMART_API_ADDRESS=127.0.0.1 \
  TECHMART_API_PORT="$port" TECHMART_JWT_SECRET="$secret" TECHMART_ENV=production TECHMART_RATE_LIMIT_RPS=0 \
    "$TECHMART_API_BIN" 2>"$T/api.log" & API_PID=$!
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 0.1; done
  tok() { TECHMART_JWT_SECRET="$secret" TECHMART_ENV=production "$TECHMART_API_BIN" token --role "$1" --user-id 1 --email r@example.com 2>/dev/null; }
  V="$(tok viewer)"; A="$(tok admin)"
  # (an admin: the marker is a device id, which a viewer's answer leaves out since change api_viewer_privacy)
  code="$(curl -s -o "$T/recent.json" -w '%{http_code}' -H "Authorization: Bearer $A" "http://127.0.0.1:$port/api/v1/transactions/recent?limit=50")"
  if [ "$code" = 200 ] && grep -q "replica-marker" "$T/recent.json"; then ok "API on the standby: GET /transactions/recent 200 with the replayed rows"
  else fail "API read on standby: $code $(head -c 200 "$T/recent.json")"; fi
  code="$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $V" "http://127.0.0.1:$port/api/v1/transactions?limit=5&status=completed")"
  [ "$code" = 200 ] && ok "API on the standby: GET /transactions (filters) 200" || fail "GET /transactions on standby: $code"
  code="$(curl -s -o "$T/post.json" -w '%{http_code}' -H "Authorization: Bearer $A" -H 'Content-Type: application/json' \
          -d '{"customer_id":1,"product_id":1,"quantity":1,"payment_method":"paypal"}' "http://127.0.0.1:$port/api/v1/transactions")"
  if [ "$code" = 503 ] && grep -q "read-only" "$T/post.json"; then ok "API on the standby: POST refused with 503 problem+json (25006, read-only), no row written"
  else fail "POST on standby: $code $(head -c 200 "$T/post.json")"; fi
  kill "$API_PID"; wait "$API_PID" 2>/dev/null || true; API_PID=""

  # TECHMART_DATABASE_URL = primary, TECHMART_READ_DATABASE_URL = standby: reads on the standby
  # (its pg_stat_activity shows the read pool running them), writes on the primary
  port="$(free_port)"
  TECHMART_DATABASE_URL="host=$T port=$P1 dbname=techmart user=techmart_api" \
  TECHMART_READ_DATABASE_URL="host=$T port=$P2 dbname=techmart user=techmart_api" TECHMART_READ_RETRY_MS=300 TECHMART_API_ADDRESS=127.0.0.1 \
  TECHMART_API_PORT="$port" TECHMART_JWT_SECRET="$secret" TECHMART_ENV=production TECHMART_RATE_LIMIT_RPS=0 \
    "$TECHMART_API_BIN" 2>"$T/api2.log" & API_PID=$!
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 0.1; done
  bad=""
  for p in "transactions/recent?limit=5" "transactions?limit=5&status=completed" "dashboard/overview" \
           "analytics/forecast/revenue" "alerts?limit=5" "inventory/low-stock" "transactions/export?status=completed"; do
    code="$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $V" "http://127.0.0.1:$port/api/v1/$p")"
    [ "$code" = 200 ] || bad="$bad $p=$code"
  done
  [ -z "$bad" ] && ok "API with a read database: 7 read endpoints 200 (lists, dashboard, forecast, export)" || fail "reads with a read database:$bad"
  on_standby="$(q2 -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'techmart-api-read' AND query ~ 'api\.(recent_transactions|list_transactions|dashboard_overview|forecast_revenue|list_alerts|low_stock)'")"
  on_primary="$(q1 -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'techmart-api-read'")"
  [ "$on_standby" -ge 1 ] && [ "$on_primary" = 0 ] \
    && ok "the reads ran on the standby ($on_standby read-pool sessions there with the API's queries, none on the primary)" \
    || fail "read pool: $on_standby sessions on the standby, $on_primary on the primary"
  code="$(curl -s -o "$T/post2.json" -w '%{http_code}' -H "Authorization: Bearer $A" -H 'Content-Type: application/json' \
          -d '{"customer_id":1,"product_id":1,"quantity":1,"unit_price":3,"payment_method":"paypal","device_id":"replica-api-write"}' "http://127.0.0.1:$port/api/v1/transactions")"
  lsn="$(q1 -c 'SELECT pg_current_wal_lsn()')"
  for _ in $(seq 1 200); do [ "$(q2 -c "SELECT pg_last_wal_replay_lsn() >= '$lsn'::pg_lsn")" = t ] && break; sleep 0.05; done
  if [ "$code" = 201 ] && [ "$(q1 -c "SELECT count(*) FROM transactions WHERE device_id = 'replica-api-write'")" = 1 ] \
     && [ "$(q2 -c "SELECT count(*) FROM transactions WHERE device_id = 'replica-api-write'")" = 1 ]; then
    ok "API with a read database: POST /transactions 201 on the primary, replayed to the standby"
  else fail "write with a read database: $code $(head -c 200 "$T/post2.json")"; fi

  # the standby goes away: the reads fall back to the primary (one log line, /metrics), and go
  # back to the standby once it answers again (probed every TECHMART_READ_RETRY_MS = 300)
  metric() { curl -s "http://127.0.0.1:$port/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
  reads() {  # the 7 read endpoints; prints the failures
    local p code b=""
    for p in "transactions/recent?limit=5" "transactions?limit=5&status=completed" "dashboard/overview" \
             "analytics/forecast/revenue" "alerts?limit=5" "inventory/low-stock" "transactions/export?status=completed"; do
      code="$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $V" "http://127.0.0.1:$port/api/v1/$p")"
      [ "$code" = 200 ] || b="$b $p=$code"
    done
    echo "$b"
  }
  as_pg "$PG_BIN/pg_ctl" -D "$T/standby" -m fast -w stop >/dev/null
  bad="$(reads)"; bad2="$(reads)"
  [ -z "$bad$bad2" ] && ok "standby stopped: the 7 read endpoints still answer 200, twice (from the primary)" \
    || fail "reads with the standby stopped:$bad |$bad2"
  fb="$(metric techmart_db_read_fallback_total)"
  if [ "$(metric techmart_db_read_database_up)" = 0 ] && [ "${fb:-0}" -ge 14 ] \
     && [ "$(grep -c '"read database unavailable; reads fall back to the primary"' "$T/api2.log")" = 1 ]; then
    ok "fallback visible: techmart_db_read_database_up 0, techmart_db_read_fallback_total $fb, one log line"
  else fail "fallback metrics/log: up=$(metric techmart_db_read_database_up) fallbacks=$fb log=$(grep -c 'fall back' "$T/api2.log")"; fi
  as_pg "$PG_BIN/pg_ctl" -D "$T/standby" -l "$T/standby.log" -w start >/dev/null
  t0=$(date +%s%N)
  for _ in $(seq 1 100); do [ "$(metric techmart_db_read_database_up)" = 1 ] && break; sleep 0.1; done
  back_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  bad="$(reads)"
  fb2="$(metric techmart_db_read_fallback_total)"
  on_standby="$(q2 -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'techmart-api-read' AND query ~ 'api\.'")"
  if [ "$(metric techmart_db_read_database_up)" = 1 ] && [ -z "$bad" ] && [ "$fb2" = "$fb" ] && [ "$on_standby" -ge 1 ] \
     && grep -q '"read database reachable again; reads go back to it"' "$T/api2.log"; then
    ok "standby started again: reads back on it within $back_ms ms (200, no more fallbacks, read-pool sessions there)"
  else fail "back to the standby: up=$(metric techmart_db_read_database_up) bad=$bad fallbacks $fb -> $fb2 sessions=$on_standby"; fi
  kill "$API_PID"; wait "$API_PID" 2>/dev/null || true; API_PID=""
else
  echo "# TECHMART_API_BIN not set: API part skipped"
fi
echo "checks: $((n - fails))/$n passed (replay lag of a 20-row insert: $lag_ms ms)"
[ $fails -eq 0 ]

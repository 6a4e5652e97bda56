#!/usr/bin/env bash
# REST API vs the database: wrk against techmart-api and pgbench calling the same SQL functions
# (same role techmart_api, same number of connections, same duration) in one run.
#
#   PGHOST=/path/to/socket PGPORT=5432 PGUSER=postgres bench/api/run.sh
#
# Environment: DURATION (s, 20), CONNECTIONS (64), WRK_THREADS (2), API_THREADS (8), API_POOL
# (API_THREADS), API_BIN (build/api/techmart-api). Uses a running cluster (PG* env, a superuser);
# creates/drops the database techmart_bench_api (migrations + seed data). Keep-alive throughout.
# Prints a markdown table: requests/s of both, the ratio API/pgbench, p99 latency (wrk --latency;
# pgbench: per-transaction log) and the service's peak RSS (VmHWM).
set -Eeuo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DURATION="${DURATION:-20}"
CONNECTIONS="${CONNECTIONS:-64}"
WRK_THREADS="${WRK_THREADS:-2}"
API_THREADS="${API_THREADS:-8}"
API_POOL="${API_POOL:-$API_THREADS}"
API_BIN="${API_BIN:-$ROOT/build/api/techmart-api}"
DB=techmart_bench_api
: "${PGHOST:?set PGHOST/PGPORT/PGUSER for a running cluster}"
for t in wrk pgbench sqitch; do command -v "$t" >/dev/null || { echo "$t is required" >&2; exit 1; }; done
[ -x "$API_BIN" ] || { echo "build first: $API_BIN" >&2; exit 1; }

WORK="$(mktemp -d /tmp/techmart-bench-api.XXXXXX)"
chmod 755 "$WORK"
API_PID=""
cleanup() {
  [ -n "$API_PID" ] && kill -INT "$API_PID" 2>/dev/null && wait "$API_PID" 2>/dev/null || true
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "setting up $DB (migrations, seed data)" >&2
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
(cd "$ROOT/migrations" && sqitch --quiet deploy "db:pg:$DB") >/dev/null
(cd "$ROOT/data" && psql -X -q -1 -v ON_ERROR_STOP=1 -d "$DB" -f load.sql) >/dev/null
NC="$(psql -X -tA -d "$DB" -c "SELECT max(id) FROM customers")"
NP="$(psql -X -tA -d "$DB" -c "SELECT max(id) FROM products")"
# sales move the stock (change stock_sales): enough of every product that the POST runs book sales, not 409s
psql -X -q -d "$DB" -c "UPDATE products SET stock_quantity = stock_quantity + 100000000" >/dev/null
psql -X -q -d "$DB" -c "VACUUM ANALYZE" >/dev/null

SECRET="$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')"
export TECHMART_JWT_SECRET="$SECRET" TECHMART_ENV=production TECHMART_RATE_LIMIT_RPS=0 TECHMART_API_PORT=0 \
       TECHMART_API_ADDRESS=127.0.0.1 TECHMART_API_THREADS="$API_THREADS" TECHMART_DB_POOL_SIZE="$API_POOL" \
       TECHMART_SSE_METRICS_DEBOUNCE_MS=0 \
       TECHMART_DATABASE_URL="host=$PGHOST port=${PGPORT:-5432} dbname=$DB user=techmart_api"
TOKEN="$("$API_BIN" token --role admin --user-id 1 2>/dev/null)"
"$API_BIN" 2>"$WORK/api.log" >/dev/null &
API_PID=$!
for _ in $(seq 1 100); do grep -q '"msg":"listening"' "$WORK/api.log" && break; sleep 0.1; done
PORT="$(grep -o '"msg":"listening".*' "$WORK/api.log" | grep -o '"port":[0-9]*' | head -1 | cut -d: -f2)"
[ -n "$PORT" ] || { cat "$WORK/api.log" >&2; exit 1; }
# the access log (one JSON line per request) goes to a file that is emptied between runs
BASE="http://127.0.0.1:$PORT"

cat >"$WORK/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local nc, np = $NC, $NP
request = function()
  local body = string.format('{"customer_id":%d,"product_id":%d,"quantity":1,"payment_method":"credit_card","country":"GB"}',
                             math.random(1, nc), math.random(1, np))
  return wrk.format(nil, nil, nil, body)
end
LUA
printf 'SELECT api.dashboard_overview();\n' >"$WORK/overview.sql"
printf 'SELECT api.recent_transactions(20, '\''admin'\'');\n' >"$WORK/recent.sql"
cat >"$WORK/post.sql" <<'SQL'
\set c random(1, :nc)
\set p random(1, :np)
SELECT api.create_transaction(('{"customer_id":' || :c || ',"product_id":' || :p || ',"quantity":1,"payment_method":"credit_card","country":"GB"}')::jsonb);
SQL

run_wrk() {  # run_wrk PATH [lua] -> "rps p99_ms"
  local path="$1" lua="${2:-}" out
  : >"$WORK/api.log"
  out="$(wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -H "Connection: keep-alive" \
             -H "Authorization: Bearer $TOKEN" ${lua:+-s "$lua"} "$BASE$path")"
  echo "$out" >>"$WORK/wrk.out"
  local rps p99 non2xx
  rps="$(echo "$out" | awk '/Requests\/sec/ {print $2}')"
  p99="$(echo "$out" | awk '$1 == "99%" {print $2}')"
  non2xx="$(echo "$out" | awk '/Non-2xx/ {print $NF}')"
  [ -z "$non2xx" ] || echo "warning: $path had $non2xx non-2xx responses" >&2
  # wrk prints 1.23ms / 456.00us / 1.2s
  p99="$(echo "$p99" | awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; printf "%.2f", v}')"
  echo "$rps $p99"
}

run_pgbench() {  # run_pgbench SCRIPT -> "tps p99_ms"
  local script="$1" out
  rm -f "$WORK"/pgbench_log.*
  out="$(cd "$WORK" && pgbench -n -M prepared -c "$CONNECTIONS" -j "$WRK_THREADS" -T "$DURATION" -D nc="$NC" -D np="$NP" \
             -l --log-prefix=pgbench_log -U techmart_api -f "$script" "$DB" 2>&1)"
  echo "$out" >>"$WORK/pgbench.out"
  local tps p99
  tps="$(echo "$out" | awk '/^tps/ {print $3; exit}')"
  # per-transaction log: 3rd field is the latency in microseconds
  p99="$(cat "$WORK"/pgbench_log.* | awk '{print $3}' | sort -n | awk '{a[NR]=$1} END {i=int(NR*0.99); if (i<1) i=1; printf "%.2f", a[i]/1000}')"
  echo "$tps $p99"
}

echo "| endpoint | API req/s | pgbench tps | API/pgbench | API p99 ms | pgbench p99 ms |"
echo "|---|---:|---:|---:|---:|---:|"
for case in "GET /api/v1/dashboard/overview|/api/v1/dashboard/overview||overview.sql" \
            "GET /api/v1/transactions/recent|/api/v1/transactions/recent||recent.sql" \
            "POST /api/v1/transactions|/api/v1/transactions|$WORK/post.lua|post.sql"; do
  IFS='|' read -r name path lua script <<<"$case"
  read -r prps pp99 <<<"$(run_pgbench "$WORK/$script")"
  read -r arps ap99 <<<"$(run_wrk "$path" "$lua")"
  ratio="$(awk -v a="$arps" -v b="$prps" 'BEGIN {printf "%.2f", a / b}')"
  printf '| %s | %.0f | %.0f | %s | %s | %s |\n' "$name" "$arps" "$prps" "$ratio" "$ap99" "$pp99"
done
rss_kb="$(awk '/VmHWM/ {print $2}' "/proc/$API_PID/status")"
echo
echo "techmart-api peak RSS (VmHWM): $((rss_kb / 1024)) MB; API threads $API_THREADS, pool $API_POOL; wrk -t$WRK_THREADS -c$CONNECTIONS -d${DURATION}s (keep-alive); pgbench -M prepared -c$CONNECTIONS -j$WRK_THREADS -T$DURATION as techmart_api; $(nproc) CPUs"

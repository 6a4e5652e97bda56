#!/usr/bin/env bash
# Two builds of the fraud engine compared in ONE run: bench/fraud/scale.sh (STEPS=0) and
# bench/fraud/speed.sh on one throwaway cluster started alternately with two PostgreSQL
# installations of the same version, ROUNDS times (before, after, before, after, ...):
#   BEFORE_BIN  bin dir of a PostgreSQL whose $libdir holds the earlier techmart.so
#   AFTER_BIN   bin dir of a PostgreSQL with this build installed
# (both preloaded; both must accept the same extension version). Each script prints the scored
# throughput as a share of the plain table within its own run: compare that share, before vs
# after. Two databases: `scale` (seed data + customers up to CUSTOMERS, for scale.sh) and `seed`
# (seed data only, for speed.sh). A warm-up statement creates every customer's state row first
# (with AFTER_BIN), so no run pays the creation of 100,000 state rows and the others not; each
# scale.sh run then adds ROWS/CUSTOMERS transactions to every customer's state.
# Env: ROUNDS (2), ROWS (1000000) and CUSTOMERS (100000) for scale.sh, SPEED_ROWS (100000),
# SECONDS_PER_RUN (speed.sh's default unless set), SPEED (1: 0 skips speed.sh), SCALE (1: 0 skips
# scale.sh and its database), SCALE_OPTIONS (PGOPTIONS of the scale.sh runs, e.g.
# "-c techmart.state_cache_memory=4MB"); speed.sh's own switches (BULK, SINGLE, CPU, SINGLE_ROUNDS,
# SINGLE_SYNC) pass through. The cluster: shared_buffers 512MB, max_wal_size 4GB,
# checkpoint_timeout 30min (no checkpoint during speed.sh's single-row pairs).
set -Eeuo pipefail
: "${BEFORE_BIN:?BEFORE_BIN: bin dir of the PostgreSQL with the earlier techmart.so}"
: "${AFTER_BIN:?AFTER_BIN: bin dir of the PostgreSQL with this build}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ROUNDS="${ROUNDS:-2}"
export ROWS="${ROWS:-1000000}" CUSTOMERS="${CUSTOMERS:-100000}"
SPEED_ROWS="${SPEED_ROWS:-100000}"
[ -n "${SECONDS_PER_RUN:-}" ] && export SECONDS_PER_RUN  # else speed.sh's default
SPEED="${SPEED:-1}"
SCALE="${SCALE:-1}"
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { local p; for _ in $(seq 1 100); do p=$((20000 + RANDOM % 30000)); (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }; done; exit 1; }
T="$(mktemp -d /tmp/techmart-abbench.XXXXXX)"; chmod 755 "$T"
[ "$(id -u)" -eq 0 ] && chown postgres: "$T"
PORT="$(free_port)"
running=""
cleanup() { [ -n "$running" ] && as_pg "$running/pg_ctl" -D "$T/pgdata" -m immediate -w stop >/dev/null 2>&1; rm -rf "$T"; }
trap cleanup EXIT
start() {  # start BIN
  as_pg tee "$T/pgdata/bench.conf" >/dev/null <<CONF
port = $PORT
listen_addresses = ''
unix_socket_directories = '$T'
shared_buffers = 512MB
max_wal_size = 4GB
checkpoint_timeout = 30min
timezone = 'UTC'
log_min_messages = warning
shared_preload_libraries = 'techmart'
CONF
  as_pg "$1/pg_ctl" -D "$T/pgdata" -l "$T/postgres.log" -w start >/dev/null
  running="$1"
}
stop() { as_pg "$running/pg_ctl" -D "$T/pgdata" -m fast -w stop >/dev/null; running=""; }

as_pg "$AFTER_BIN/initdb" -D "$T/pgdata" -U postgres -E UTF8 --locale=C.UTF-8 -A trust >"$T/initdb.log" 2>&1
echo "include_if_exists = 'bench.conf'" | as_pg tee -a "$T/pgdata/postgresql.conf" >/dev/null
export PGHOST="$T" PGPORT="$PORT" PGUSER=postgres
start "$AFTER_BIN"
for db in seed $([ "$SCALE" = 1 ] && echo scale); do
  psql -X -q -d postgres -c "CREATE DATABASE $db"
  (cd "$ROOT/migrations" && sqitch --quiet deploy "db:pg:$db") >/dev/null
  (cd "$ROOT/data" && psql -X -q -1 -v ON_ERROR_STOP=1 -d "$db" -f load.sql) >/dev/null
done
# customers up to CUSTOMERS (as scale.sh adds them) and their state rows (warm-up statement)
[ "$SCALE" = 1 ] && psql -X -q -v ON_ERROR_STOP=1 -d scale <<SQL
SELECT setval(pg_get_serial_sequence('customers', 'id'), (SELECT max(id) FROM customers)) \g /dev/null
INSERT INTO customers (email, name, country, registration_date)
SELECT 'scale-' || g || '@example.com', 'Scale ' || g, (ARRAY['DE','FR','GB','US','NL'])[1 + g % 5], '2024-01-01'
  FROM generate_series((SELECT count(*) FROM customers) + 1, $CUSTOMERS) g;
CREATE TABLE warmup (LIKE transactions INCLUDING ALL);
CREATE TRIGGER s BEFORE INSERT ON warmup FOR EACH ROW EXECUTE FUNCTION techmart.score_transaction();
CREATE TRIGGER f AFTER INSERT ON warmup FOR EACH STATEMENT EXECUTE FUNCTION techmart.score_transaction_flush();
INSERT INTO warmup (customer_id, product_id, quantity, unit_price, payment_method, country, transaction_time)
SELECT id, 1, 1, 10, 'credit_card', 'DE', timestamptz '2025-12-01' + id * interval '1 second' FROM customers;
DROP TABLE warmup;
VACUUM ANALYZE;
SQL
stop
echo "# $(date -u +%FT%TZ) $(git -C "$ROOT" rev-parse --short HEAD), $(nproc) cores; scale.sh ROWS=$ROWS CUSTOMERS=$CUSTOMERS STEPS=0 ${SCALE_OPTIONS:+PGOPTIONS='$SCALE_OPTIONS'} (SCALE=$SCALE); speed.sh ROWS=$SPEED_ROWS SECONDS_PER_RUN=${SECONDS_PER_RUN:-default} (SPEED=$SPEED)"
for r in $(seq 1 "$ROUNDS"); do
  for v in before after; do
    if [ $v = before ]; then start "$BEFORE_BIN"; else start "$AFTER_BIN"; fi
    if [ "$SCALE" = 1 ]; then
      echo "## round $r, $v, scale.sh (load average $(cut -d' ' -f1-3 /proc/loadavg))"
      PGDATABASE=scale STEPS=0 PGOPTIONS="${SCALE_OPTIONS:-}" "$ROOT/bench/fraud/scale.sh" | sed 's/^/   /'
    fi
    if [ "$SPEED" = 1 ]; then
      echo "## round $r, $v, speed.sh (load average $(cut -d' ' -f1-3 /proc/loadavg))"
      PGDATABASE=seed ROWS="$SPEED_ROWS" "$ROOT/bench/fraud/speed.sh" | sed 's/^/   /'
    fi
    echo "   (load average at the end $(cut -d' ' -f1-3 /proc/loadavg))"
    stop
  done
done

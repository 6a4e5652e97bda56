#!/usr/bin/env bash
# Cost of the scoring latency histogram (docs/operations.md "Scoring latency"): bench/fraud/speed.sh
# on ONE throwaway cluster started alternately with two PostgreSQL installations of the same
# version, ROUNDS times (before, after, before, after, ...):
#   BEFORE_BIN  bin dir of a PostgreSQL whose $libdir holds a techmart.so WITHOUT the histogram
#               (e.g. a copy made with /work/wt/mkpgroot.sh and the techmart.so of the commit
#               before it), techmart not preloaded;
#   AFTER_BIN   bin dir of a PostgreSQL with this build installed, techmart preloaded (the
#               histogram in shared memory, atomic adds).
# Each speed.sh run reports scored throughput as a share of the plain table in the same run; the
# figure to compare is that share, before vs after. The after runs also print the histogram of
# the run (per-row time of the trigger: mean and the bucket holding p50/p99). First, the hot path
# alone (bench/fraud/histogram_micro.cpp: ns per observation, 1 and 2 threads).
# Env: ROUNDS (2), ROWS (100000), SECONDS_PER_RUN (speed.sh's default), as for speed.sh.
set -Eeuo pipefail
: "${BEFORE_BIN:?BEFORE_BIN: bin dir of the PostgreSQL with the previous techmart.so}"
: "${AFTER_BIN:?AFTER_BIN: bin dir of the PostgreSQL with this build}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ROUNDS="${ROUNDS:-2}"
export ROWS="${ROWS:-100000}"
[ -n "${SECONDS_PER_RUN:-}" ] && export SECONDS_PER_RUN  # else speed.sh's default
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { local p; for _ in $(seq 1 100); do p=$((20000 + RANDOM % 30000)); (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }; done; exit 1; }
T="$(mktemp -d /tmp/techmart-histbench.XXXXXX)"; chmod 755 "$T"
[ "$(id -u)" -eq 0 ] && chown postgres: "$T"
PORT="$(free_port)"
running=""
cleanup() { [ -n "$running" ] && as_pg "$running/pg_ctl" -D "$T/pgdata" -m immediate -w stop >/dev/null 2>&1; rm -rf "$T"; }
trap cleanup EXIT
start() {  # start BIN PRELOAD(on|off)
  local pre="# not preloaded"
  [ "$2" = on ] && pre="shared_preload_libraries = 'techmart'"
  as_pg tee "$T/pgdata/bench.conf" >/dev/null <<CONF
port = $PORT
listen_addresses = ''
unix_socket_directories = '$T'
shared_buffers = 256MB
timezone = 'UTC'
log_min_messages = warning
$pre
CONF
  as_pg "$1/pg_ctl" -D "$T/pgdata" -l "$T/postgres.log" -w start >/dev/null
  running="$1"
}
stop() { as_pg "$running/pg_ctl" -D "$T/pgdata" -m fast -w stop >/dev/null; running=""; }

# the hot path alone (no database): ns per observation
c++ -O2 -std=c++17 -I"$ROOT/extension/core/include" "$ROOT/bench/fraud/histogram_micro.cpp" -o "$T/micro" -lpthread
echo "# histogram hot path (bench/fraud/histogram_micro.cpp):"; "$T/micro" | sed 's/^/#   /'
as_pg "$AFTER_BIN/initdb" -D "$T/pgdata" -U postgres -E UTF8 --locale=C.UTF-8 -A trust >"$T/initdb.log" 2>&1
echo "include_if_exists = 'bench.conf'" | as_pg tee -a "$T/pgdata/postgresql.conf" >/dev/null
export PGHOST="$T" PGPORT="$PORT" PGUSER=postgres PGDATABASE=techmart
start "$AFTER_BIN" on
psql -X -q -d postgres -c "CREATE DATABASE techmart"
(cd "$ROOT/migrations" && sqitch --quiet deploy db:pg:techmart) >/dev/null
(cd "$ROOT/data" && psql -X -q -1 -v ON_ERROR_STOP=1 -f load.sql) >/dev/null
stop
echo "# $(date -u +%FT%TZ) $(git -C "$ROOT" rev-parse --short HEAD), $(nproc) cores, ROWS=$ROWS SECONDS_PER_RUN=${SECONDS_PER_RUN:-default}"
for r in $(seq 1 "$ROUNDS"); do
  for v in before after; do
    if [ $v = before ]; then start "$BEFORE_BIN" off; else start "$AFTER_BIN" on; fi
    [ $v = after ] && psql -X -q -tA -c "SELECT techmart.scoring_latency_reset()" >/dev/null
    echo "## round $r, $v (load average $(cut -d' ' -f1-3 /proc/loadavg))"
    "$ROOT/bench/fraud/speed.sh" | sed 's/^/   /'
    if [ $v = after ]; then
      psql -X -q -tA -c "
        WITH h AS (SELECT le_us, cumulative, max(cumulative) OVER () AS n FROM techmart.scoring_latency())
        SELECT format('   histogram of the run: %s scored rows, mean %s us, p50 <= %s us, p90 <= %s us, p99 <= %s us (bucket bounds)',
                      s.observations, round((s.sum_seconds / nullif(s.observations, 0) * 1e6)::numeric, 1),
                      (SELECT min(le_us) FROM h WHERE cumulative >= 0.5 * n), (SELECT min(le_us) FROM h WHERE cumulative >= 0.9 * n),
                      (SELECT min(le_us) FROM h WHERE cumulative >= 0.99 * n))
        FROM techmart.scoring_latency_summary() s"
    fi
    stop
  done
done

#!/usr/bin/env bash
# Instructions per single-row INSERT into speed.sh's two tables (bench_plain, bench_scored), counted
# by valgrind (callgrind, Ir) on a single-user backend: a count that does not depend on what else
# runs on the machine, unlike the throughput and CPU times of speed.sh (bench/README.md). Per table:
# (Ir of a backend running 200 + N INSERTs - Ir of one running 200) / N, so start-up, the first
# statement's catalogue lookups and plan preparation cancel out. Same session settings for both
# tables (synchronous_commit off, autovacuum off); every run inserts the same customers and products
# (bash RANDOM seeded), so the state rows it updates are alike from run to run. The rows carry
# their transaction_time, not now(): the velocity, spend and hour rules (which reasons are written,
# how long they are) depend on the time, so with now() the count moved with the hour of the day.
# Backend k (0, 1, ... in the order they run) inserts its rows from 14:00:00 UTC + k minutes, 10 ms
# apart, on the second day after the cluster's latest customer_state.last_transaction_time: every
# run on a copy of the same cluster inserts the same rows at the same times, at a busy hour of the
# shop, and no earlier row of the cluster is within the rules' windows (24 h at most).
#   PGDATA  data directory of a STOPPED cluster (single-user mode needs it to itself), whose
#           postgres is the first on PATH and whose $libdir holds the techmart.so to measure
#   DB      a database where speed.sh has run (bench_plain, bench_scored and their triggers)
#   N       (300) INSERTs measured per table; ROUNDS (1) repetitions
#   WARM    (200) INSERTs before them (in both runs: Ir of WARM + N minus Ir of WARM). With 1,000
#           customers, WARM=2000 has ~86 % of the measured INSERTs' customers and nearly every
#           product seen before by the same backend, as in a pgbench backend's steady state
# Prints the instructions per INSERT of each table and the scored overhead. Needs valgrind; as
# root, runs postgres as user postgres. ~30 s per run (valgrind slows the backend ~50x).
set -Eeuo pipefail
: "${PGDATA:?PGDATA: the data directory of a stopped cluster}"
: "${DB:?DB: a database where bench/fraud/speed.sh has run}"
N="${N:-300}"
WARM="${WARM:-200}"
ROUNDS="${ROUNDS:-1}"
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }
if pg_ctl -D "$PGDATA" status >/dev/null 2>&1; then echo "the cluster in $PGDATA is running: stop it first" >&2; exit 1; fi
T="$(mktemp -d /tmp/techmart-instructions.XXXXXX)"; chmod 755 "$T"
trap 'rm -rf "$T"' EXIT
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" -eq 0 ] && chown postgres: "$T"
inserts() {  # inserts TABLE COUNT BACKEND > file (BACKEND: the backend's number, for its rows' times)
  { RANDOM=7  # (in the pipeline's subshell: bash reseeds RANDOM there)
    for _ in $(seq 1 "$2"); do echo "$((RANDOM % 1000 + 1)) $((RANDOM % 500 + 1))"; done
  } | awk -v tbl="$1" -v day="$DAY" -v s0=$((14 * 3600 + 60 * $3)) '{
    cs = s0 * 100 + NR - 1  # centiseconds since midnight, in integers
    printf "INSERT INTO %s (customer_id, product_id, quantity, unit_price, amount, payment_method, transaction_time) VALUES (%d, %d, 1, 19.99, 19.99, %cpaypal%c, %c%s %02d:%02d:%02d.%02d+00%c)\n",
           tbl, $1, $2, 39, 39, 39, day, int(cs / 360000), int(cs % 360000 / 6000), int(cs % 6000 / 100), cs % 100, 39
  }'
}
ir() {  # ir TABLE COUNT BACKEND: total instructions of a single-user backend running COUNT INSERTs
  inserts "$1" "$2" "$3" >"$T/in.sql"; chmod 644 "$T/in.sql"
  as_pg valgrind --tool=callgrind --callgrind-out-file="$T/cg.out" "$(command -v postgres)" --single \
    -D "$PGDATA" -c synchronous_commit=off -c autovacuum=off "$DB" <"$T/in.sql" >/dev/null 2>"$T/valgrind.log" \
    || { tail -20 "$T/valgrind.log" >&2; exit 1; }
  awk '/^(summary|totals):/ {print $2; exit}' "$T/cg.out"
}
[ "$ROUNDS" -le 100 ] || { echo "ROUNDS: at most 100 (the rows' times stay within their day)" >&2; exit 1; }
# the day of the rows: the second after the cluster's latest scored row (today's when none)
DAY="$(echo "SELECT to_char(date_trunc('day', coalesce(max(last_transaction_time), now()) AT TIME ZONE 'UTC') + interval '2 days', 'YYYY-MM-DD') AS rows_day FROM techmart.customer_state" \
       | as_pg "$(command -v postgres)" --single -D "$PGDATA" "$DB" 2>&1 | sed -n 's/.*rows_day = "\([0-9-]*\)".*/\1/p')"
[[ "$DAY" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$ ]] || { echo "could not read the latest state time of $DB" >&2; exit 1; }
BACKEND=0
echo "# $(date -u +%FT%TZ) $(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo '?'), $(command -v postgres), N=$N, WARM=$WARM, rows on $DAY from 14:00 UTC"
for r in $(seq 1 "$ROUNDS"); do
  declare -A per
  for tbl in bench_plain bench_scored; do
    a=$(ir "$tbl" "$WARM" "$BACKEND"); b=$(ir "$tbl" $((N + WARM)) $((BACKEND + 1))); BACKEND=$((BACKEND + 2))
    per[$tbl]=$(( (b - a) / N ))
  done
  echo "round $r: instructions per single-row INSERT: plain ${per[bench_plain]}, scored ${per[bench_scored]}, scored overhead $(( per[bench_scored] - per[bench_plain] )) ($(awk "BEGIN{printf \"%.3f\", ${per[bench_plain]}/${per[bench_scored]}}") plain/scored)"
done

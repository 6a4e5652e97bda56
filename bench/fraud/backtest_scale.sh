#!/usr/bin/env bash
# What a backtest costs on a large history (bench/RESULTS.md, "Backtests at 5,000,000 transactions").
#   PGHOST=... PGPORT=... PGUSER=postgres bench/fraud/backtest_scale.sh DB [PERIOD ...]
# DB: a database such as bench/api/scale_db.sh makes (e.g. scale5m); PERIOD: intervals ending at now()
# (default: '1 day' '7 days' '30 days'). Per period, in one session each (server and client on this
# machine): techmart.backtest_scores('{}', now() - PERIOD, now()) (one replay) and techmart.backtest('{}', ...)
# (the dashboard's request: the live configuration as the candidate), their wall time and the backend's
# CPU time (utime + stime of its process, /proc), and as the baseline measured in the same run a plain
# read of the same history (the transactions before now() of the customers with one in the period, in
# time order: what the replay reads, without the replay); ratio = backtest wall / baseline wall.
set -Eeuo pipefail
DB="${1:?database}"; shift
PERIODS=("$@"); [ ${#PERIODS[@]} -gt 0 ] || PERIODS=('1 day' '7 days' '30 days')
tick=$(getconf CLK_TCK)
cpu_of_session() {  # SQL -> "wall_s cpu_s result"
  coproc PS { psql -X -At -q -v ON_ERROR_STOP=1 -d "$DB" 2>&1; }
  echo "SELECT pg_backend_pid();" >&"${PS[1]}"; local pid; read -r pid <&"${PS[0]}"
  local c0 c1 t0 t1 out
  c0=$(awk -v t="$tick" '{print ($14+$15)/t}' "/proc/$pid/stat"); t0=$(date +%s.%N)
  echo "$1" >&"${PS[1]}"; read -r out <&"${PS[0]}"
  c1=$(awk -v t="$tick" '{print ($14+$15)/t}' "/proc/$pid/stat"); t1=$(date +%s.%N)
  echo '\q' >&"${PS[1]}"; wait "$PS_PID" 2>/dev/null || true
  echo "$(echo "$t1 - $t0" | bc) $(echo "$c1 - $c0" | bc) $out"
}
echo "# $DB: $(psql -X -At -d "$DB" -c "SELECT count(*) || ' transactions, ' || (SELECT count(*) FROM customers) || ' customers, ' || (SELECT count(*) FROM transaction_labels) || ' verdicts' FROM transactions"); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| period | rows scored | history replayed | baseline read (s) | backtest_scores wall (s) | its backend CPU (s) | ratio to baseline | backtest() wall (s) | its backend CPU (s) |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for p in "${PERIODS[@]}"; do
  hist="SELECT count(*) FROM (SELECT t.id FROM transactions t WHERE t.transaction_time < now() AND t.customer_id IN (SELECT s.customer_id FROM transactions s WHERE s.transaction_time >= now() - interval '$p' AND s.transaction_time < now()) ORDER BY t.transaction_time, t.id) x;"
  read -r bw bc bn < <(cpu_of_session "SET jit = off; SET max_parallel_workers_per_gather = 0; $hist" | tail -1)
  read -r sw sc sn < <(cpu_of_session "SELECT count(*) FROM techmart.backtest_scores('{}', now() - interval '$p', now());")
  read -r tw tc tn < <(cpu_of_session "SELECT count(*) FROM techmart.backtest('{}', now() - interval '$p', now());")
  printf '| %s | %s | %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |\n' "$p" "$sn" "$bn" "$bw" "$sw" "$sc" "$(echo "$sw / $bw" | bc -l)" "$tw" "$tc"
done

# Sourced by the concurrency tests of this directory (bash): the set-up every one of them shares (strict mode, a
# temporary directory $DIR for the pgbench scripts removed at exit, the psql command PSQL, fail=0), the pgbench
# run of the writers with pg_stat_database.deadlocks before and after it, the checks "no writer failed" and
# "no deadlock", and the TAP plan at the end. A test sets WRITERS and DURATION, sources this file, and keeps its
# own data, workload (the pgbench scripts it writes into $DIR) and exactness checks.
set -Eeuo pipefail
DIR="$(mktemp -d)"
trap 'rm -rf "$DIR"' EXIT
PSQL=(psql -X -q -v ON_ERROR_STOP=1)
fail=0

# deadlocks: pg_stat_database.deadlocks of the current database (a fresh statistics snapshot)
deadlocks() {
  "${PSQL[@]}" -tA -c "SELECT pg_stat_clear_snapshot(); SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()" \
    | tail -1
}

# run_writers PGBENCH_ARGS...: $WRITERS pgbench clients (separate connections) for $DURATION seconds with the given
# scripts and options (pgbench's environment, e.g. PGOPTIONS, as the caller sets it). Sets out (pgbench's output,
# also when it failed), dl_before and dl_after (pg_stat_database.deadlocks around the run); prints pgbench's
# counts as TAP comments.
run_writers() {
  dl_before="$(deadlocks)"
  out="$(pgbench -n -c "$WRITERS" -j "$WRITERS" -T "$DURATION" "$@" 2>&1)" || true
  echo "$out" | grep -E '^(number of (transactions|failed)|tps)|aborted|ERROR|deadlock' | sed 's/^/# /' || true
  sleep 1  # pg_stat_database is updated when the writers' sessions report
  dl_after="$(deadlocks)"
}

# check_writers N [TEXT]: TAP line N, ok when no writer's statement failed in the last run_writers: no ERROR,
# aborted client or deadlock in its output, its processed transactions reported, 0 failed transactions (with
# --max-tries, after the retries)
check_writers() {
  local failed
  failed="$(echo "$out" | awk '/^number of failed transactions:/ {print $5; exit}')"
  if echo "$out" | grep -qiE 'aborted|ERROR|deadlock' || ! echo "$out" | grep -q 'number of transactions actually processed' \
     || [ "${failed:-x}" != 0 ]; then
    echo "not ok $1 - a writer failed (failed transactions: ${failed:-?})"; fail=1
    echo "$out" | grep -iE 'ERROR|aborted|deadlock|DETAIL' | head -10 | sed 's/^/# /' || true
  else
    echo "ok $1 - ${2:-"no writer's statement failed (0 failed transactions)"}"
  fi
}

# check_no_deadlock N: TAP line N, ok when pg_stat_database.deadlocks did not move during the last run_writers
check_no_deadlock() {
  if [ "$dl_after" = "$dl_before" ]; then
    echo "ok $1 - no deadlock (pg_stat_database.deadlocks $dl_before -> $dl_after)"
  else
    echo "not ok $1 - deadlocks: pg_stat_database.deadlocks $dl_before -> $dl_after"; fail=1
  fi
}

# check_states_exact N FIRST LAST: TAP line N, ok when every customer FIRST..LAST has its state and risk_score
# equal to a recomputation from its lines (techmart.customer_state_check). Every field the check reports different
# is printed, one line each: customer, field, live / recomputed, and whether the two are within 1e-6 relative
# (numbers, and arrays element by element; any other field must be equal). The live state folds a customer's
# lines in the order the writers committed them, the recomputation in time order: the doubles (mean, m2,
# hour_profile, risk) may differ in their last bits, and the check's rounding (9 decimals, m2 6) can then fall on
# either side of a boundary (seen once in ~30 CI runs: 2 customers, n equal). A field beyond that tolerance, or any
# difference in an exact field, fails.
check_states_exact() {
  local fields
  fields="$("${PSQL[@]}" -tA -F' ' -v first="$2" -v last="$3" <<'SQL'
CREATE FUNCTION pg_temp.close(a jsonb, b jsonb) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF jsonb_typeof(a) = 'number' AND jsonb_typeof(b) = 'number' THEN
    RETURN abs(a::numeric - b::numeric) <= 1e-6 * greatest(1, abs(a::numeric), abs(b::numeric));
  ELSIF jsonb_typeof(a) = 'array' AND jsonb_typeof(b) = 'array' THEN
    RETURN jsonb_array_length(a) = jsonb_array_length(b)
       AND NOT EXISTS (SELECT FROM jsonb_array_elements(a) WITH ORDINALITY x(v, i)
                         JOIN jsonb_array_elements(b) WITH ORDINALITY y(w, i) USING (i)
                        WHERE NOT pg_temp.close(x.v, y.w));
  END IF;
  RETURN a IS NOT DISTINCT FROM b;
END $$;
SELECT d.customer_id, k, CASE WHEN pg_temp.close(d.live -> k, d.recomputed -> k) THEN 'close' ELSE 'DIFFERENT' END,
       coalesce((d.live -> k)::text, 'null') || ' / ' || coalesce((d.recomputed -> k)::text, 'null')
  FROM techmart.customer_state_check(ARRAY(SELECT generate_series(:first::bigint, :last::bigint))) d,
       LATERAL (SELECT DISTINCT k FROM jsonb_object_keys(d.live || d.recomputed) k) keys
 WHERE d.live -> k IS DISTINCT FROM d.recomputed -> k
 ORDER BY 1, 2
SQL
)"
  if [ -z "$fields" ]; then
    echo "ok $1 - every customer's state and risk_score equal the recomputation from transactions"
  elif ! grep -q ' DIFFERENT ' <<<"$fields"; then
    echo "ok $1 - every customer's state and risk_score equal the recomputation from transactions (doubles within 1e-6 relative)"
    sed 's/^/# /' <<<"$fields"
  else
    echo "not ok $1 - $(cut -d' ' -f1 <<<"$fields" | sort -u | wc -l) customers differ from the recomputation"; fail=1
    head -20 <<<"$fields" | sed 's/^/# /'
  fi
}

# finish N: the TAP plan (N tests) and the exit status (1 when a check failed)
finish() {
  echo "1..$1"
  exit "$fail"
}

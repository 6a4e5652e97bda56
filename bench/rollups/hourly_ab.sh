#!/bin/bash
# bench/rollups/hourly_ab.sh OLD_SYMBOL NEW_SYMBOL OLD_NAME NEW_NAME [ZONE]: the C answer of
# api.hourly_sales over 30 days from two entry points of the same techmart.so (e.g.
# techmart_hourly_sales_json_utc and techmart_hourly_sales_json_label), on the same data, in one
# session, interleaved: ROUNDS rounds (default 15) of 200 calls each; prints the median time per call of
# each and their ratio NEW/OLD. ZONE (default Europe/Berlin) is the business time zone passed to both.
# Uses the libpq environment (PGHOST, PGPORT, PGDATABASE, PGUSER: a superuser; the two functions are
# declared in a schema hourly_ab_bench dropped at the end); the 30 days end at the last midnight (UTC)
# before the newest rollup row. Called by hourly_utc.sh and hourly_label.sh.
set -euo pipefail
old_sym="${1:?old symbol}"; new_sym="${2:?new symbol}"; old_name="${3:?old name}"; new_name="${4:?new name}"
zone="${5:-Europe/Berlin}"
rounds="${ROUNDS:-15}"
to="$(psql -X -tAc "SELECT date_trunc('day', max(hour), 'UTC') FROM analytics.sales_hourly WHERE dim = 'all'")"
[ -n "$to" ] || { echo "no rollup rows" >&2; exit 1; }
call() { echo "SELECT '$1', count(hourly_ab_bench.$1(timestamptz '$to' - interval '30 days' + g * interval '0', '$to', 'all', NULL, '', '$zone') IS NOT NULL) FROM generate_series(1, 200) g;"; }
times="$(mktemp)"
trap 'rm -f "$times"' EXIT
{ cat <<S
\set ON_ERROR_STOP on
SET client_min_messages = warning;
CREATE SCHEMA hourly_ab_bench;
CREATE FUNCTION hourly_ab_bench.old_json(timestamptz, timestamptz, text, text, text, text) RETURNS jsonb
  AS '\$libdir/techmart', '$old_sym' LANGUAGE C STABLE;
CREATE FUNCTION hourly_ab_bench.new_json(timestamptz, timestamptz, text, text, text, text) RETURNS jsonb
  AS '\$libdir/techmart', '$new_sym' LANGUAGE C STABLE;
S
  call old_json; call new_json  # warm-up
  echo '\timing on'
  for _ in $(seq 1 "$rounds"); do call old_json; call new_json; done
  echo '\timing off'
  echo 'DROP SCHEMA hourly_ab_bench CASCADE;'
} | psql -X -q -tA -v ON_ERROR_STOP=1 | grep '^Time' | awk '{print $2}' >"$times"
python3 - "$times" "$rounds" "$old_name" "$new_name" <<'P'
import statistics, sys
t = [float(x) for x in open(sys.argv[1])]
old, new = t[0::2], t[1::2]
assert len(old) == len(new) == int(sys.argv[2]), t
mo, mn = statistics.median(old) / 200, statistics.median(new) / 200
print('api.hourly_sales C answer, 30 days, per call (median of %d rounds of 200): %s %.3f ms, %s %.3f ms, ratio %.2f'
      % (len(old), sys.argv[3], mo, sys.argv[4], mn, mn / mo))
P
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

#!/bin/bash
# bench/rollups/hourly_utc.sh: the C answer of api.hourly_sales over 30 days with the entry point of
# change hourly_sales_utc (UTC hours, techmart_hourly_sales_json_utc) against the earlier one (local
# hours of the business time zone, techmart_hourly_sales_json) of the same techmart.so, on the same
# data, in one session, interleaved: ROUNDS rounds (default 15) of 200 calls each; prints the median
# time per call of each and their ratio. Uses the libpq environment (PGHOST, PGPORT, PGDATABASE,
# PGUSER: a superuser, the two functions are declared in a schema dst_bench dropped at the end); the
# 30 days end at the last midnight (UTC) before the newest rollup row, business zone Europe/Berlin.
set -euo pipefail
rounds="${ROUNDS:-15}"
to="$(psql -X -tAc "SELECT date_trunc('day', max(hour), 'UTC') FROM analytics.sales_hourly WHERE dim = 'all'")"
[ -n "$to" ] || { echo "no rollup rows" >&2; exit 1; }
call() { echo "SELECT '$1', count(dst_bench.$1(timestamptz '$to' - interval '30 days' + g * interval '0', '$to', 'all', NULL, '', 'Europe/Berlin') IS NOT NULL) FROM generate_series(1, 200) g;"; }
times="$(mktemp)"
trap 'rm -f "$times"' EXIT
{ cat <<'S'
\set ON_ERROR_STOP on
SET client_min_messages = warning;
CREATE SCHEMA dst_bench;
CREATE FUNCTION dst_bench.old_json(timestamptz, timestamptz, text, text, text, text) RETURNS jsonb
  AS '$libdir/techmart', 'techmart_hourly_sales_json' LANGUAGE C STABLE;
CREATE FUNCTION dst_bench.new_json(timestamptz, timestamptz, text, text, text, text) RETURNS jsonb
  AS '$libdir/techmart', 'techmart_hourly_sales_json_utc' LANGUAGE C STABLE;
S
  call old_json; call new_json  # warm-up
  echo '\timing on'
  for _ in $(seq 1 "$rounds"); do call old_json; call new_json; done
  echo '\timing off'
  echo 'DROP SCHEMA dst_bench CASCADE;'
} | psql -X -q -tA -v ON_ERROR_STOP=1 | grep '^Time' | awk '{print $2}' >"$times"
python3 - "$times" "$rounds" <<'P'
import statistics, sys
t = [float(x) for x in open(sys.argv[1])]
old, new = t[0::2], t[1::2]
assert len(old) == len(new) == int(sys.argv[2]), t
mo, mn = statistics.median(old) / 200, statistics.median(new) / 200
print('api.hourly_sales C answer, 30 days, per call (median of %d rounds of 200): local hours %.3f ms, UTC hours %.3f ms, UTC/local %.2f'
      % (len(old), mo, mn, mn / mo))
P
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

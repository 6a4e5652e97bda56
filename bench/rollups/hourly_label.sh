#!/bin/bash
# bench/rollups/hourly_label.sh: the C answer of api.hourly_sales over 30 days with the entry point of
# change hourly_sales_label (UTC hours each with its label in the business time zone,
# techmart_hourly_sales_json_label) against the one of change hourly_sales_utc (no label,
# techmart_hourly_sales_json_utc) of the same techmart.so, on the same data, in one session,
# interleaved: ROUNDS rounds (default 15) of 200 calls each; prints the median time per call of each
# and their ratio. TZ_LABELS (default Europe/Berlin) is the zone of the labels. Uses the libpq
# environment (PGHOST, PGPORT, PGDATABASE, PGUSER: a superuser, the two functions are declared in a schema label_bench dropped at the end); the
# 30 days end at the last midnight (UTC) before the newest rollup row.
set -euo pipefail
rounds="${ROUNDS:-15}"
zone="${TZ_LABELS:-Europe/Berlin}"
to="$(psql -X -tAc "SELECT date_trunc('day', max(hour), 'UTC') FROM analytics.sales_hourly WHERE dim = 'all'")"
[ -n "$to" ] || { echo "no rollup rows" >&2; exit 1; }
call() { echo "SELECT '$1', count(label_bench.$1(timestamptz '$to' - interval '30 days' + g * interval '0', '$to', 'all', NULL, '', '$zone') IS NOT NULL) FROM generate_series(1, 200) g;"; }
times="$(mktemp)"
trap 'rm -f "$times"' EXIT
{ cat <<'S'
\set ON_ERROR_STOP on
SET client_min_messages = warning;
CREATE SCHEMA label_bench;
CREATE FUNCTION label_bench.old_json(timestamptz, timestamptz, text, text, text, text) RETURNS jsonb
  AS '$libdir/techmart', 'techmart_hourly_sales_json_utc' LANGUAGE C STABLE;
CREATE FUNCTION label_bench.new_json(timestamptz, timestamptz, text, text, text, text) RETURNS jsonb
  AS '$libdir/techmart', 'techmart_hourly_sales_json_label' LANGUAGE C STABLE;
S
  call old_json; call new_json  # warm-up
  echo '\timing on'
  for _ in $(seq 1 "$rounds"); do call old_json; call new_json; done
  echo '\timing off'
  echo 'DROP SCHEMA label_bench CASCADE;'
} | psql -X -q -tA -v ON_ERROR_STOP=1 | grep '^Time' | awk '{print $2}' >"$times"
python3 - "$times" "$rounds" <<'P'
import statistics, sys
t = [float(x) for x in open(sys.argv[1])]
old, new = t[0::2], t[1::2]
assert len(old) == len(new) == int(sys.argv[2]), t
mo, mn = statistics.median(old) / 200, statistics.median(new) / 200
print('api.hourly_sales C answer, 30 days, per call (median of %d rounds of 200): UTC hours %.3f ms, with labels %.3f ms, labels/none %.2f'
      % (len(old), mo, mn, mn / mo))
P
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

#!/usr/bin/env bash
# Statistics benchmark (bench/README.md, section "Statistics"), ratios within one run.
#   PGHOST=... PGPORT=... PGUSER=postgres bench/stats/run.sh [ROWS]
# Creates the database techmart_bench_stats (dropped first) with the extensions techmart and
# tdigest (Debian package postgresql-15-tdigest), a table of ROWS (default 5,000,000) float8
# values (lognormal, seed fixed), and with max_parallel_workers_per_gather = 0 times, 3 runs
# each (median, server-side clock_timestamp around EXECUTE, alternated):
#   A  techmart.percentile(x, ARRAY[.5,.95,.99])
#   B  tdigest_percentile(x, 100, ARRAY[.5,.95,.99])
#   C  avg(x) + stddev(x)
# and the relative errors of A and B against percentile_cont at each quantile. Prints the
# ratios B/A (target >= 1.5) and A/C (target <= 2) and the errors (target <= 1%).
set -Eeuo pipefail
N="${1:-5000000}"
DB=techmart_bench_stats
P=(psql -X -q -v ON_ERROR_STOP=1 -d "$DB")
psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
"${P[@]}" <<SQL
SET client_min_messages = warning;
CREATE EXTENSION techmart;
CREATE EXTENSION tdigest;
SELECT setseed(0.42) \\gset
CREATE TABLE vals AS
  SELECT exp(3 + 1.2 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()))::float8 AS x
    FROM generate_series(1, $N);
VACUUM ANALYZE vals;
CREATE FUNCTION timed(q text) RETURNS float8 LANGUAGE plpgsql AS \$\$
DECLARE t0 timestamptz; r text;
BEGIN
  t0 := clock_timestamp();
  EXECUTE q INTO r;
  RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
END \$\$;
SQL
QA="SELECT techmart.percentile(x, ARRAY[.5,.95,.99])::text FROM vals"
QB="SELECT tdigest_percentile(x, 100, ARRAY[.5,.95,.99])::text FROM vals"
QC="SELECT (avg(x) + stddev(x))::text FROM vals"
"${P[@]}" -At <<SQL
SET max_parallel_workers_per_gather = 0;
SET work_mem = '256MB';
SELECT count(*) FROM vals \gset
CREATE TEMP TABLE t (q text, run int, ms float8);
-- warm-up (cache, library load)
SELECT timed('$QA') \gset
SELECT timed('$QB') \gset
SELECT timed('$QC') \gset
INSERT INTO t SELECT 'A', r, timed('$QA') FROM generate_series(1, 1) r;
INSERT INTO t SELECT 'B', r, timed('$QB') FROM generate_series(1, 1) r;
INSERT INTO t SELECT 'C', r, timed('$QC') FROM generate_series(1, 1) r;
INSERT INTO t SELECT 'A', r, timed('$QA') FROM generate_series(2, 2) r;
INSERT INTO t SELECT 'B', r, timed('$QB') FROM generate_series(2, 2) r;
INSERT INTO t SELECT 'C', r, timed('$QC') FROM generate_series(2, 2) r;
INSERT INTO t SELECT 'A', r, timed('$QA') FROM generate_series(3, 3) r;
INSERT INTO t SELECT 'B', r, timed('$QB') FROM generate_series(3, 3) r;
INSERT INTO t SELECT 'C', r, timed('$QC') FROM generate_series(3, 3) r;
CREATE TEMP TABLE med AS SELECT q, percentile_disc(0.5) WITHIN GROUP (ORDER BY ms) ms FROM t GROUP BY q;
\echo rows: :count
SELECT format('median ms: techmart.percentile %s, tdigest_percentile %s, avg+stddev %s',
              round(a.ms::numeric, 1), round(b.ms::numeric, 1), round(c.ms::numeric, 1))
  FROM med a, med b, med c WHERE a.q = 'A' AND b.q = 'B' AND c.q = 'C';
SELECT format('ratio tdigest/techmart = %s (target >= 1.5); techmart/(avg+stddev) = %s (target <= 2)',
              round((b.ms / a.ms)::numeric, 2), round((a.ms / c.ms)::numeric, 2))
  FROM med a, med b, med c WHERE a.q = 'A' AND b.q = 'B' AND c.q = 'C';
WITH e AS (SELECT percentile_cont(ARRAY[.5,.95,.99]) WITHIN GROUP (ORDER BY x) exa,
                  techmart.percentile(x, ARRAY[.5,.95,.99]) tma,
                  tdigest_percentile(x, 100, ARRAY[.5,.95,.99]) tda FROM vals)
SELECT format('q=%s exact %s  techmart rel.err %s%%  tdigest rel.err %s%%', q, round(ex::numeric, 4),
              round((100 * abs(tm - ex) / abs(ex))::numeric, 3), round((100 * abs(td - ex) / abs(ex))::numeric, 3))
  FROM e, unnest(ARRAY[.5,.95,.99], exa, tma, tda) u(q, ex, tm, td);
SQL

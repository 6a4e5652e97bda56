#!/usr/bin/env bash
# Forecast accuracy benchmark (bench/README.md, section "Statistics: forecast accuracy").
#   PGHOST=... PGPORT=... PGUSER=postgres bench/stats/forecast.sh [SEEDS=5] [HOLDOUT=28]
# Creates the database techmart_bench_forecast (dropped first) with the extension techmart and
# two sets of daily revenue series with weekly seasonality:
#   gen    daily revenue (sum(quantity * unit_price) of completed lines) of the project's own data
#          generator (techmart-gen, 420 days, 300,000 lines), one series per seed 1..SEEDS;
#   synth  20 series of 728 days: level 1000 + trend, weekday factors (0.8 .. 1.35), multiplicative
#          lognormal noise (sd 8%), occasional promotions (+40% on 2% of the days), fixed seeds.
# Each series: the last HOLDOUT days are held out; techmart.forecast(history, HOLDOUT, 7, 0.95)
# (Holt-Winters ETS(A,A,A) fitted by the extension) vs the seasonal-naive forecast (the last
# observed week repeated). Prints MAPE of both per set, the reduction (target: >= 20% lower than
# seasonal naive), how many series Holt-Winters wins, the 95% interval coverage and the fit time.
set -Eeuo pipefail
SEEDS="${1:-5}"
H="${2:-28}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
GEN="${GEN:-}"
for g in "$GEN" "$ROOT/build/data/generator/techmart-gen" "$ROOT/build-stats/data/generator/techmart-gen"; do
  if [ -n "$g" ] && [ -x "$g" ]; then GEN="$g"; break; fi
done
[ -x "$GEN" ] || { echo "techmart-gen not found (build first or set GEN)" >&2; exit 1; }
DB=techmart_bench_forecast
P=(psql -X -q -v ON_ERROR_STOP=1 -d "$DB")
psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
"${P[@]}" <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION techmart;
CREATE TABLE series (src text, sid int, t int, y float8, PRIMARY KEY (src, sid, t));
CREATE TABLE gtx (id bigint, customer_id bigint, product_id bigint, quantity int, unit_price numeric,
  transaction_time timestamptz, status text, payment_method text, platform text, order_number text,
  country text, latitude float8, longitude float8, device_id text, ip_address text,
  payment_fingerprint text, fraud_pattern text);
SQL
for seed in $(seq 1 "$SEEDS"); do
  "$GEN" --stdout transactions --days 420 --transactions 300000 --seed "$seed" |
    "${P[@]}" -c "TRUNCATE gtx" -c "COPY gtx FROM STDIN (FORMAT csv, HEADER)"
  "${P[@]}" -c "INSERT INTO series
    SELECT 'gen', $seed, row_number() OVER (ORDER BY d)::int, rev FROM (
      SELECT date_trunc('day', transaction_time AT TIME ZONE 'UTC') d, sum(quantity * unit_price)::float8 rev
        FROM gtx WHERE status = 'completed' GROUP BY 1) x"
done
"${P[@]}" -At <<SQL
SELECT setseed(0.17) \gset
INSERT INTO series
SELECT 'synth', s, t,
       (1000 + s * 10 + (0.2 + s * 0.05) * t)
       * (ARRAY[0.8, 0.85, 0.9, 1.0, 1.1, 1.35, 1.2])[1 + t % 7]
       * exp(0.08 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()))
       * CASE WHEN random() < 0.02 THEN 1.4 ELSE 1 END
  FROM generate_series(1, 20) s, generate_series(1, 728) t;
-- drop incomplete first/last days of the generated series
DELETE FROM series s USING (SELECT src, sid, max(t) mx FROM series GROUP BY 1, 2) m
 WHERE s.src = 'gen' AND m.src = s.src AND m.sid = s.sid AND (s.t = 1 OR s.t = m.mx);
UPDATE series SET t = t - 1 WHERE src = 'gen';

CREATE TABLE fc AS
WITH n AS (SELECT src, sid, max(t) n FROM series GROUP BY 1, 2),
hist AS (SELECT s.src, s.sid, n.n, array_agg(s.y ORDER BY s.t) arr
           FROM series s JOIN n USING (src, sid) WHERE s.t <= n.n - $H GROUP BY 1, 2, 3)
SELECT h.src, h.sid, h.n, f.* FROM hist h CROSS JOIN LATERAL techmart.forecast(h.arr, $H, 7, 0.95) f;

CREATE TABLE runs AS
SELECT f.src, f.sid, f.step, f.point, f.lower, f.upper, a.y AS actual, sn.y AS naive
  FROM fc f
  JOIN series a ON a.src = f.src AND a.sid = f.sid AND a.t = f.n - $H + f.step
  JOIN series sn ON sn.src = f.src AND sn.sid = f.sid AND sn.t = f.n - $H - 7 + 1 + (f.step - 1) % 7;

CREATE TABLE per_series AS
SELECT src, sid, avg(abs(actual - point) / abs(actual)) hw, avg(abs(actual - naive) / abs(actual)) sn,
       avg((actual BETWEEN lower AND upper)::int) cover
  FROM runs GROUP BY 1, 2;

SELECT format('%-5s series=%s days/series=%s holdout=%s: MAPE Holt-Winters %s%%, seasonal naive %s%%, '
              'reduction %s%% (target >= 20%%), HW better in %s/%s series, 95%% interval coverage %s%%',
              p.src, count(*), (SELECT max(t) FROM series s WHERE s.src = p.src), $H,
              round(100 * avg(hw)::numeric, 2), round(100 * avg(sn)::numeric, 2),
              round(100 * (1 - avg(hw) / avg(sn))::numeric, 1), sum((hw < sn)::int), count(*),
              round(100 * avg(cover)::numeric, 1))
  FROM per_series p GROUP BY p.src ORDER BY p.src;

-- fit + forecast time of one series of each set (median of 5)
CREATE FUNCTION timed(q text) RETURNS float8 LANGUAGE plpgsql AS \$\$
DECLARE t0 timestamptz; r text;
BEGIN
  t0 := clock_timestamp();
  EXECUTE q INTO r;
  RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
END \$\$;
SELECT format('%-5s fit+forecast of one series (%s values): median %s ms', src, len,
              round(percentile_disc(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 2))
  FROM (SELECT src, (SELECT count(*) FROM series s2 WHERE s2.src = x.src AND s2.sid = 1) len,
               timed(format('SELECT count(*) FROM techmart.forecast(%L::float8[], $H)',
                            (SELECT array_agg(y ORDER BY t) FROM series s WHERE s.src = x.src AND s.sid = 1))) ms
          FROM (VALUES ('gen'), ('synth')) x(src), generate_series(1, 5)) y
 GROUP BY src, len ORDER BY src;
SQL

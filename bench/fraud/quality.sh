#!/usr/bin/env bash
# Detection quality of the fraud engine on a held-out generated set (seed 7 is used in no test):
# generates SEED's data (TRANSACTIONS rows, CUSTOMERS customers), loads it into a fresh database
# DB (migrations + data/load.sql: every row scored by the trigger in time order), and prints per
# planted pattern (generator column fraud_pattern) and overall: positives, precision and recall
# at the suspicious threshold, ROC AUC and average precision of fraud_score — each pattern's rows
# against all legitimate rows — next to the baseline "amount threshold alone" (score = amount;
# threshold = the amount that flags as many rows as the engine does). PG* env: a superuser.
# Env: SEED (7), TRANSACTIONS (50000), CUSTOMERS (5000), DB (techmart_quality), GEN.
set -Eeuo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SEED="${SEED:-7}"
DB="${DB:-techmart_quality}"
GEN="${GEN:-$ROOT/build/data/generator/techmart-gen}"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
"$GEN" --out "$dir" --seed "$SEED" --transactions "${TRANSACTIONS:-50000}" --customers "${CUSTOMERS:-5000}"
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
(cd "$ROOT/migrations" && sqitch --quiet deploy "db:pg:$DB")
(cd "$dir" && psql -X -q -1 -v ON_ERROR_STOP=1 -d "$DB" -f "$ROOT/data/load.sql")
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" <<SQL
CREATE TABLE quality_truth (id bigint, customer_id bigint, product_id bigint, quantity integer, unit_price numeric,
  transaction_time timestamptz, status text, payment_method text, platform text, order_number text,
  country text, latitude float8, longitude float8, device_id text, ip_address inet,
  payment_fingerprint text, fraud_pattern text);
\copy quality_truth FROM '$dir/transactions.csv' WITH (FORMAT csv, HEADER)
SQL
psql -X -v ON_ERROR_STOP=1 -d "$DB" <<'SQL'
\pset footer off
CREATE TEMP TABLE q AS
SELECT t.id, nullif(g.fraud_pattern, '') AS pattern, t.fraud_score::float8 AS engine, t.amount::float8 AS baseline,
       t.is_suspicious AS engine_flag
  FROM transactions t JOIN quality_truth g USING (id);
-- the baseline flags as many rows as the engine: amount >= the k-th largest amount
CREATE TEMP TABLE base_cut AS
SELECT coalesce((SELECT baseline FROM q ORDER BY baseline DESC OFFSET greatest((SELECT count(*) FROM q WHERE engine_flag) - 1, 0) LIMIT 1), 'Infinity') AS cut;
CREATE TEMP TABLE scored AS
SELECT grp, 'engine' AS scorer, q.engine AS s, q.engine_flag AS flag, q.pattern IS NOT NULL AS pos
  FROM q, LATERAL (SELECT coalesce(q.pattern, p) FROM (VALUES ('overall')) v(p) UNION ALL SELECT 'overall' WHERE q.pattern IS NOT NULL) x(grp)
UNION ALL
SELECT grp, 'amount alone', q.baseline, q.baseline >= (SELECT cut FROM base_cut), q.pattern IS NOT NULL
  FROM q, LATERAL (SELECT coalesce(q.pattern, p) FROM (VALUES ('overall')) v(p) UNION ALL SELECT 'overall' WHERE q.pattern IS NOT NULL) x(grp);
-- legitimate rows belong to every group (the negatives of each pattern)
CREATE TEMP TABLE sets AS
SELECT g.grp, s.scorer, s.s, s.flag, s.pos FROM (SELECT DISTINCT grp FROM scored) g
  JOIN scored s ON s.grp = g.grp OR (NOT s.pos AND s.grp = 'overall' AND g.grp <> 'overall');
WITH r AS (
  SELECT grp, scorer, s, flag, pos,
         rank() OVER w + (count(*) OVER (PARTITION BY grp, scorer, s) - 1) / 2.0 AS avg_rank,
         count(*) FILTER (WHERE pos) OVER (PARTITION BY grp, scorer ORDER BY s DESC RANGE UNBOUNDED PRECEDING) AS pos_at,
         count(*) OVER (PARTITION BY grp, scorer ORDER BY s DESC RANGE UNBOUNDED PRECEDING) AS all_at
    FROM sets WINDOW w AS (PARTITION BY grp, scorer ORDER BY s))
SELECT grp AS pattern, scorer, count(*) FILTER (WHERE pos) AS positives,
       round(count(*) FILTER (WHERE pos AND flag)::numeric / nullif(count(*) FILTER (WHERE flag), 0), 3) AS precision,
       round(count(*) FILTER (WHERE pos AND flag)::numeric / nullif(count(*) FILTER (WHERE pos), 0), 3) AS recall,
       round(((sum(avg_rank) FILTER (WHERE pos) - count(*) FILTER (WHERE pos) * (count(*) FILTER (WHERE pos) + 1) / 2.0)
              / nullif(count(*) FILTER (WHERE pos) * count(*) FILTER (WHERE NOT pos), 0))::numeric, 3) AS roc_auc,
       round((avg(pos_at::float8 / all_at) FILTER (WHERE pos))::numeric, 3) AS avg_precision
  FROM r GROUP BY grp, scorer ORDER BY grp = 'overall', grp, scorer DESC;
SQL

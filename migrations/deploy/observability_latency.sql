-- Deploy techmart:observability_latency to pg
-- requires: observability, fraud_state_check (0.3)
-- The scoring latency histogram (extension 0.4, extension/pg/metrics.cpp; docs/operations.md):
--   * ALTER EXTENSION techmart UPDATE TO '0.4' for databases created before it (a no-op otherwise);
--   * view techmart_ops.scoring_latency (scope, le_us, count, cumulative) over
--     techmart.scoring_latency(): cluster-wide when techmart is in shared_preload_libraries, else
--     the figures of the backend that reads it (scope says which);
--   * techmart_ops.metrics gains the Prometheus histogram techmart_scoring_latency_seconds
--     (_bucket{le}, _sum, _count) and the gauge techmart_scoring_latency_cluster_wide;
--   * techmart_ops.prometheus() renders a histogram as one family (HELP/TYPE once, buckets in
--     le order, then _sum and _count).
BEGIN;

SET LOCAL client_min_messages = warning;  -- no NOTICE when it is already 0.4
ALTER EXTENSION techmart UPDATE TO '0.4';
RESET client_min_messages;

CREATE VIEW techmart_ops.scoring_latency AS
  SELECT h.scope, h.le_us, h.count, h.cumulative FROM techmart.scoring_latency() h;
COMMENT ON VIEW techmart_ops.scoring_latency IS
  'Histogram of the time the fraud trigger spends per scored row: bucket upper bound le_us (microseconds, '
  'Infinity last), count, cumulative. scope = cluster (shared memory, techmart in shared_preload_libraries) '
  'or backend (the reading session''s rows only: techmart not preloaded). Reset: techmart.scoring_latency_reset()';

CREATE OR REPLACE VIEW techmart_ops.metrics AS
WITH recent AS (
  SELECT t.is_suspicious, t.fraud_reasons
  FROM public.transactions t
  WHERE t.transaction_time >= now() - interval '24 hours' AND t.transaction_time <= now() + interval '1 hour'
), fired AS (
  SELECT r.elem->>'rule' AS rule, count(*) AS n
  FROM recent, LATERAL jsonb_array_elements(recent.fraud_reasons) AS r(elem)
  WHERE jsonb_typeof(r.elem) = 'object' AND coalesce((r.elem->>'contribution')::float8, 0) > 0
  GROUP BY 1
), scoring AS (
  SELECT f.funcname, f.calls, f.total_time, f.self_time
  FROM pg_stat_user_functions f
  WHERE f.schemaname = 'techmart' AND f.funcname IN ('score_transaction', 'score_transaction_flush')
), latency AS MATERIALIZED (  -- one read of the histogram: _count equals the +Inf bucket
  SELECT h.scope, h.le_us, h.cumulative FROM techmart.scoring_latency() h
), latency_sum AS (
  SELECT s.sum_seconds FROM techmart.scoring_latency_summary() s
)
SELECT 'techmart_alerts'::text AS metric,
       jsonb_build_object('type', a.type, 'severity', a.severity, 'status', a.status) AS labels,
       count(*)::float8 AS value, 'Alerts in the table by type, severity and status'::text AS help, 'gauge'::text AS type
  FROM public.alerts a GROUP BY a.type, a.severity, a.status
UNION ALL
SELECT 'techmart_alerts_raised_last_hour', jsonb_build_object('type', a.type, 'severity', a.severity), count(*),
       'Alerts raised in the last hour', 'gauge'
  FROM public.alerts a WHERE a.created_at >= now() - interval '1 hour' GROUP BY a.type, a.severity
UNION ALL
SELECT 'techmart_alerts_raised_last_24h', jsonb_build_object('type', a.type, 'severity', a.severity), count(*),
       'Alerts raised in the last 24 hours', 'gauge'
  FROM public.alerts a WHERE a.created_at >= now() - interval '24 hours' GROUP BY a.type, a.severity
UNION ALL
SELECT 'techmart_rule_fired_last_24h', jsonb_build_object('rule', f.rule), f.n,
       'Transactions of the last 24 hours (by transaction_time) in which the rule contributed to the score', 'gauge'
  FROM fired f
UNION ALL
SELECT 'techmart_transactions_last_24h', jsonb_build_object('suspicious', r.is_suspicious::text), count(*),
       'Transactions of the last 24 hours by verdict', 'gauge'
  FROM recent r GROUP BY r.is_suspicious
UNION ALL
SELECT 'techmart_scoring_calls_total', jsonb_build_object('function', s.funcname), s.calls,
       'Calls of the scoring trigger functions since the statistics reset (track_functions = all)', 'counter'
  FROM scoring s
UNION ALL
SELECT 'techmart_scoring_seconds_total', jsonb_build_object('function', s.funcname), s.self_time / 1000.0,
       'Time spent in the scoring trigger functions themselves (self time), seconds', 'counter'
  FROM scoring s
UNION ALL
SELECT 'techmart_scoring_mean_seconds', jsonb_build_object('function', s.funcname),
       CASE WHEN s.calls > 0 THEN s.self_time / 1000.0 / s.calls ELSE 0 END,
       'Mean self time per call of the scoring trigger functions (the per-row distribution: techmart_scoring_latency_seconds)', 'gauge'
  FROM scoring s
UNION ALL
SELECT 'techmart_table_rows', jsonb_build_object('table', format('%s.%s', st.schemaname, st.relname)), st.n_live_tup,
       'Live rows (statistics estimate) of the main tables', 'gauge'
  FROM pg_stat_user_tables st
  WHERE (st.schemaname, st.relname) IN (('public', 'transactions'), ('public', 'customers'), ('public', 'alerts'),
                                         ('techmart', 'customer_state'), ('public', 'idempotency_keys'),
                                         ('analytics', 'sales_hourly'))
UNION ALL
SELECT 'techmart_database_bytes', '{}'::jsonb, pg_database_size(current_database()),
       'Size of the database', 'gauge'
UNION ALL
SELECT 'techmart_scoring_latency_seconds_bucket',
       jsonb_build_object('le', CASE WHEN l.le_us = 'Infinity' THEN '+Inf' ELSE trim_scale(l.le_us::numeric / 1000000)::text END),
       l.cumulative, 'Time score_transaction() spends per scored row, seconds (cluster-wide when techmart is in shared_preload_libraries, else the answering backend only: techmart_scoring_latency_cluster_wide)', 'histogram'
  FROM latency l
UNION ALL
SELECT 'techmart_scoring_latency_seconds_sum', '{}'::jsonb, s.sum_seconds, 'Time score_transaction() spends per scored row, seconds (cluster-wide when techmart is in shared_preload_libraries, else the answering backend only: techmart_scoring_latency_cluster_wide)', 'histogram'
  FROM latency_sum s
UNION ALL
SELECT 'techmart_scoring_latency_seconds_count', '{}'::jsonb, l.cumulative, 'Time score_transaction() spends per scored row, seconds (cluster-wide when techmart is in shared_preload_libraries, else the answering backend only: techmart_scoring_latency_cluster_wide)', 'histogram'
  FROM latency l WHERE l.le_us = 'Infinity'
UNION ALL
SELECT 'techmart_scoring_latency_cluster_wide', '{}'::jsonb, CASE WHEN l.scope = 'cluster' THEN 1 ELSE 0 END,
       '1 when the scoring latency histogram is cluster-wide (shared memory), 0 when it is the answering backend''s only (techmart not in shared_preload_libraries)', 'gauge'
  FROM latency l WHERE l.le_us = 'Infinity';
COMMENT ON VIEW techmart_ops.metrics IS
  'Database-side figures for monitoring: one row per (metric, labels). techmart_ops.prometheus() renders them';

-- Prometheus text exposition (version 0.0.4) of techmart_ops.metrics; a histogram (type
-- 'histogram', rows <family>_bucket/_sum/_count) is one family
CREATE OR REPLACE FUNCTION techmart_ops.prometheus() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
  WITH m AS (
    SELECT v.*,
           CASE WHEN v.type = 'histogram' THEN regexp_replace(v.metric, '_(bucket|sum|count)$', '') ELSE v.metric END AS family,
           CASE WHEN v.metric LIKE '%\_bucket' THEN 0 WHEN v.metric LIKE '%\_sum' THEN 1 WHEN v.metric LIKE '%\_count' THEN 2 ELSE 0 END
             * CASE WHEN v.type = 'histogram' THEN 1 ELSE 0 END AS part,
           CASE WHEN v.labels ? 'le' THEN (v.labels->>'le')::float8 END AS le
    FROM techmart_ops.metrics v
  ),
  fam AS (SELECT DISTINCT family, help, type FROM m)
  SELECT coalesce(string_agg(block, '' ORDER BY family), '')
  FROM (
    SELECT f.family,
           format(E'# HELP %s %s\n# TYPE %s %s\n', f.family, replace(f.help, E'\n', ' '), f.family, f.type) ||
           (SELECT string_agg(
                     m.metric ||
                     CASE WHEN m.labels = '{}'::jsonb THEN ''
                          ELSE '{' || (SELECT string_agg(format('%s="%s"', k,
                                                 replace(replace(replace(v, E'\\', E'\\\\'), '"', E'\\"'), E'\n', E'\\n')), ',' ORDER BY k)
                                       FROM jsonb_each_text(m.labels) AS l(k, v)) || '}' END ||
                     ' ' || CASE WHEN m.value = trunc(m.value) AND abs(m.value) < 1e15 THEN trunc(m.value)::bigint::text
                                 ELSE to_char(m.value, 'FM9999999990.999999999') END || E'\n',
                     '' ORDER BY m.part, m.le, m.labels::text)
              FROM m WHERE m.family = f.family) AS block
    FROM fam f
  ) b
$$;

REVOKE ALL ON techmart_ops.scoring_latency FROM PUBLIC;
DO $$ BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'techmart_bi') THEN
    GRANT SELECT ON techmart_ops.scoring_latency TO techmart_bi;
  END IF;
END $$;

COMMIT;

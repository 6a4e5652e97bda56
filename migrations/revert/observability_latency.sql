-- Revert techmart:observability_latency from pg
-- The view and prometheus() of the change observability again, and techmart 0.3 (without the
-- scoring latency functions: sql/downgrades/techmart--0.4--0.3.sql).
BEGIN;

DROP VIEW techmart_ops.scoring_latency;

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
       'Mean self time per call of the scoring trigger functions (no histogram: the extension exposes none)', 'gauge'
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
       'Size of the database', 'gauge';

CREATE OR REPLACE FUNCTION techmart_ops.prometheus() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
  WITH m AS (SELECT * FROM techmart_ops.metrics),
  fam AS (SELECT DISTINCT metric, help, type FROM m)
  SELECT coalesce(string_agg(block, '' ORDER BY metric), '')
  FROM (
    SELECT f.metric,
           format(E'# HELP %s %s\n# TYPE %s %s\n', f.metric, replace(f.help, E'\n', ' '), f.metric, f.type) ||
           (SELECT string_agg(
                     m.metric ||
                     CASE WHEN m.labels = '{}'::jsonb THEN ''
                          ELSE '{' || (SELECT string_agg(format('%s="%s"', k,
                                                 replace(replace(replace(v, E'\\', E'\\\\'), '"', E'\\"'), E'\n', E'\\n')), ',' ORDER BY k)
                                       FROM jsonb_each_text(m.labels) AS l(k, v)) || '}' END ||
                     ' ' || CASE WHEN m.value = trunc(m.value) AND abs(m.value) < 1e15 THEN trunc(m.value)::bigint::text
                                 ELSE to_char(m.value, 'FM9999999990.999999999') END || E'\n',
                     '' ORDER BY m.labels::text)
              FROM m WHERE m.metric = f.metric) AS block
    FROM fam f
  ) b
$$;

SET LOCAL client_min_messages = warning;
ALTER EXTENSION techmart UPDATE TO '0.3';

COMMIT;

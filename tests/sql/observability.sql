-- pgTAP: techmart_ops.metrics and techmart_ops.prometheus() (migrations/deploy/observability.sql).
-- Every figure is compared with an independent query over the tables.
BEGIN;
SELECT plan(10);

SELECT has_view('techmart_ops', 'metrics', 'view techmart_ops.metrics');
SELECT has_function('techmart_ops', 'prometheus', ARRAY[]::text[], 'function techmart_ops.prometheus()');

-- the exposition format: HELP/TYPE comments, then name{labels} value
SELECT is_empty($$
  SELECT l FROM regexp_split_to_table(techmart_ops.prometheus(), E'\n') l
  WHERE l <> '' AND l !~ '^# (HELP|TYPE) [a-z_][a-z0-9_]* ' AND l !~ '^[a-z_][a-z0-9_]*(\{[a-z_][a-z0-9_]*="([^"\\]|\\.)*"(,[a-z_][a-z0-9_]*="([^"\\]|\\.)*")*\})? -?[0-9]+(\.[0-9]+)?$'
$$, 'every line of prometheus() is a comment or a sample in the text format');
SELECT is((SELECT count(*)::int FROM regexp_matches(techmart_ops.prometheus(), E'# TYPE ([a-z_][a-z0-9_]*) ', 'g')),
          (SELECT count(DISTINCT CASE WHEN type = 'histogram' THEN regexp_replace(metric, '_(bucket|sum|count)$', '') ELSE metric END)::int
             FROM techmart_ops.metrics), 'one TYPE line per metric family (a histogram''s _bucket/_sum/_count are one)');

-- alerts: the sum over labels equals the table
SELECT is((SELECT sum(value)::bigint FROM techmart_ops.metrics WHERE metric = 'techmart_alerts'),
          (SELECT count(*) FROM alerts), 'techmart_alerts sums to count(*) of alerts');
CREATE TEMP TABLE before_alerts AS
  SELECT coalesce(sum(value), 0) AS v FROM techmart_ops.metrics
  WHERE metric = 'techmart_alerts_raised_last_hour' AND labels = '{"type": "ops_test", "severity": "low"}';
INSERT INTO alerts (type, severity, message) VALUES ('ops_test', 'low', 'observability test');
SELECT is((SELECT coalesce(sum(value), 0) FROM techmart_ops.metrics
            WHERE metric = 'techmart_alerts_raised_last_hour' AND labels = '{"type": "ops_test", "severity": "low"}'),
          (SELECT v + 1 FROM before_alerts), 'a new alert is counted in the last hour, with its labels');

-- rules fired: equal to an independent count over fraud_reasons
SELECT set_eq(
  $$SELECT labels->>'rule', value::bigint FROM techmart_ops.metrics WHERE metric = 'techmart_rule_fired_last_24h'$$,
  $$SELECT r->>'rule', count(*) FROM transactions t, jsonb_array_elements(t.fraud_reasons) r
    WHERE t.transaction_time >= now() - interval '24 hours' AND t.transaction_time <= now() + interval '1 hour'
      AND jsonb_typeof(r) = 'object' AND (r->>'contribution')::float8 > 0 GROUP BY 1$$,
  'techmart_rule_fired_last_24h equals a recount over fraud_reasons');

-- scoring latency needs track_functions = all for this database (set by the change)
SELECT ok((SELECT bool_or(s = 'track_functions=all') FROM pg_db_role_setting d, unnest(d.setconfig) s
            WHERE d.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()) AND d.setrole = 0),
          'track_functions = all is set for the database');

-- privileges: the API may only call prometheus(); BI may read the view
SELECT ok(has_function_privilege('techmart_api', 'techmart_ops.prometheus()', 'EXECUTE')
          AND NOT has_table_privilege('techmart_api', 'techmart_ops.metrics', 'SELECT')
          AND NOT has_function_privilege('public', 'techmart_ops.prometheus()', 'EXECUTE'),
          'techmart_api executes prometheus() only; PUBLIC nothing');
SELECT ok(has_table_privilege('techmart_bi', 'techmart_ops.metrics', 'SELECT'), 'techmart_bi reads the metrics view');

SELECT * FROM finish();
ROLLBACK;

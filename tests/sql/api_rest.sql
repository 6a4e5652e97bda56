-- pgTAP: the REST helpers of the sqitch change api_rest (api.rest_time, api.dashboard_summary,
-- api.fraud_rules, api.update_fraud_rule, api.fraud_geo). Own rows (ids 96xxxx) in 2019, far
-- from the seed data; results compared with independent SQL or the api functions they compose.
BEGIN;
SELECT plan(38);

-- ------------------------------------------------------------------- rest_time
SELECT is(api.rest_time(NULL, 'from'), NULL, 'rest_time: NULL stays NULL');
SELECT is(api.rest_time('2019-06-01', 'from'), '2019-06-01 00:00:00Z'::timestamptz,
          'rest_time: a date is midnight in the business time zone (UTC by default)');
SET LOCAL analytics.business_timezone = 'Europe/Berlin';
SELECT is(api.rest_time('2019-06-01', 'from'), '2019-05-31 22:00:00Z'::timestamptz,
          'rest_time: a date is midnight in the business time zone (Berlin, summer)');
SELECT is(api.rest_time('2019-06-01T12:00:00+02:00', 'from'), '2019-06-01 10:00:00Z'::timestamptz,
          'rest_time: a date-time with offset is taken as given, whatever the business zone');
RESET analytics.business_timezone;
SELECT is(api.rest_time('2019-06-01T12:00Z', 'to'), '2019-06-01 12:00:00Z'::timestamptz, 'rest_time: minutes and Z');
SELECT is(api.rest_time('2019-06-01 12:00:00.125+0530', 'to'), '2019-06-01 06:30:00.125Z'::timestamptz,
          'rest_time: space separator, fractions and a +hhmm offset');
SELECT throws_ok($$SELECT api.rest_time('2019-06-01T12:00:00', 'as_of')$$, '22023', NULL,
                 'rest_time: a date-time without offset is refused (22023)');
SELECT throws_ok($$SELECT api.rest_time('2019-02-30', 'from')$$, '22023', NULL, 'rest_time: 30 February is refused');
SELECT throws_ok($$SELECT api.rest_time('yesterday', 'from')$$, '22023', NULL, 'rest_time: words are refused');
SELECT throws_ok($$SELECT api.rest_time('infinity', 'from')$$, '22023', NULL, 'rest_time: infinity is refused');
CREATE FUNCTION pg_temp.err_detail(q text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE d text;
BEGIN
  EXECUTE q;
  RETURN NULL;
EXCEPTION WHEN invalid_parameter_value THEN
  GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
  RETURN d::jsonb;
END $$;
SELECT is(pg_temp.err_detail($$SELECT api.rest_time('2019-13-01', 'previous_to')$$),
          '{"errors":[{"field":"previous_to","message":"is not a valid date or time"}]}'::jsonb,
          'rest_time: the DETAIL names the query parameter');

-- ------------------------------------------------------------------- dashboard_summary
CREATE TEMP TABLE s AS SELECT api.dashboard_summary('2019-06-10 12:00Z') AS j;
SELECT is((SELECT j->'overview' FROM s), api.dashboard_overview('2019-06-10 12:00Z'),
          'summary: overview is api.dashboard_overview(as_of)');
SELECT is((SELECT jsonb_array_length(j->'hourly_sales') FROM s), 24, 'summary: 24 hourly buckets up to a whole-hour as_of');
SELECT is(jsonb_array_length(api.dashboard_summary('2019-06-10 12:34Z')->'hourly_sales'), 24,
          'summary: 24 hourly buckets up to an as_of inside an hour (the last one partial)');
SELECT is((SELECT j->'hourly_sales' FROM s), api.hourly_sales('2019-06-09 12:00Z', '2019-06-10 12:00Z')->'items',
          'summary: hourly sales are api.hourly_sales of the last 24 hours');
SELECT is((SELECT j->'last_7_days'->'top_products' FROM s),
          api.analytics_top_products('2019-06-03 12:00Z', '2019-06-10 12:00Z', 5)->'items',
          'summary: top 5 products of the last 7 days');
SELECT is((SELECT j->'last_7_days'->'categories' FROM s),
          api.analytics_breakdown('category', '2019-06-03 12:00Z', '2019-06-10 12:00Z', 10)->'items',
          'summary: revenue by category of the last 7 days');
SELECT throws_ok($$SELECT api.dashboard_summary('infinity')$$, '22023', NULL, 'summary: an infinite as_of is refused');

-- ------------------------------------------------------------------- fraud rules
SELECT is((api.fraud_rules()->>'count')::bigint, (SELECT count(*) FROM techmart.rule_config),
          'fraud_rules: one item per row of techmart.rule_config');
SELECT is((SELECT array_agg(e->>'name') FROM jsonb_array_elements(api.fraud_rules()->'items') e),
          (SELECT array_agg(rule ORDER BY rule) FROM techmart.rule_config), 'fraud_rules: sorted by name');
CREATE TEMP TABLE r AS SELECT rule, weight, threshold, enabled FROM techmart.rule_config ORDER BY rule LIMIT 1;
SELECT isnt((SELECT count(*) FROM r), 0::bigint, 'fraud rules: there is a rule to update');
SELECT is((api.update_fraud_rule((SELECT rule FROM r), jsonb_build_object('weight', (SELECT weight FROM r) + 0.25))->>'weight')::float8,
          (SELECT weight FROM r) + 0.25, 'update_fraud_rule: returns the new weight');
SELECT is((SELECT weight FROM techmart.rule_config WHERE rule = (SELECT rule FROM r)), (SELECT weight FROM r) + 0.25,
          'update_fraud_rule: the weight is stored');
SELECT is((SELECT threshold FROM techmart.rule_config WHERE rule = (SELECT rule FROM r)), (SELECT threshold FROM r),
          'update_fraud_rule: fields not given keep their value');
SELECT is((api.update_fraud_rule((SELECT rule FROM r), '{"enabled": false}')->>'enabled')::boolean, false,
          'update_fraud_rule: disables a rule');
SELECT is(api.update_fraud_rule('no_such_rule_' || pg_backend_pid(), '{"weight": 1}'), NULL,
          'update_fraud_rule: NULL for an unknown rule (404)');
SELECT is(pg_temp.err_detail(format($$SELECT api.update_fraud_rule(%L, '{"weight": "heavy", "colour": 1}')$$, (SELECT rule FROM r))),
          '{"errors":[{"field":"colour","message":"is not a known field"},{"field":"weight","message":"must be a number between 0 and 1000"}]}'::jsonb,
          'update_fraud_rule: every field error at once');
SELECT throws_ok(format($$SELECT api.update_fraud_rule(%L, '{"params": [1]}')$$, (SELECT rule FROM r)), '22023', NULL,
                 'update_fraud_rule: params must be an object');
SELECT throws_ok(format($$SELECT api.update_fraud_rule(%L, '{}')$$, (SELECT rule FROM r)), '22023', NULL,
                 'update_fraud_rule: an empty update is refused');
SELECT throws_ok(format($$SELECT api.update_fraud_rule(%L, '[]')$$, (SELECT rule FROM r)), '22023', NULL,
                 'update_fraud_rule: the body must be an object');

-- ------------------------------------------------------------------- fraud geo
INSERT INTO customers (id, email, name, country) VALUES (960001, 'geo1@example.com', 'Geo One', 'DE');
INSERT INTO products (id, sku, name, price, stock_quantity) VALUES (960001, 'GEO-1', 'geo product', 10, 100);
INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, transaction_time, status, payment_method, country, latitude, longitude)
VALUES (960001, 960001, 960001, 1, 10, '2019-06-05 10:00Z', 'completed', 'paypal', 'DE', 52.5, 13.4),
       (960002, 960001, 960001, 2, 10, '2019-06-05 11:00Z', 'completed', 'paypal', 'DE', 48.1, 11.6),
       (960003, 960001, 960001, 1, 10, '2019-06-05 12:00Z', 'failed', 'paypal', 'FR', 48.9, 2.35),
       (960004, 960001, 960001, 1, 10, '2019-06-05 13:00Z', 'completed', 'paypal', 'FR', NULL, NULL),
       (960005, 960001, 960001, 1, 10, '2019-06-06 13:00Z', 'completed', 'paypal', 'FR', 43.3, 5.4);  -- outside the range
UPDATE transactions SET is_suspicious = id IN (960002, 960003, 960004), fraud_score = (id - 960000) * 10
 WHERE id BETWEEN 960001 AND 960005;
CREATE TEMP TABLE g AS SELECT api.fraud_geo('2019-06-05', '2019-06-06', 10) AS j;
SELECT is((SELECT jsonb_agg(e->>'country' ORDER BY e->>'country') FROM g, jsonb_array_elements(j->'countries') e),
          '["DE", "FR"]'::jsonb, 'fraud_geo: one row per country in the range');
SELECT is((SELECT e FROM g, jsonb_array_elements(j->'countries') e WHERE e->>'country' = 'FR')
            - 'latitude' - 'longitude',
          '{"country":"FR","transactions":2,"suspicious":2,"suspicious_rate":1.0000,"average_score":35.00,"revenue":10}'::jsonb,
          'fraud_geo: FR counts, rate, average score, completed revenue');
SELECT is((SELECT (e->>'latitude')::numeric FROM g, jsonb_array_elements(j->'countries') e WHERE e->>'country' = 'DE'),
          50.3000, 'fraud_geo: mean latitude of the country');
SELECT is((SELECT jsonb_agg((e->>'id')::bigint) FROM g, jsonb_array_elements(j->'points') e),
          '[960003, 960002]'::jsonb, 'fraud_geo: points are the suspicious rows with coordinates, highest score first');
SELECT is((SELECT jsonb_array_length(api.fraud_geo('2019-06-05', '2019-06-06', 1)->'points')), 1, 'fraud_geo: limit caps the points');
SELECT throws_ok($$SELECT api.fraud_geo('2019-06-05', '2020-06-06', 10)$$, '22023', NULL, 'fraud_geo: at most 366 days');
SELECT is(pg_temp.err_detail($$SELECT api.fraud_geo('2019-06-06', '2019-06-05', -1)$$),
          '{"errors":[{"field":"to","message":"must not be before from"},{"field":"limit","message":"must be an integer between 0 and 5000"}]}'::jsonb,
          'fraud_geo: range and limit errors together');

-- ------------------------------------------------------------------- privileges
SELECT is((SELECT count(*) FROM pg_proc p
            WHERE p.oid IN ('api.rest_time(text,text)'::regprocedure, 'api.dashboard_summary(timestamptz)'::regprocedure,
                            'api.fraud_rules()'::regprocedure, 'api.update_fraud_rule(text,jsonb)'::regprocedure,
                            'api.fraud_geo(timestamptz,timestamptz,integer,text)'::regprocedure)
              AND has_function_privilege('techmart_api', p.oid, 'EXECUTE')
              AND NOT has_function_privilege('public', p.oid, 'EXECUTE')), 5::bigint,
          'the api_rest functions are executable by techmart_api and not by PUBLIC (fraud_geo: its variant with the caller''s role)');

SELECT * FROM finish();
ROLLBACK;

-- Deploy techmart:api_rest to pg
-- requires: analytics
-- requires: api_hardening
--
-- REST helpers for the analytics routes of techmart-api (api/src/analytics_routes.cpp):
--   api.rest_time(text, text)       query-string time -> timestamptz (a date is midnight in the
--                                   business time zone), 22023 with a field error otherwise
--   api.dashboard_summary(as_of)    GET /api/v1/dashboard/summary
--   api.fraud_rules()               GET /api/v1/fraud/rules            (techmart.rule_config)
--   api.update_fraud_rule(rule, p)  PUT /api/v1/fraud/rules/{name}
--   api.fraud_geo(from, to, limit)  GET /api/v1/fraud/geo              (the map)
-- Every function: SECURITY DEFINER, fixed search_path, EXECUTE only for techmart_api.
BEGIN;

CREATE FUNCTION api.rest_time(p_value text, p_field text)
RETURNS timestamptz
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF p_value IS NULL THEN
    RETURN NULL;
  END IF;
  IF p_value ~ '^\d{4}-\d{2}-\d{2}$' THEN
    RETURN p_value::date::timestamp AT TIME ZONE analytics.business_timezone();
  ELSIF p_value ~ '^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|z|[+-]\d{2}(:?\d{2})?)$' THEN
    RETURN p_value::timestamptz;
  END IF;
  PERFORM api.raise_invalid(api._err(p_field, 'must be a date (YYYY-MM-DD) or a date-time with offset'),
                            'invalid time');
  RETURN NULL;
EXCEPTION
  WHEN datetime_field_overflow OR invalid_datetime_format THEN
    PERFORM api.raise_invalid(api._err(p_field, 'is not a valid date or time'), 'invalid time');
    RETURN NULL;
END $$;
COMMENT ON FUNCTION api.rest_time(text, text) IS
  'A time from a query string: YYYY-MM-DD is midnight in the business time zone, a date-time needs an offset '
  '(Z or +hh:mm); otherwise 22023 with the field error {field: p_field}';

CREATE FUNCTION api.dashboard_summary(p_as_of timestamptz DEFAULT now())
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_overview jsonb := api.dashboard_overview(p_as_of);  -- validates as_of
  v_week_from timestamptz := p_as_of - interval '7 days';
  -- 24 hourly buckets, the last one holding as_of (partial unless as_of is a whole hour)
  v_hours_from timestamptz := date_bin('1 hour', p_as_of - interval '1 microsecond', '2000-01-01Z') - interval '23 hours';
BEGIN
  RETURN jsonb_build_object(
    'as_of', p_as_of,
    'overview', v_overview,
    'hourly_sales', api.hourly_sales(v_hours_from, p_as_of) -> 'items',
    'last_7_days', jsonb_build_object(
      'from', v_week_from, 'to', p_as_of,
      'top_products', api.analytics_top_products(v_week_from, p_as_of, 5) -> 'items',
      'categories', api.analytics_breakdown('category', v_week_from, p_as_of, 10) -> 'items',
      'platforms', api.analytics_breakdown('platform', v_week_from, p_as_of, 10) -> 'items',
      'payment_methods', api.analytics_breakdown('payment_method', v_week_from, p_as_of, 10) -> 'items'));
END $$;
COMMENT ON FUNCTION api.dashboard_summary(timestamptz) IS
  'GET /api/v1/dashboard/summary?as_of=: the overview, hourly sales of the 24 UTC hours up to as_of, and the 7 days '
  'before as_of: top 5 products, revenue by category, platform and payment method (each from the api functions)';

CREATE FUNCTION api.fraud_rules()
RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT jsonb_build_object('items', coalesce(jsonb_agg(jsonb_build_object(
                                        'name', r.rule, 'enabled', r.enabled, 'weight', r.weight,
                                        'threshold', r.threshold, 'params', r.params, 'updated_at', r.updated_at)
                                      ORDER BY r.rule), '[]'),
                            'count', count(*))
    FROM techmart.rule_config r
$$;
COMMENT ON FUNCTION api.fraud_rules() IS
  'GET /api/v1/fraud/rules: every rule of techmart.rule_config {name, enabled, weight, threshold, params, updated_at}';

CREATE FUNCTION api.update_fraud_rule(p_rule text, p jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v jsonb;
BEGIN
  PERFORM api._require_object(p);
  PERFORM api._raise_if(
    api._check_keys(p, ARRAY['enabled', 'weight', 'threshold', 'params'])
    || api._check_bool(p, 'enabled')
    || api._err('weight', CASE WHEN NOT p ? 'weight' THEN NULL
                               WHEN jsonb_typeof(p->'weight') <> 'number' THEN 'must be a number between 0 and 1000'
                               WHEN (p->>'weight')::numeric NOT BETWEEN 0 AND 1000 THEN 'must be a number between 0 and 1000'
                          END)
    || api._err('threshold', CASE WHEN NOT p ? 'threshold' THEN NULL
                                  WHEN jsonb_typeof(p->'threshold') <> 'number' THEN 'must be a number between -1e9 and 1e9'
                                  WHEN abs((p->>'threshold')::numeric) > 1e9 THEN 'must be a number between -1e9 and 1e9'
                             END)
    || api._err('params', CASE WHEN p ? 'params' AND jsonb_typeof(p->'params') <> 'object'
                               THEN 'must be a JSON object' END)
    || api._err('', CASE WHEN p = '{}'::jsonb THEN 'at least one of enabled, weight, threshold, params is required' END),
    'invalid rule update');
  UPDATE techmart.rule_config c
     SET enabled = coalesce((p->>'enabled')::boolean, c.enabled),
         weight = coalesce((p->>'weight')::double precision, c.weight),
         threshold = coalesce((p->>'threshold')::double precision, c.threshold),
         params = coalesce(p->'params', c.params)
   WHERE c.rule = p_rule
  RETURNING jsonb_build_object('name', c.rule, 'enabled', c.enabled, 'weight', c.weight, 'threshold', c.threshold,
                               'params', c.params, 'updated_at', c.updated_at) INTO v;
  RETURN v;  -- NULL: no such rule
END $$;
COMMENT ON FUNCTION api.update_fraud_rule(text, jsonb) IS
  'PUT /api/v1/fraud/rules/{name}: sets enabled/weight/threshold/params of an existing rule (the extension''s '
  'CHECK rule_config_valid judges params; violations are 23514 -> 422); NULL when there is no such rule';

CREATE FUNCTION api.fraud_geo(p_from timestamptz, p_to timestamptz, p_limit integer DEFAULT 500)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  errs jsonb := analytics.range_errors(p_from, p_to, interval '366 days');
  v_countries jsonb;
  v_points jsonb;
BEGIN
  IF p_limit IS NULL OR p_limit < 0 OR p_limit > 5000 THEN
    errs := errs || api._err('limit', 'must be an integer between 0 and 5000');
  END IF;
  PERFORM api._raise_if(errs, 'invalid geo query');
  SELECT coalesce(jsonb_agg(jsonb_build_object(
           'country', c.country, 'transactions', c.n, 'suspicious', c.susp,
           'suspicious_rate', round(c.susp::numeric / c.n, 4), 'average_score', c.avg_score,
           'revenue', c.revenue, 'latitude', c.lat, 'longitude', c.lon) ORDER BY c.susp DESC, c.n DESC, c.country), '[]')
    INTO v_countries
    FROM (SELECT coalesce(t.country, '') AS country, count(*) AS n, count(*) FILTER (WHERE t.is_suspicious) AS susp,
                 round(avg(t.fraud_score), 2) AS avg_score,
                 coalesce(sum(t.amount) FILTER (WHERE t.status = 'completed'), 0) AS revenue,
                 round(avg(t.latitude)::numeric, 4) AS lat, round(avg(t.longitude)::numeric, 4) AS lon
            FROM transactions t
           WHERE t.transaction_time >= p_from AND t.transaction_time < p_to
           GROUP BY 1) c;
  SELECT coalesce(jsonb_agg(jsonb_build_object(
           'id', s.id, 'time', s.transaction_time, 'country', s.country, 'latitude', s.latitude,
           'longitude', s.longitude, 'fraud_score', s.fraud_score, 'amount', s.amount, 'customer_id', s.customer_id)
           ORDER BY s.fraud_score DESC, s.id), '[]')
    INTO v_points
    FROM (SELECT t.* FROM transactions t
           WHERE t.transaction_time >= p_from AND t.transaction_time < p_to AND t.is_suspicious
             AND t.latitude IS NOT NULL AND t.longitude IS NOT NULL
           ORDER BY t.fraud_score DESC, t.id LIMIT p_limit) s;
  RETURN jsonb_build_object('from', p_from, 'to', p_to, 'countries', v_countries,
                            'points', v_points, 'points_limit', p_limit);
END $$;
COMMENT ON FUNCTION api.fraud_geo(timestamptz, timestamptz, integer) IS
  'GET /api/v1/fraud/geo?from=&to=&limit=: per country (transactions, suspicious, rate, average score, revenue, '
  'mean coordinates) and the suspicious transactions with coordinates, highest score first (at most limit)';

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA api FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.rest_time(text, text), api.dashboard_summary(timestamptz), api.fraud_rules(),
                          api.update_fraud_rule(text, jsonb), api.fraud_geo(timestamptz, timestamptz, integer)
   TO techmart_api;

COMMIT;

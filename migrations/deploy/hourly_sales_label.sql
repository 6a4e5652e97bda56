-- Deploy techmart:hourly_sales_label to pg
-- requires: hourly_sales_utc
--
-- Every hourly item the API returns carries the label analytics.sales_series('hour', ...) gives its
-- hour: the local wall-clock time in the business time zone with the UTC offset, ISO 8601 to the
-- minute (analytics.local_time_label: 2026-10-25T02:00+02:00, 2026-10-25T02:00+01:00,
-- 2026-12-07T09:30+05:30). Before, only GET /analytics/revenue?period=hour had it; the items of
-- GET /analytics/hourly-sales (and of /dashboard/summary, which embeds them) and the points of
-- GET /analytics/forecast/revenue had an instant only, so a REST client or the dashboard had to
-- re-derive the shop's local time itself (the dashboard showed UTC hours).
--   * analytics.hourly_sales_items / hourly_sales_json: new entry points of the same library
--     (techmart_hourly_sales_items_label / _json_label, extension/pg/hourly_items.cpp): the UTC
--     hours of change hourly_sales_utc, each item with "label" written in C by the same steps as
--     analytics.local_time_label(hour, p_tz) (timestamptz_zone for the local time and the offset);
--     the answer also carries "timezone": p_tz (as GET /analytics/revenue does). api.hourly_sales
--     passes analytics.business_timezone() as p_tz already: unchanged. The old entry points stay for
--     the revert. The same jsonb as the SQL construction over analytics.sales_series with its label
--     column (tests/sql/hourly_sales_label.sql, hourly_sales_utc.sql, hourly_sales_c.sql).
--   * api.forecast_revenue: every history and forecast point has "label", as analytics.sales_series
--     labels its bucket: an hour its local time with the offset, a day the business day (YYYY-MM-DD;
--     a local day's t is the instant of its local midnight, whose UTC date may be the day before).
-- The extension's version is unchanged.
BEGIN;

CREATE OR REPLACE FUNCTION analytics.hourly_sales_items(p_from timestamptz, p_to timestamptz, p_dim text, p_key text, p_tz text)
RETURNS jsonb
AS '$libdir/techmart', 'techmart_hourly_sales_items_label'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.hourly_sales_items(timestamptz, timestamptz, text, text, text) IS
  'The items of api.hourly_sales (C): the JSON array of {hour, label, revenue, orders, units, transactions, '
  'suspicious, refunded_amount} of the UTC hours from the one containing p_from to before p_to from the rollup rows '
  'of p_dim/p_key, in order — the same jsonb as jsonb_agg(i ORDER BY i.hour) of the rows of '
  'analytics.sales_series(''hour'', p_from, p_to, p_dim, p_key) with p_tz the business time zone (hour in the '
  'session TimeZone, label analytics.local_time_label(hour, p_tz): the local wall-clock time in p_tz with the UTC '
  'offset, numbers as numerics); [] when p_to <= p_from';

CREATE OR REPLACE FUNCTION analytics.hourly_sales_json(p_from timestamptz, p_to timestamptz, p_dimension text, p_key text,
                                            p_lookup_key text, p_tz text)
RETURNS jsonb
AS '$libdir/techmart', 'techmart_hourly_sales_json_label'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION analytics.hourly_sales_json(timestamptz, timestamptz, text, text, text, text) IS
  'The answer of api.hourly_sales (C): jsonb_build_object(''from'', p_from, ''to'', p_to, ''dimension'', p_dimension, '
  '''key'', p_key, ''timezone'', p_tz, ''items'', analytics.hourly_sales_items(p_from, p_to, p_dimension, p_lookup_key, '
  'p_tz), ''count'', the number of items) without taking the items apart again; NULL when an argument other than '
  'p_key is NULL';

CREATE OR REPLACE FUNCTION api.forecast_revenue(p_granularity text, p_horizon integer, p_history integer,
                                     p_level float8, p_as_of timestamptz)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  errs jsonb := '[]';
  v_tz text := analytics.business_timezone();
  v_season int;
  v_step interval;
  v_horizon int;
  v_history int;
  v_max_horizon int;
  v_max_history int;
  v_end_local timestamp;
  v_from timestamptz;
  v_to timestamptz;
  v_ts timestamptz[];
  v_vals float8[];
  v_exact numeric[];
  v_labels text[];
  v_first int;
  v_history_json jsonb;
  v_forecast jsonb;
  v_negative boolean;
BEGIN
  IF p_granularity IS NULL OR p_granularity NOT IN ('day', 'hour') THEN
    errs := errs || '[{"field":"granularity","message":"must be one of day, hour"}]';
    PERFORM analytics.raise_if(errs, 'invalid forecast query');
  END IF;
  v_season := CASE p_granularity WHEN 'day' THEN 7 ELSE 24 END;
  v_step := CASE p_granularity WHEN 'day' THEN interval '1 day' ELSE interval '1 hour' END;
  v_horizon := coalesce(p_horizon, CASE p_granularity WHEN 'day' THEN 14 ELSE 48 END);
  v_history := coalesce(p_history, CASE p_granularity WHEN 'day' THEN 56 ELSE 336 END);
  v_max_horizon := CASE p_granularity WHEN 'day' THEN 90 ELSE 336 END;
  v_max_history := CASE p_granularity WHEN 'day' THEN 1095 ELSE 2208 END;
  IF v_horizon < 1 OR v_horizon > v_max_horizon THEN
    errs := errs || jsonb_build_array(jsonb_build_object('field', 'horizon', 'message',
      'must be between 1 and ' || v_max_horizon || ' (' || p_granularity || 's)'));
  END IF;
  IF v_history < 2 * v_season OR v_history > v_max_history THEN
    errs := errs || jsonb_build_array(jsonb_build_object('field', 'history', 'message',
      'must be between ' || 2 * v_season || ' and ' || v_max_history || ' (' || p_granularity
      || 's; at least two seasons)'));
  END IF;
  IF p_level IS NOT NULL AND NOT (p_level >= 0.5 AND p_level <= 0.999) THEN
    errs := errs || '[{"field":"level","message":"must be between 0.5 and 0.999"}]';
  END IF;
  IF p_as_of IS NULL OR NOT isfinite(p_as_of) THEN
    errs := errs || '[{"field":"as_of","message":"must be a finite time"}]';
  END IF;
  PERFORM analytics.raise_if(errs, 'invalid forecast query');

  -- complete buckets only: the history ends where the bucket containing as_of begins; hours are the
  -- UTC hours of analytics.sales_series('hour', ...) (change hourly_sales_utc: one per hour of time
  -- across DST changes and in zones whose offset is not a whole hour), days local days
  IF p_granularity = 'hour' THEN
    v_to := analytics.hour_floor(p_as_of);
    v_from := v_to - v_history * v_step;
  ELSE
    v_end_local := date_trunc(p_granularity, p_as_of AT TIME ZONE v_tz);
    v_to := v_end_local AT TIME ZONE v_tz;
    v_from := (v_end_local - v_history * v_step) AT TIME ZONE v_tz;
  END IF;
  SELECT array_agg(s.period_start ORDER BY s.period_start), array_agg(s.revenue::float8 ORDER BY s.period_start),
         array_agg(s.revenue ORDER BY s.period_start), array_agg(s.label ORDER BY s.period_start)
    INTO v_ts, v_vals, v_exact, v_labels
    FROM analytics.sales_series(p_granularity, v_from, v_to) s;
  -- a shop that opened inside the window: its history starts at its first sale, not with zeros
  SELECT min(i) INTO v_first FROM generate_subscripts(v_vals, 1) i WHERE v_vals[i] <> 0;
  IF v_first IS NULL OR cardinality(v_vals) - v_first + 1 < 2 * v_season THEN
    PERFORM api.raise_invalid(jsonb_build_array(jsonb_build_object('field', 'history', 'message',
      'not enough sales history before as_of for a forecast: ' ||
      coalesce(cardinality(v_vals) - v_first + 1, 0) || ' ' || p_granularity || 's since the first sale in the window, '
      || 'at least ' || 2 * v_season || ' (two seasons) needed')), 'not enough history for a forecast');
  END IF;
  v_ts := v_ts[v_first:];
  v_vals := v_vals[v_first:];
  v_exact := v_exact[v_first:];
  v_labels := v_labels[v_first:];

  -- each point labelled as analytics.sales_series labels its bucket: an hour its local wall-clock time
  -- with the UTC offset (analytics.local_time_label), a day the business day (YYYY-MM-DD)
  SELECT jsonb_agg(jsonb_build_object('t', x.t, 'label', x.l, 'revenue', x.v) ORDER BY x.o)
    INTO v_history_json
    FROM unnest(v_ts, v_labels, v_exact) WITH ORDINALITY AS x(t, l, v, o);
  -- revenue that never went below 0 in the history is not forecast below 0 either
  SELECT min(v) < 0 INTO v_negative FROM unnest(v_vals) v;
  SELECT jsonb_agg(jsonb_build_object(
           't', CASE WHEN p_granularity = 'hour' THEN v_to + (f.step - 1) * v_step  -- the next UTC hours
                     ELSE (v_end_local + (f.step - 1) * v_step) AT TIME ZONE v_tz END,  -- the next local days
           'label', CASE WHEN p_granularity = 'hour' THEN analytics.local_time_label(v_to + (f.step - 1) * v_step, v_tz)
                         ELSE to_char(v_end_local + (f.step - 1) * v_step, 'YYYY-MM-DD') END,
           'revenue', round((CASE WHEN v_negative THEN f.point ELSE greatest(f.point, 0) END)::numeric, 2),
           'lower', round((CASE WHEN v_negative THEN f.lower ELSE greatest(f.lower, 0) END)::numeric, 2),
           'upper', round((CASE WHEN v_negative THEN f.upper ELSE greatest(f.upper, 0) END)::numeric, 2)) ORDER BY f.step)
    INTO v_forecast
    FROM techmart.forecast(v_vals, v_horizon, v_season, coalesce(p_level, 0.95)) f;
  RETURN jsonb_build_object('granularity', p_granularity, 'season', v_season, 'level', coalesce(p_level, 0.95),
                            'as_of', p_as_of, 'timezone', v_tz, 'model', 'additive Holt-Winters (ETS(A,A,A))',
                            'history', v_history_json, 'forecast', v_forecast);
END $$;
COMMENT ON FUNCTION api.forecast_revenue(text, integer, integer, float8, timestamptz) IS
  'GET /api/v1/analytics/forecast/revenue: revenue of the last `history` complete days of the business time zone '
  'or hours (UTC hours, as analytics.sales_series(''hour'', ...): one per hour of time across DST changes), '
  'from the rollups, zero-filled, starting at the first sale in the window) and the next `horizon` buckets forecast '
  'by techmart.forecast (weekly season for days, daily for hours) with a `level` prediction interval (clamped at 0 '
  'when the history has no negative bucket); '
  '22023 with field errors when fewer than two seasons of history exist. Every point {t, label, ...}: label as '
  'analytics.sales_series labels the bucket (hour: analytics.local_time_label(t, timezone), 2026-10-25T02:00+01:00; '
  'day: the business day, 2026-10-25)';

COMMIT;

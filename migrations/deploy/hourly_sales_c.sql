-- Deploy techmart:hourly_sales_c to pg
-- requires: rollup_registry_c
--
-- api.hourly_sales (issue 4: 30 days of hourly sales with 10,000,000 transactions, median under
-- 5 ms; it was at 4.7 ms) builds its items with analytics.hourly_sales_items (C,
-- extension/pg/hourly_items.cpp) instead of jsonb_agg(i ORDER BY i.hour) of the rows of
-- analytics.sales_series('hour', ...): the same steps (local hours of the business time zone from
-- generate_series, the rollup rows of the range read by one saved SPI plan and summed into their
-- local hour, zero-filled, sorted by hour) by the same server functions (timestamptz_zone,
-- timestamp_trunc, timestamp_pl_interval, timestamp_zone, numeric_add, JsonEncodeDateTime), and one
-- JsonbValue tree serialised once: no executor plan of five nodes and two sorts over 720 rows, no
-- record, to_jsonb, numeric output/input round trip and key sort per row. The same jsonb for every
-- input: keys, numbers (numerics as they are, bigints as numerics of scale 0, NaN and +/-Infinity
-- as strings), hours as to_jsonb writes a timestamptz (the session TimeZone), the order by hour
-- (equal hours included), '[]' and count 0 without hours; the validation and its errors unchanged
-- (tests/sql/hourly_sales_c.sql compares with the old construction). analytics.sales_series
-- itself is unchanged (api.analytics_revenue and the forecasts use it); a change of its hourly
-- semantics must be made in hourly_sales_items too (the pgTAP comparison fails otherwise).
-- api.dashboard_summary (GET /api/v1/dashboard/summary) embeds api.hourly_sales(...) -> 'items' and follows;
-- api.dashboard_overview does not read it (unchanged).
--
-- The C functions are declared here, not in the extension script (the extension's version stays).
BEGIN;

CREATE FUNCTION analytics.hourly_sales_items(p_from timestamptz, p_to timestamptz, p_dim text, p_key text, p_tz text)
RETURNS jsonb
AS '$libdir/techmart', 'techmart_hourly_sales_items'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.hourly_sales_items(timestamptz, timestamptz, text, text, text) IS
  'The items of api.hourly_sales (C): the JSON array of {hour, revenue, orders, units, transactions, suspicious, '
  'refunded_amount} of the hours of the business time zone p_tz over [p_from, p_to) from the rollup rows of '
  'p_dim/p_key, ordered by hour — the same jsonb as jsonb_agg(i ORDER BY i.hour) of the rows of '
  'analytics.sales_series(''hour'', p_from, p_to, p_dim, p_key) with p_tz as the business time zone (hour in the '
  'session TimeZone, numbers as numerics); [] when p_to <= p_from';

CREATE OR REPLACE FUNCTION api.hourly_sales(p_from timestamptz, p_to timestamptz, p_dimension text DEFAULT 'all', p_key text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  errs jsonb := analytics.range_errors(p_from, p_to, interval '366 days');
  v_items jsonb;
BEGIN
  IF p_dimension IS NULL OR p_dimension NOT IN ('all', 'product', 'category', 'country', 'platform', 'payment_method') THEN
    errs := errs || '[{"field":"dimension","message":"must be one of all, product, category, country, platform, payment_method"}]';
  ELSIF p_dimension <> 'all' AND p_key IS NULL THEN
    errs := errs || '[{"field":"key","message":"is required for a dimension other than all"}]';
  END IF;
  PERFORM analytics.raise_if(errs, 'invalid hourly sales query');
  -- C: the same jsonb as the rows of analytics.sales_series('hour', ...) aggregated by jsonb_agg, sorted by hour
  v_items := analytics.hourly_sales_items(p_from, p_to, p_dimension, CASE WHEN p_dimension = 'all' THEN '' ELSE p_key END,
                                          analytics.business_timezone());
  RETURN jsonb_build_object('from', p_from, 'to', p_to, 'dimension', p_dimension, 'key', p_key,
                            'items', v_items, 'count', jsonb_array_length(v_items));
END $$;

COMMIT;

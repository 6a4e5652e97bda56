-- Revert techmart:hourly_sales_json from pg
-- api.hourly_sales as change hourly_sales_c defined it
BEGIN;

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

DROP FUNCTION analytics.hourly_sales_json(timestamptz, timestamptz, text, text, text, text);

COMMIT;

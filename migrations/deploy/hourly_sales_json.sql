-- Deploy techmart:hourly_sales_json to pg
-- requires: hourly_sales_c
--
-- api.hourly_sales returns analytics.hourly_sales_json (C, extension/pg/hourly_items.cpp): the whole
-- answer written at once instead of jsonb_build_object('from', .., 'to', .., 'dimension', .., 'key', ..,
-- 'items', v_items, 'count', jsonb_array_length(v_items)) around analytics.hourly_sales_items:
-- jsonb_build_object takes a jsonb argument apart token by token and serialises it again, which for
-- 720 items cost as much as building them (api.hourly_sales 1.4 ms, the items 0.5 ms of it). The same
-- jsonb (keys in jsonb's order: to, key, from, count, items, dimension; from/to as to_jsonb writes a
-- timestamptz, key null for the shop total without a key, count a number), the validation and its
-- errors unchanged; tests/sql/hourly_sales_c.sql compares the answer with the construction of change
-- overview_rollups. The items themselves are written by the same code as analytics.hourly_sales_items
-- (now the Jsonb bytes directly, as convertToJsonb lays them out, instead of a JsonbValue tree).
--
-- The C function is declared here, not in the extension script (the extension's version stays).
BEGIN;

CREATE FUNCTION analytics.hourly_sales_json(p_from timestamptz, p_to timestamptz, p_dimension text, p_key text,
                                            p_lookup_key text, p_tz text)
RETURNS jsonb
AS '$libdir/techmart', 'techmart_hourly_sales_json'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION analytics.hourly_sales_json(timestamptz, timestamptz, text, text, text, text) IS
  'The answer of api.hourly_sales (C): jsonb_build_object(''from'', p_from, ''to'', p_to, ''dimension'', p_dimension, '
  '''key'', p_key, ''items'', analytics.hourly_sales_items(p_from, p_to, p_dimension, p_lookup_key, p_tz), ''count'', '
  'the number of items) without taking the items apart again; NULL when an argument other than p_key is NULL';

CREATE OR REPLACE FUNCTION api.hourly_sales(p_from timestamptz, p_to timestamptz, p_dimension text DEFAULT 'all', p_key text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  errs jsonb := analytics.range_errors(p_from, p_to, interval '366 days');
BEGIN
  IF p_dimension IS NULL OR p_dimension NOT IN ('all', 'product', 'category', 'country', 'platform', 'payment_method') THEN
    errs := errs || '[{"field":"dimension","message":"must be one of all, product, category, country, platform, payment_method"}]';
  ELSIF p_dimension <> 'all' AND p_key IS NULL THEN
    errs := errs || '[{"field":"key","message":"is required for a dimension other than all"}]';
  END IF;
  PERFORM analytics.raise_if(errs, 'invalid hourly sales query');
  -- C: the same jsonb as jsonb_build_object(... 'items', <the rows of analytics.sales_series('hour', ...)
  -- aggregated by jsonb_agg, sorted by hour>, 'count', <their number>)
  RETURN analytics.hourly_sales_json(p_from, p_to, p_dimension, p_key, CASE WHEN p_dimension = 'all' THEN '' ELSE p_key END,
                                     analytics.business_timezone());
END $$;

COMMIT;

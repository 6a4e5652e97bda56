-- Revert techmart:fraud_geo_rollup from pg
BEGIN;

-- api.fraud_geo as before (every line of the window grouped by country)
CREATE OR REPLACE FUNCTION api.fraud_geo(p_from timestamptz, p_to timestamptz, p_limit integer DEFAULT 500)
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
  'GET /api/v1/fraud/geo?from=&to=&limit=: per country (transactions, suspicious, rate, average score, revenue, mean coordinates) '
  'and the suspicious transactions with coordinates, highest score first (at most limit). Unmasked; the service calls '
  'api.fraud_geo(timestamptz, timestamptz, integer, role)';

DO $do$
DECLARE
  def text := pg_get_functiondef('import.online_retail'::regproc);
BEGIN
  EXECUTE replace(def, $a$'transactions_geo_ins', $a$, '');
  def := pg_get_functiondef('analytics.rollup_rebuild(timestamptz, timestamptz)'::regprocedure);
  def := replace(def, $a$  LOCK TABLE analytics.geo_hourly IN EXCLUSIVE MODE;  -- (change fraud_geo_rollup: the writers' order)$a$ || E'\n', '');
  def := replace(def, E'\n' || $b$  PERFORM analytics.geo_hourly_rebuild(v_from, p_to);  -- (change fraud_geo_rollup)$b$, '');
  EXECUTE def;
END $do$;

DROP FUNCTION analytics.rollup_check(timestamptz, timestamptz);
ALTER FUNCTION analytics.rollup_check_sales(timestamptz, timestamptz) RENAME TO rollup_check;
COMMENT ON FUNCTION analytics.rollup_check(timestamptz, timestamptz) IS
  'Differences between analytics.sales_hourly (summed over slots; customer sketches merged over slots and compared '
  'byte for byte, metric customers_hll showing both estimates) and the GROUP BY recomputation from transactions, '
  'for the whole hours overlapping [p_from, p_to); no row means the rollups are exact';

DROP TRIGGER transactions_geo_ins ON public.transactions;
DROP TRIGGER transactions_geo_upd ON public.transactions;
DROP TRIGGER transactions_geo_del ON public.transactions;
DROP TRIGGER transactions_geo_trunc ON public.transactions;
DROP FUNCTION analytics.geo_hourly_trigger();
DROP FUNCTION analytics.geo_hourly_statement();
DROP FUNCTION analytics.geo_hourly_rebuild(timestamptz, timestamptz);
DROP FUNCTION analytics.geo_hourly_check(timestamptz, timestamptz);
DROP FUNCTION analytics.geo_hourly_recompute(timestamptz, timestamptz);
DROP TABLE analytics.geo_hourly;

COMMIT;

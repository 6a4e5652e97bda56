-- Deploy techmart:fraud_geo_rollup to pg
-- requires: product_sales_daily
-- requires: customer_months_bulk
-- requires: rollup_rebuild_registry_partitions
-- requires: api_viewer_privacy
--
-- GET /fraud/geo (api.fraud_geo) grouped every line of its window by country: 30 days at 5,000,000
-- transactions are 2.7 million lines, 2-3 s alone (bench/RESULTS.md). Its per-country figures now come from
-- analytics.geo_hourly: per (UTC hour, country, slot) the sums the map needs, kept exact by statement triggers
-- with transition tables (transactions_geo_{ins,upd,del,trunc}; C, analytics.geo_hourly_statement(), but for
-- TRUNCATE), written as the hourly rollups are (one upsert per (hour, country) per statement into the slot
-- analytics.rollup_slot(), in key order). A table of its own
-- rather than columns of analytics.sales_hourly: the map's revenue is sum(amount) of completed lines, while
-- sales_hourly's is net of refund rows, and its upkeep in C (rollup_deltas, rollup_apply: a fixed layout
-- checked column by column) stays as it is.
--   transactions, suspicious, completed  lines, lines flagged is_suspicious, completed lines
--   revenue                              sum(amount) of completed lines
--   scored, score_sum                    lines with a fraud_score and the sum of their scores (numeric: exact)
--   located, latitude_e9, longitude_e9   lines with coordinates and the sums of their coordinates in nanodegrees,
--                                        (latitude * 1e9)::bigint (float8 to bigint: rounded half to even)
-- The sums are integers and numerics, so they do not depend on the order of their terms; the map's mean location is
-- defined as round(sum((latitude * 1e9)::bigint) / (located * 1e9), 4) in numeric (it was round(avg(latitude)::numeric,
-- 4), a float sum in the scan's order), the same whether computed from the rollup or from the lines. Nanodegrees
-- (0.1 mm) rather than latitude::numeric: the float8-to-numeric conversion (a printf of 15 digits, then a numeric
-- parse) cost about as much as the rest of the trigger; coordinates with up to 9 decimals are summed exactly either
-- way. The average score is round(sum / scored, 2), which is what avg() computes. api.fraud_geo reads the whole UTC hours of
-- its window from geo_hourly, from the hour of the oldest kept transaction on (retention keeps rollups; the map
-- answers from kept lines as before), and the partial hours at both ends from transactions. The points (the top
-- `limit` suspicious lines with coordinates) are read as before.
-- analytics.rollup_check() lists the differences of geo_hourly with its recomputation too (dim 'country', metrics
-- geo_*); analytics.rollup_rebuild() rebuilds it with the rest (so the import's bulk path and bench/api/scale_db.sh
-- do too): it locks geo_hourly before sales_hourly, the order in which the writers' triggers take them.
BEGIN;

CREATE TABLE analytics.geo_hourly (
  hour timestamptz NOT NULL CHECK (hour = date_bin('1 hour', hour, '2000-01-01 00:00+00')),
  country text NOT NULL,
  slot smallint NOT NULL CHECK (slot BETWEEN 0 AND 7),
  transactions bigint NOT NULL DEFAULT 0,
  suspicious bigint NOT NULL DEFAULT 0,
  completed bigint NOT NULL DEFAULT 0,
  revenue numeric NOT NULL DEFAULT 0,
  scored bigint NOT NULL DEFAULT 0,
  score_sum numeric NOT NULL DEFAULT 0,
  located bigint NOT NULL DEFAULT 0,
  latitude_e9 numeric NOT NULL DEFAULT 0,
  longitude_e9 numeric NOT NULL DEFAULT 0,
  PRIMARY KEY (hour, country, slot)
);
COMMENT ON TABLE analytics.geo_hourly IS
  'The fraud map''s sums per UTC hour and country (change fraud_geo_rollup), additive deltas per slot (a value is the '
  'sum over slots); kept by the transactions_geo_* triggers, checked by analytics.rollup_check(), rebuilt by '
  'analytics.rollup_rebuild()';
COMMENT ON COLUMN analytics.geo_hourly.hour IS 'UTC hour';
COMMENT ON COLUMN analytics.geo_hourly.country IS 'the line''s country, '''' for NULL';
COMMENT ON COLUMN analytics.geo_hourly.slot IS 'the writer''s slot (analytics.rollup_slot()): no single hot row';
COMMENT ON COLUMN analytics.geo_hourly.transactions IS 'lines of any status';
COMMENT ON COLUMN analytics.geo_hourly.suspicious IS 'lines flagged is_suspicious, any status';
COMMENT ON COLUMN analytics.geo_hourly.completed IS 'completed lines';
COMMENT ON COLUMN analytics.geo_hourly.revenue IS 'sum(amount) of completed lines (refund rows not subtracted)';
COMMENT ON COLUMN analytics.geo_hourly.scored IS 'lines with a fraud_score';
COMMENT ON COLUMN analytics.geo_hourly.score_sum IS 'sum(fraud_score)';
COMMENT ON COLUMN analytics.geo_hourly.located IS 'lines with coordinates';
COMMENT ON COLUMN analytics.geo_hourly.latitude_e9 IS
  'sum((latitude * 1e9)::bigint): the coordinates in nanodegrees (exact: independent of the order of the lines)';
COMMENT ON COLUMN analytics.geo_hourly.longitude_e9 IS 'sum((longitude * 1e9)::bigint)';
GRANT SELECT ON analytics.geo_hourly TO techmart_bi;

-- the deltas of a statement's line versions (+1 new, -1 old), one upsert per (hour, country) in key order
CREATE FUNCTION analytics.geo_hourly_trigger() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  r record;
  n integer := 0;
BEGIN
  IF TG_OP = 'INSERT' THEN
    -- a single-row INSERT (POST /transactions): a statement of variables only, whose plan PL/pgSQL keeps
    FOR r IN SELECT x.transaction_time, x.country, x.status, x.amount, x.is_suspicious, x.fraud_score, x.latitude,
                    x.longitude
               FROM new_rows x LIMIT 2 LOOP
      n := n + 1;
    END LOOP;
    IF n = 0 THEN
      RETURN NULL;
    ELSIF n = 1 THEN
      INSERT INTO analytics.geo_hourly AS g (hour, country, slot, transactions, suspicious, completed, revenue, scored,
                                             score_sum, located, latitude_e9, longitude_e9)
      VALUES (analytics.hour_floor(r.transaction_time), coalesce(r.country::text, ''), analytics.rollup_slot(), 1,
              CASE WHEN r.is_suspicious THEN 1 ELSE 0 END, CASE WHEN r.status = 'completed' THEN 1 ELSE 0 END,
              CASE WHEN r.status = 'completed' THEN r.amount ELSE 0 END,
              CASE WHEN r.fraud_score IS NULL THEN 0 ELSE 1 END, coalesce(r.fraud_score, 0),
              CASE WHEN r.latitude IS NULL THEN 0 ELSE 1 END, coalesce((r.latitude * 1000000000::float8)::bigint, 0),
              coalesce((r.longitude * 1000000000::float8)::bigint, 0))
      ON CONFLICT (hour, country, slot) DO UPDATE
         SET transactions = g.transactions + excluded.transactions, suspicious = g.suspicious + excluded.suspicious,
             completed = g.completed + excluded.completed, revenue = g.revenue + excluded.revenue,
             scored = g.scored + excluded.scored, score_sum = g.score_sum + excluded.score_sum,
             located = g.located + excluded.located, latitude_e9 = g.latitude_e9 + excluded.latitude_e9,
             longitude_e9 = g.longitude_e9 + excluded.longitude_e9;
      RETURN NULL;
    END IF;
    INSERT INTO analytics.geo_hourly AS g (hour, country, slot, transactions, suspicious, completed, revenue, scored,
                                           score_sum, located, latitude_e9, longitude_e9)
    SELECT analytics.hour_floor(v.transaction_time), coalesce(v.country::text, ''), analytics.rollup_slot(), count(*),
           count(*) FILTER (WHERE v.is_suspicious), count(*) FILTER (WHERE v.status = 'completed'),
           coalesce(sum(v.amount) FILTER (WHERE v.status = 'completed'), 0),
           count(v.fraud_score), coalesce(sum(v.fraud_score), 0),
           count(v.latitude), coalesce(sum((v.latitude * 1000000000::float8)::bigint), 0), coalesce(sum((v.longitude * 1000000000::float8)::bigint), 0)
      FROM new_rows v
     GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (hour, country, slot) DO UPDATE
       SET transactions = g.transactions + excluded.transactions, suspicious = g.suspicious + excluded.suspicious,
           completed = g.completed + excluded.completed, revenue = g.revenue + excluded.revenue,
           scored = g.scored + excluded.scored, score_sum = g.score_sum + excluded.score_sum,
           located = g.located + excluded.located, latitude_e9 = g.latitude_e9 + excluded.latitude_e9,
           longitude_e9 = g.longitude_e9 + excluded.longitude_e9;
  ELSIF TG_OP = 'UPDATE' THEN
    -- the versions of the lines whose map figures changed (time, country, status, amount, is_suspicious,
    -- fraud_score, location; a label alone writes nothing), old -1, new +1
    WITH v AS (
      SELECT 1 AS s, n.transaction_time, n.country, n.status, n.amount, n.is_suspicious, n.fraud_score, n.latitude,
             n.longitude
        FROM new_rows n
       WHERE NOT EXISTS (SELECT 1 FROM old_rows o
                          WHERE o.id = n.id AND o.transaction_time = n.transaction_time
                            AND o.country IS NOT DISTINCT FROM n.country AND o.status = n.status AND o.amount = n.amount
                            AND o.is_suspicious = n.is_suspicious AND o.fraud_score IS NOT DISTINCT FROM n.fraud_score
                            AND o.latitude IS NOT DISTINCT FROM n.latitude
                            AND o.longitude IS NOT DISTINCT FROM n.longitude)
      UNION ALL
      SELECT -1, n.transaction_time, n.country, n.status, n.amount, n.is_suspicious, n.fraud_score, n.latitude,
             n.longitude
        FROM old_rows n
       WHERE NOT EXISTS (SELECT 1 FROM new_rows o
                          WHERE o.id = n.id AND o.transaction_time = n.transaction_time
                            AND o.country IS NOT DISTINCT FROM n.country AND o.status = n.status AND o.amount = n.amount
                            AND o.is_suspicious = n.is_suspicious AND o.fraud_score IS NOT DISTINCT FROM n.fraud_score
                            AND o.latitude IS NOT DISTINCT FROM n.latitude
                            AND o.longitude IS NOT DISTINCT FROM n.longitude)
    ), d AS (
      SELECT analytics.hour_floor(v.transaction_time) AS hour, coalesce(v.country::text, '') AS country,
             sum(v.s) AS transactions, coalesce(sum(v.s) FILTER (WHERE v.is_suspicious), 0) AS suspicious,
             coalesce(sum(v.s) FILTER (WHERE v.status = 'completed'), 0) AS completed,
             coalesce(sum(v.s * v.amount) FILTER (WHERE v.status = 'completed'), 0) AS revenue,
             coalesce(sum(v.s) FILTER (WHERE v.fraud_score IS NOT NULL), 0) AS scored,
             coalesce(sum(v.s * v.fraud_score), 0) AS score_sum,
             coalesce(sum(v.s) FILTER (WHERE v.latitude IS NOT NULL), 0) AS located,
             coalesce(sum(v.s * (v.latitude * 1000000000::float8)::bigint), 0) AS latitude_e9,
             coalesce(sum(v.s * (v.longitude * 1000000000::float8)::bigint), 0) AS longitude_e9
        FROM v GROUP BY 1, 2
    )
    INSERT INTO analytics.geo_hourly AS g (hour, country, slot, transactions, suspicious, completed, revenue, scored,
                                           score_sum, located, latitude_e9, longitude_e9)
    SELECT d.hour, d.country, analytics.rollup_slot(), d.transactions, d.suspicious, d.completed, d.revenue, d.scored,
           d.score_sum, d.located, d.latitude_e9, d.longitude_e9
      FROM d
     WHERE (d.transactions, d.suspicious, d.completed, d.revenue, d.scored, d.score_sum, d.located, d.latitude_e9,
            d.longitude_e9) <> (0, 0, 0, 0, 0, 0, 0, 0, 0)
     ORDER BY d.hour, d.country
    ON CONFLICT (hour, country, slot) DO UPDATE
       SET transactions = g.transactions + excluded.transactions, suspicious = g.suspicious + excluded.suspicious,
           completed = g.completed + excluded.completed, revenue = g.revenue + excluded.revenue,
           scored = g.scored + excluded.scored, score_sum = g.score_sum + excluded.score_sum,
           located = g.located + excluded.located, latitude_e9 = g.latitude_e9 + excluded.latitude_e9,
           longitude_e9 = g.longitude_e9 + excluded.longitude_e9;
  ELSIF TG_OP = 'DELETE' THEN
    WITH v AS (
      SELECT -1 AS s, n.transaction_time, n.country, n.status, n.amount, n.is_suspicious, n.fraud_score, n.latitude,
             n.longitude
        FROM old_rows n
    ), d AS (
      SELECT analytics.hour_floor(v.transaction_time) AS hour, coalesce(v.country::text, '') AS country,
             sum(v.s) AS transactions, coalesce(sum(v.s) FILTER (WHERE v.is_suspicious), 0) AS suspicious,
             coalesce(sum(v.s) FILTER (WHERE v.status = 'completed'), 0) AS completed,
             coalesce(sum(v.s * v.amount) FILTER (WHERE v.status = 'completed'), 0) AS revenue,
             coalesce(sum(v.s) FILTER (WHERE v.fraud_score IS NOT NULL), 0) AS scored,
             coalesce(sum(v.s * v.fraud_score), 0) AS score_sum,
             coalesce(sum(v.s) FILTER (WHERE v.latitude IS NOT NULL), 0) AS located,
             coalesce(sum(v.s * (v.latitude * 1000000000::float8)::bigint), 0) AS latitude_e9,
             coalesce(sum(v.s * (v.longitude * 1000000000::float8)::bigint), 0) AS longitude_e9
        FROM v GROUP BY 1, 2
    )
    INSERT INTO analytics.geo_hourly AS g (hour, country, slot, transactions, suspicious, completed, revenue, scored,
                                           score_sum, located, latitude_e9, longitude_e9)
    SELECT d.hour, d.country, analytics.rollup_slot(), d.transactions, d.suspicious, d.completed, d.revenue, d.scored,
           d.score_sum, d.located, d.latitude_e9, d.longitude_e9
      FROM d
     WHERE (d.transactions, d.suspicious, d.completed, d.revenue, d.scored, d.score_sum, d.located, d.latitude_e9,
            d.longitude_e9) <> (0, 0, 0, 0, 0, 0, 0, 0, 0)
     ORDER BY d.hour, d.country
    ON CONFLICT (hour, country, slot) DO UPDATE
       SET transactions = g.transactions + excluded.transactions, suspicious = g.suspicious + excluded.suspicious,
           completed = g.completed + excluded.completed, revenue = g.revenue + excluded.revenue,
           scored = g.scored + excluded.scored, score_sum = g.score_sum + excluded.score_sum,
           located = g.located + excluded.located, latitude_e9 = g.latitude_e9 + excluded.latitude_e9,
           longitude_e9 = g.longitude_e9 + excluded.longitude_e9;
  ELSE  -- TRUNCATE
    TRUNCATE analytics.geo_hourly;
  END IF;
  RETURN NULL;
END $$;
COMMENT ON FUNCTION analytics.geo_hourly_trigger() IS
  'Statement trigger of transactions keeping analytics.geo_hourly exact (change fraud_geo_rollup): the TRUNCATE trigger; '
  'its INSERT/UPDATE/DELETE branches (transition tables new_rows/old_rows) are the SQL reference of the C trigger '
  'analytics.geo_hourly_statement()';
REVOKE EXECUTE ON FUNCTION analytics.geo_hourly_trigger() FROM PUBLIC;

-- the reference: geo_hourly recomputed from the lines of the whole UTC hours overlapping [p_from, p_to)
CREATE FUNCTION analytics.geo_hourly_recompute(p_from timestamptz DEFAULT '-infinity', p_to timestamptz DEFAULT 'infinity')
RETURNS TABLE (hour timestamptz, country text, transactions bigint, suspicious bigint, completed bigint, revenue numeric,
               scored bigint, score_sum numeric, located bigint, latitude_e9 numeric, longitude_e9 numeric)
LANGUAGE sql STABLE AS $$
  SELECT analytics.hour_floor(t.transaction_time), coalesce(t.country::text, ''), count(*),
         count(*) FILTER (WHERE t.is_suspicious), count(*) FILTER (WHERE t.status = 'completed'),
         coalesce(sum(t.amount) FILTER (WHERE t.status = 'completed'), 0), count(t.fraud_score),
         coalesce(sum(t.fraud_score), 0), count(t.latitude), coalesce(sum((t.latitude * 1000000000::float8)::bigint), 0),
         coalesce(sum((t.longitude * 1000000000::float8)::bigint), 0)
    FROM public.transactions t
   WHERE t.transaction_time >= analytics.hour_floor(p_from) AND t.transaction_time < analytics.hour_ceil(p_to)
   GROUP BY 1, 2
$$;
COMMENT ON FUNCTION analytics.geo_hourly_recompute(timestamptz, timestamptz) IS
  'analytics.geo_hourly (summed over slots) as recomputed from transactions for the whole UTC hours overlapping [p_from, p_to)';

-- differences with the recomputation, in the shape of analytics.rollup_check (dim 'country', metrics geo_*)
CREATE FUNCTION analytics.geo_hourly_check(p_from timestamptz DEFAULT '-infinity', p_to timestamptz DEFAULT 'infinity')
RETURNS TABLE (dim text, hour timestamptz, key text, metric text, rollup numeric, recomputed numeric)
LANGUAGE sql STABLE AS $$
  WITH a AS (
    SELECT g.hour, g.country,
           ARRAY[sum(g.transactions), sum(g.suspicious), sum(g.completed), sum(g.revenue), sum(g.scored),
                 sum(g.score_sum), sum(g.located), sum(g.latitude_e9), sum(g.longitude_e9)] AS v
      FROM analytics.geo_hourly g
     WHERE g.hour >= analytics.hour_floor(p_from) AND g.hour < analytics.hour_ceil(p_to)
     GROUP BY 1, 2
  ), b AS (
    SELECT r.hour, r.country,
           ARRAY[r.transactions, r.suspicious, r.completed, r.revenue, r.scored, r.score_sum, r.located,
                 r.latitude_e9, r.longitude_e9]::numeric[] AS v
      FROM analytics.geo_hourly_recompute(p_from, p_to) r
  )
  SELECT 'country', coalesce(a.hour, b.hour), coalesce(a.country, b.country), m.name, coalesce(a.v[m.i], 0),
         coalesce(b.v[m.i], 0)
    FROM a FULL JOIN b ON a.hour = b.hour AND a.country = b.country
   CROSS JOIN LATERAL unnest(ARRAY['geo_transactions', 'geo_suspicious', 'geo_completed', 'geo_revenue', 'geo_scored',
                                   'geo_score_sum', 'geo_located', 'geo_latitude_e9', 'geo_longitude_e9'])
         WITH ORDINALITY m(name, i)
   WHERE coalesce(a.v[m.i], 0) <> coalesce(b.v[m.i], 0)
$$;
COMMENT ON FUNCTION analytics.geo_hourly_check(timestamptz, timestamptz) IS
  'Differences between analytics.geo_hourly (summed over slots) and its recomputation from transactions for the whole '
  'hours overlapping [p_from, p_to), in the shape of analytics.rollup_check (which includes them); no row: exact';

-- recompute the whole hours overlapping [p_from, p_to) (analytics.rollup_rebuild calls it, holding the lock)
CREATE FUNCTION analytics.geo_hourly_rebuild(p_from timestamptz DEFAULT '-infinity', p_to timestamptz DEFAULT 'infinity')
RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_from timestamptz := analytics.hour_floor(p_from);
  v_to timestamptz := analytics.hour_ceil(p_to);
  n bigint;
BEGIN
  IF p_from IS NULL OR p_to IS NULL OR p_from > p_to THEN
    PERFORM api.raise_invalid(jsonb_build_array(jsonb_build_object('field', 'to', 'message', 'must be a time after from')),
                              'invalid range');
  END IF;
  -- writers' deltas wait for the recomputation (or it for them: a writer that applied its deltas holds ROW
  -- EXCLUSIVE until it commits, and the recomputation's snapshot, taken after the lock, sees its lines)
  LOCK TABLE analytics.geo_hourly IN EXCLUSIVE MODE;
  DELETE FROM analytics.geo_hourly g WHERE g.hour >= v_from AND g.hour < v_to;
  INSERT INTO analytics.geo_hourly (hour, country, slot, transactions, suspicious, completed, revenue, scored, score_sum,
                                    located, latitude_e9, longitude_e9)
  SELECT r.hour, r.country, 0, r.transactions, r.suspicious, r.completed, r.revenue, r.scored, r.score_sum, r.located,
         r.latitude_e9, r.longitude_e9
    FROM analytics.geo_hourly_recompute(v_from, v_to) r ORDER BY r.hour, r.country;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;
COMMENT ON FUNCTION analytics.geo_hourly_rebuild(timestamptz, timestamptz) IS
  'Recompute analytics.geo_hourly for the whole UTC hours overlapping [p_from, p_to) from transactions; returns the rows '
  'written. analytics.rollup_rebuild() calls it (after a load that bypassed the triggers)';
REVOKE EXECUTE ON FUNCTION analytics.geo_hourly_rebuild(timestamptz, timestamptz) FROM PUBLIC;

-- the same deltas in C (extension/pg/geo_trigger.cpp): the transition tables read directly, the buckets summed in a
-- sorted array, one upsert from arrays with a saved plan. The PL/pgSQL function's GROUP BY cost ~3 us a line (a
-- fifth of the hourly rollups' upkeep, bench/RESULTS.md); it stays the TRUNCATE trigger and the SQL reference of
-- the deltas. Declared here, not in the extension script (the extension's version stays), like rollup_apply.
CREATE FUNCTION analytics.geo_hourly_statement()
RETURNS trigger
AS '$libdir/techmart', 'techmart_geo_hourly_statement'
LANGUAGE C VOLATILE
SECURITY DEFINER SET search_path = public, pg_temp;
COMMENT ON FUNCTION analytics.geo_hourly_statement() IS
  'Statement trigger of INSERT/UPDATE/DELETE on transactions (transition tables): the statement''s deltas of '
  'analytics.geo_hourly per (hour, country), new line versions +1, old ones -1, zero buckets skipped, one upsert in key '
  'order (C; the same deltas as analytics.geo_hourly_trigger(), change fraud_geo_rollup)';
REVOKE EXECUTE ON FUNCTION analytics.geo_hourly_statement() FROM PUBLIC;

DO $$ BEGIN PERFORM analytics.geo_hourly_rebuild(); END $$;

CREATE TRIGGER transactions_geo_ins AFTER INSERT ON public.transactions REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION analytics.geo_hourly_statement();
CREATE TRIGGER transactions_geo_upd AFTER UPDATE ON public.transactions
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics.geo_hourly_statement();
CREATE TRIGGER transactions_geo_del AFTER DELETE ON public.transactions REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION analytics.geo_hourly_statement();
CREATE TRIGGER transactions_geo_trunc AFTER TRUNCATE ON public.transactions
  FOR EACH STATEMENT EXECUTE FUNCTION analytics.geo_hourly_trigger();

-- analytics.rollup_check(): the sales rollups' check (renamed, body unchanged) and geo_hourly's
ALTER FUNCTION analytics.rollup_check(timestamptz, timestamptz) RENAME TO rollup_check_sales;
COMMENT ON FUNCTION analytics.rollup_check_sales(timestamptz, timestamptz) IS
  'Differences between analytics.sales_hourly (summed over slots; customer sketches merged over slots and compared '
  'byte for byte, metric customers_hll showing both estimates) and the GROUP BY recomputation from transactions, '
  'for the whole hours overlapping [p_from, p_to) (part of analytics.rollup_check)';
CREATE FUNCTION analytics.rollup_check(p_from timestamptz DEFAULT '-infinity', p_to timestamptz DEFAULT 'infinity')
RETURNS TABLE (dim text, hour timestamptz, key text, metric text, rollup numeric, recomputed numeric)
LANGUAGE sql STABLE AS $$
  SELECT * FROM analytics.rollup_check_sales(p_from, p_to)
  UNION ALL
  SELECT * FROM analytics.geo_hourly_check(p_from, p_to)
$$;
COMMENT ON FUNCTION analytics.rollup_check(timestamptz, timestamptz) IS
  'Differences between the hourly rollups and their recomputation from transactions for the whole hours overlapping '
  '[p_from, p_to): analytics.sales_hourly (rollup_check_sales) and analytics.geo_hourly (geo_hourly_check, dim country, '
  'metrics geo_*); no row means the rollups are exact';

-- analytics.rollup_rebuild(): geo_hourly locked before sales_hourly (the writers' order: transactions_geo_* fire
-- before transactions_rollup_*) and rebuilt for the same hours. Edited in place (two insertions after lines expected
-- once) so that other changes to the function are kept.
DO $do$
DECLARE
  def text := pg_get_functiondef('analytics.rollup_rebuild(timestamptz, timestamptz)'::regprocedure);
  a text := $a$  LOCK TABLE analytics.sales_hourly, analytics.order_registry IN EXCLUSIVE MODE;$a$;
  b text := $b$  p_to := analytics.hour_ceil(p_to);$b$;
BEGIN
  IF (length(def) - length(replace(def, a, ''))) / length(a) <> 1
     OR (length(def) - length(replace(def, b, ''))) / length(b) <> 1 THEN
    RAISE EXCEPTION 'fraud_geo_rollup: analytics.rollup_rebuild is not as expected'
      USING HINT = 'adapt migrations/deploy/fraud_geo_rollup.sql';
  END IF;
  def := replace(def, a, $a$  LOCK TABLE analytics.geo_hourly IN EXCLUSIVE MODE;  -- (change fraud_geo_rollup: the writers' order)$a$
                         || E'\n' || a);
  def := replace(def, b, b || E'\n' || $b$  PERFORM analytics.geo_hourly_rebuild(v_from, p_to);  -- (change fraud_geo_rollup)$b$);
  EXECUTE def;
END $do$;

-- import.online_retail: the bulk path (session_replication_role = replica) accepts the new INSERT trigger (the
-- rollup rebuild it runs rebuilds geo_hourly). Edited in place as product_sales_daily did.
DO $do$
DECLARE
  def text := pg_get_functiondef('import.online_retail'::regproc);
  a text := $a$tg.tgname NOT IN ($a$;
BEGIN
  IF (length(def) - length(replace(def, a, ''))) / length(a) <> 1 THEN
    RAISE EXCEPTION 'fraud_geo_rollup: import.online_retail is not as expected';
  END IF;
  def := replace(def, a, a || $a$'transactions_geo_ins', $a$);
  EXECUTE def;
END $do$;

-- the map: whole hours from geo_hourly, the partial hours at the ends from transactions
CREATE OR REPLACE FUNCTION api.fraud_geo(p_from timestamptz, p_to timestamptz, p_limit integer DEFAULT 500)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  errs jsonb := analytics.range_errors(p_from, p_to, interval '366 days');
  v_countries jsonb;
  v_points jsonb;
  v_min timestamptz;
  v_lo timestamptz;
  v_lo_h timestamptz;
  v_hi_h timestamptz;
BEGIN
  IF p_limit IS NULL OR p_limit < 0 OR p_limit > 5000 THEN
    errs := errs || api._err('limit', 'must be an integer between 0 and 5000');
  END IF;
  PERFORM api._raise_if(errs, 'invalid geo query');
  -- the rollup's hours from the first whole hour of kept lines in the window (retention keeps rollups of dropped
  -- lines) to the last whole hour; lines before the first and from the last (the window within one hour: all lines)
  SELECT min(t.transaction_time) INTO v_min FROM transactions t;
  v_lo := greatest(p_from, v_min);
  v_lo_h := analytics.hour_ceil(v_lo);
  v_hi_h := greatest(analytics.hour_floor(p_to), v_lo_h);
  IF v_min IS NULL OR v_lo >= p_to THEN
    v_countries := '[]';
  ELSE
    SELECT coalesce(jsonb_agg(jsonb_build_object(
             'country', c.country, 'transactions', c.n, 'suspicious', c.susp,
             'suspicious_rate', round(c.susp::numeric / c.n, 4), 'average_score', c.avg_score,
             'revenue', c.revenue, 'latitude', c.lat, 'longitude', c.lon) ORDER BY c.susp DESC, c.n DESC, c.country), '[]')
      INTO v_countries
      FROM (SELECT x.country, sum(x.n)::bigint AS n, sum(x.susp)::bigint AS susp,
                   round(sum(x.score_sum) / nullif(sum(x.scored), 0), 2) AS avg_score,
                   CASE WHEN sum(x.completed) > 0 THEN sum(x.revenue) ELSE 0 END AS revenue,
                   round(sum(x.lat_sum) / nullif(sum(x.located) * 1000000000, 0), 4) AS lat,
                   round(sum(x.lon_sum) / nullif(sum(x.located) * 1000000000, 0), 4) AS lon
              FROM (SELECT g.country, g.transactions AS n, g.suspicious AS susp, g.completed, g.revenue, g.scored,
                           g.score_sum, g.located, g.latitude_e9 AS lat_sum, g.longitude_e9 AS lon_sum
                      FROM analytics.geo_hourly g
                     WHERE g.hour >= v_lo_h AND g.hour < v_hi_h
                    UNION ALL
                    SELECT coalesce(t.country::text, ''), 1, CASE WHEN t.is_suspicious THEN 1 ELSE 0 END,
                           CASE WHEN t.status = 'completed' THEN 1 ELSE 0 END,
                           CASE WHEN t.status = 'completed' THEN t.amount ELSE 0 END,
                           CASE WHEN t.fraud_score IS NULL THEN 0 ELSE 1 END, coalesce(t.fraud_score, 0),
                           CASE WHEN t.latitude IS NULL THEN 0 ELSE 1 END, coalesce((t.latitude * 1000000000::float8)::bigint, 0),
                           coalesce((t.longitude * 1000000000::float8)::bigint, 0)
                      FROM transactions t
                     WHERE (t.transaction_time >= v_lo AND t.transaction_time < least(v_lo_h, p_to))
                        OR (t.transaction_time >= v_hi_h AND t.transaction_time < p_to)) x
             GROUP BY x.country
            HAVING sum(x.n) > 0) c;
  END IF;
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
  'GET /api/v1/fraud/geo?from=&to=&limit=: per country (transactions, suspicious, rate, average score, revenue, mean '
  'coordinates round(sum((coordinate * 1e9)::bigint) / (n * 1e9), 4)) from analytics.geo_hourly''s whole hours and the lines of the '
  'partial hours at the ends, and the suspicious transactions with coordinates, highest score first (at most limit). '
  'Unmasked; the service calls api.fraud_geo(timestamptz, timestamptz, integer, role)';
REVOKE EXECUTE ON FUNCTION api.fraud_geo(timestamptz, timestamptz, integer) FROM PUBLIC, techmart_api;

COMMIT;

-- techmart 0.6 -> 0.5 (sqitch revert of shadow_scores_deleted, which first drops the triggers on
-- transactions): the 0.5 definitions and comments of explain, entity_risk, local_hour,
-- refresh_priors, rescore / rescore_customers, shadow_scores, without the shadow cleanup functions.
-- The C functions' checks (local_hour's longitude range, rebuild_state(NULL), rescore_customers'
-- open bounds and repeated ids) are in techmart.so and stay.
\echo Use "ALTER EXTENSION techmart UPDATE TO '0.5'" to load this file. \quit
DROP FUNCTION @extschema@.shadow_scores_deleted();
DROP FUNCTION @extschema@.shadow_scores_truncated();
COMMENT ON TABLE @extschema@.shadow_scores IS
  'Scores of the shadow configurations, written by the scoring trigger next to the live score of each inserted '
  'transaction (no alert, no state change)';

CREATE OR REPLACE PROCEDURE @extschema@.rescore(from_time timestamptz, to_time timestamptz,
                                     batch_size integer DEFAULT 500,
                                     INOUT rescored bigint DEFAULT NULL, INOUT changed bigint DEFAULT NULL,
                                     INOUT newly_suspicious bigint DEFAULT NULL,
                                     INOUT no_longer_suspicious bigint DEFAULT NULL,
                                     INOUT batches integer DEFAULT NULL)
-- no SET clause: a procedure with one cannot COMMIT ("invalid transaction termination"); every
-- name in the body is schema-qualified instead (pg_catalog is searched first anyway)
LANGUAGE plpgsql AS $$
DECLARE
  ids bigint[];
  r record;
  last_id bigint := -1;
BEGIN
  IF from_time IS NULL OR to_time IS NULL OR batch_size IS NULL OR batch_size < 1 THEN
    RAISE EXCEPTION 'rescore: from_time, to_time and batch_size >= 1 are required'
      USING ERRCODE = '22023';
  END IF;
  rescored := 0; changed := 0; newly_suspicious := 0; no_longer_suspicious := 0; batches := 0;
  LOOP
    SELECT array_agg(c ORDER BY c) INTO ids FROM (
      SELECT DISTINCT customer_id AS c FROM public.transactions
       WHERE transaction_time >= from_time AND transaction_time < to_time AND customer_id > last_id
       ORDER BY 1 LIMIT batch_size) s;
    EXIT WHEN ids IS NULL;
    r := @extschema@.rescore_customers(ids, from_time, to_time);
    rescored := rescored + r.rescored;
    changed := changed + r.changed;
    newly_suspicious := newly_suspicious + r.newly_suspicious;
    no_longer_suspicious := no_longer_suspicious + r.no_longer_suspicious;
    batches := batches + 1;
    last_id := ids[cardinality(ids)];
    COMMIT;  -- each batch its own transaction: row locks are short, inserts never wait long
  END LOOP;
END $$;
COMMENT ON FUNCTION @extschema@.rescore_customers(bigint[], timestamptz, timestamptz, text) IS
  'Replays the history of the given customers with the current rules and updates fraud_score, '
  'fraud_reasons, is_suspicious of their rows in [from_time, to_time); leaves customer_state alone';

CREATE OR REPLACE FUNCTION @extschema@.refresh_priors(source text DEFAULT 'public.transactions',
                                           products text DEFAULT 'public.products')
RETURNS TABLE (category_id bigint, n bigint, mean float8, sd float8)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  -- concurrent refreshes one after the other (each DELETE then sees the other's committed rows);
  -- scoring reads the priors under ACCESS SHARE, which this lock does not block
  LOCK TABLE @extschema@.amount_prior, @extschema@.hour_prior IN SHARE ROW EXCLUSIVE MODE;
  DELETE FROM @extschema@.amount_prior;
  EXECUTE format(
    'INSERT INTO @extschema@.amount_prior (category_id, n, mean, sd)
     SELECT coalesce(p.category_id, 0), count(*), avg(ln(1 + t.amount::float8)),
            greatest(coalesce(stddev_samp(ln(1 + t.amount::float8)), 0), 0.05)
       FROM %s t JOIN %s p ON p.id = t.product_id
      GROUP BY GROUPING SETS ((p.category_id), ())
     HAVING count(*) >= 2 AND (grouping(p.category_id) = 1 OR p.category_id IS NOT NULL)',
    source::regclass, products::regclass);
  DELETE FROM @extschema@.hour_prior;
  EXECUTE format(
    'INSERT INTO @extschema@.hour_prior (hour, share)
     SELECT h, coalesce(c, 0)::float8 / greatest(sum(coalesce(c, 0)) OVER (), 1)
       FROM generate_series(0, 23) h
       LEFT JOIN (SELECT @extschema@.local_hour(transaction_time,
                                                CASE WHEN latitude IS NOT NULL THEN longitude END) AS hr,
                         count(*) AS c
                    FROM %s GROUP BY 1) x ON x.hr = h', source::regclass);
  IF (SELECT sum(share) FROM @extschema@.hour_prior) = 0 THEN
    DELETE FROM @extschema@.hour_prior;
  END IF;
  RETURN QUERY SELECT a.category_id, a.n, a.mean, a.sd FROM @extschema@.amount_prior a ORDER BY 1;
END $$;

COMMENT ON FUNCTION @extschema@.local_hour(timestamptz, float8) IS
  'Local solar hour 0..23 of ts at longitude lon: the UTC hour shifted by round(lon / 15) (time zone '
  'by longitude, no borders or DST); lon NULL: the UTC hour. The hour the rules rare_hour_customer and '
  'rare_hour_shop, the customers'' hour profiles and hour_prior use';

CREATE OR REPLACE FUNCTION @extschema@.entity_risk(kind text, entity text, at timestamptz DEFAULT now())
RETURNS TABLE (frauds bigint, labelled bigint, shop_frauds bigint, shop_labelled bigint,
               window_days int, prior_strength float8, rate float8, shop_rate float8, lift float8)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  WITH k AS (SELECT * FROM @extschema@.entity_kind ek WHERE ek.kind = entity_risk.kind),
  d AS (SELECT (entity_risk.at AT TIME ZONE 'UTC')::date AS today),
  e AS (SELECT coalesce(sum(c.frauds), 0)::bigint AS f, coalesce(sum(c.labelled), 0)::bigint AS n
          FROM @extschema@.entity_counts c, k, d
         WHERE c.kind = entity_risk.kind AND c.entity = entity_risk.entity
           AND c.day > d.today - k.window_days AND c.day <= d.today),
  s AS (SELECT coalesce(sum(c.frauds), 0)::bigint AS f, coalesce(sum(c.labelled), 0)::bigint AS n
          FROM @extschema@.entity_counts c, k, d
         WHERE c.kind = '*' AND c.entity = '*' AND c.day > d.today - k.window_days AND c.day <= d.today),
  r AS (SELECT e.f, e.n, s.f AS sf, s.n AS sn, k.window_days, k.prior_strength,
               (s.f + 1.0) / (s.n + 2.0) AS p0 FROM e, s, k)
  SELECT r.f, r.n, r.sf, r.sn, r.window_days, r.prior_strength,
         (r.f + r.prior_strength * r.p0) / (r.n + r.prior_strength), r.p0,
         ln(((r.f + r.prior_strength * r.p0) / (r.n + r.prior_strength))
            / (1 - (r.f + r.prior_strength * r.p0) / (r.n + r.prior_strength))) - ln(r.p0 / (1 - r.p0))
    FROM r
$$;
COMMENT ON FUNCTION @extschema@.entity_risk(text, text, timestamptz) IS
  'Counters, smoothed fraud rate and log-odds lift of one entity over the window of its kind, as the entity rule '
  'of a transaction at `at` sees them (all verdicts recorded so far)';

CREATE OR REPLACE FUNCTION @extschema@.explain(transaction_id bigint)
RETURNS TABLE (rule text, observed float8, threshold float8, weight float8, contribution float8, detail text)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  t record;
BEGIN
  SELECT x.fraud_score, x.fraud_reasons, x.is_suspicious INTO t
    FROM public.transactions x WHERE x.id = explain.transaction_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'transaction % does not exist', explain.transaction_id USING ERRCODE = 'P0002';
  END IF;
  RETURN QUERY
    SELECT r.rule, r.observed, r.threshold, r.weight, r.contribution, r.detail
      FROM ROWS FROM (jsonb_to_recordset(t.fraud_reasons)
             AS (rule text, observed float8, threshold float8, weight float8, contribution float8, detail text))
           WITH ORDINALITY AS r(rule, observed, threshold, weight, contribution, detail, o)
     ORDER BY r.o;
  RETURN QUERY SELECT '= score'::text, t.fraud_score::float8,
                      (SELECT value FROM @extschema@.settings WHERE name = 'suspicious_threshold'),
                      NULL::float8, t.fraud_score::float8,
                      CASE WHEN t.fraud_score IS NULL THEN 'not scored (techmart.scoring was off)'
                           WHEN t.is_suspicious THEN 'suspicious: score >= threshold'
                           ELSE 'not suspicious' END;
END $$;
COMMENT ON FUNCTION @extschema@.explain(bigint) IS
  'How a transaction''s score was built: one row per reason as stored (highest contribution first: observed '
  'value, threshold, weight, points contributed, detail), then "= score" with the threshold and verdict';

-- techmart 0.6 -> 0.5 (sqitch revert of shadow_scores_deleted, which first drops the triggers on
-- transactions): the 0.5 definitions and comments of explain, entity_risk, local_hour, fit_weights, label,
-- refresh_priors, rescore / rescore_customers, shadow_scores, without the shadow cleanup functions
-- and rule_config_diagnose/_validate.
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

CREATE OR REPLACE FUNCTION @extschema@.fit_weights(l2 float8 DEFAULT 1.0, apply boolean DEFAULT false)
RETURNS TABLE (item text, before float8, after float8)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
  rules text[];
  thr float8;
  x float8[];
  y boolean[];
  theta float8[];
  d int;
  b0 float8;
  i int;
BEGIN
  SELECT array_agg(c.rule ORDER BY c.rule) INTO rules FROM @extschema@.rule_config c WHERE c.enabled;
  d := coalesce(cardinality(rules), 0);
  IF d = 0 THEN
    RAISE EXCEPTION 'fit_weights: no enabled rule' USING ERRCODE = '22023';
  END IF;
  SELECT value INTO thr FROM @extschema@.settings WHERE name = 'suspicious_threshold';
  thr := coalesce(thr, 70);
  SELECT value INTO b0 FROM @extschema@.settings WHERE name = 'bias';
  b0 := coalesce(b0, -4);
  -- features: max(0, observed - threshold) of each rule as stored in the reasons, 0 when absent
  CREATE TEMP TABLE IF NOT EXISTS pg_temp.fit_rows (id bigint, y boolean, suspicious boolean, xs float8[]) ON COMMIT DROP;
  TRUNCATE pg_temp.fit_rows;
  INSERT INTO pg_temp.fit_rows
  SELECT t.id, t.label = 'fraud', t.is_suspicious,
         (SELECT array_agg(coalesce((SELECT greatest(0, (r ->> 'observed')::float8 - (r ->> 'threshold')::float8)
                                       FROM jsonb_array_elements(t.fraud_reasons) r
                                      WHERE r ->> 'rule' = u.rule LIMIT 1), 0) ORDER BY u.o)
            FROM unnest(rules) WITH ORDINALITY u(rule, o))
    FROM public.transactions t
   WHERE t.label IN ('fraud', 'legitimate') AND t.fraud_score IS NOT NULL;
  IF NOT EXISTS (SELECT 1 FROM pg_temp.fit_rows WHERE fit_rows.y)
     OR NOT EXISTS (SELECT 1 FROM pg_temp.fit_rows WHERE NOT fit_rows.y) THEN
    RAISE EXCEPTION 'fit_weights needs transactions labelled fraud and legitimate'
      USING ERRCODE = '22023', HINT = 'Label some with techmart.label(id, ''fraud''|''legitimate'', note)';
  END IF;
  SELECT array_agg(v ORDER BY f.id, o) INTO x FROM pg_temp.fit_rows f, unnest(f.xs) WITH ORDINALITY AS u(v, o);
  SELECT array_agg(f.y ORDER BY f.id) INTO y FROM pg_temp.fit_rows f;
  theta := @extschema@.fit_logistic(x, d, y, l2, true);

  RETURN QUERY SELECT 'labelled'::text, count(*)::float8, count(*)::float8 FROM pg_temp.fit_rows
               UNION ALL SELECT 'labelled_fraud', count(*) FILTER (WHERE fit_rows.y)::float8,
                                count(*) FILTER (WHERE fit_rows.y)::float8 FROM pg_temp.fit_rows;
  RETURN QUERY
    WITH s AS (
      SELECT f.y, f.suspicious AS fb,
             100 / (1 + exp(-(theta[d + 1] + (SELECT coalesce(sum(theta[o] * v), 0)
                                               FROM unnest(f.xs) WITH ORDINALITY u(v, o))))) >= thr AS fa
        FROM pg_temp.fit_rows f),
    c AS (SELECT count(*) FILTER (WHERE y AND fb) AS tpb, count(*) FILTER (WHERE NOT y AND fb) AS fpb,
                 count(*) FILTER (WHERE y AND fa) AS tpa, count(*) FILTER (WHERE NOT y AND fa) AS fpa,
                 count(*) FILTER (WHERE y) AS pos FROM s)
    SELECT 'precision', tpb::float8 / nullif(tpb + fpb, 0), tpa::float8 / nullif(tpa + fpa, 0) FROM c
    UNION ALL SELECT 'recall', tpb::float8 / nullif(pos, 0), tpa::float8 / nullif(pos, 0) FROM c;
  RETURN QUERY SELECT 'bias', b0, theta[d + 1];
  RETURN QUERY SELECT 'weight:' || u.rule, c.weight, theta[u.o::int]
                 FROM unnest(rules) WITH ORDINALITY u(rule, o)
                 JOIN @extschema@.rule_config c ON c.rule = u.rule ORDER BY u.o;
  IF apply THEN
    FOR i IN 1 .. d LOOP
      UPDATE @extschema@.rule_config SET weight = theta[i] WHERE rule_config.rule = rules[i];
    END LOOP;
    INSERT INTO @extschema@.settings (name, value, description)
    VALUES ('bias', greatest(-50, least(50, theta[d + 1])), 'fitted by techmart.fit_weights()');
  END IF;
END $$;

CREATE OR REPLACE FUNCTION @extschema@.label(transaction_id bigint, label text, note text DEFAULT NULL,
                                  labelled_at timestamptz DEFAULT now())
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v record;
BEGIN
  IF label IS NULL OR label NOT IN ('fraud', 'legitimate', 'unknown') THEN
    RAISE EXCEPTION 'label must be fraud, legitimate or unknown, got %', coalesce(label, 'NULL')
      USING ERRCODE = '22023';
  END IF;
  IF labelled_at IS NULL OR NOT isfinite(labelled_at) OR labelled_at > now() THEN
    RAISE EXCEPTION 'labelled_at must be a finite time not in the future, got %', coalesce(labelled_at::text, 'NULL')
      USING ERRCODE = '22023';
  END IF;
  PERFORM 1 FROM public.transactions x WHERE x.id = label.transaction_id FOR NO KEY UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'transaction % does not exist', label.transaction_id USING ERRCODE = 'P0002';
  END IF;
  INSERT INTO public.transaction_labels (transaction_id, label, labelled_at, note)
  VALUES (label.transaction_id, label.label, label.labelled_at, label.note);
  -- transactions.label/labelled_at: the current verdict (the latest by labelled_at)
  SELECT l.label, l.labelled_at INTO v FROM public.transaction_labels l
   WHERE l.transaction_id = label.transaction_id ORDER BY l.labelled_at DESC, l.id DESC LIMIT 1;
  UPDATE public.transactions x
     SET label = v.label, labelled_at = CASE WHEN v.label = 'unknown' THEN NULL ELSE v.labelled_at END
   WHERE x.id = label.transaction_id;
END $$;

-- IF EXISTS: a database made by an earlier build of 0.6 (before 21-rule-config-diagnose) goes back too
DROP TRIGGER IF EXISTS rule_config_validate ON @extschema@.rule_config;
DROP FUNCTION IF EXISTS @extschema@.rule_config_validate();
DROP FUNCTION IF EXISTS @extschema@.rule_config_diagnose(text, float8, float8, jsonb);

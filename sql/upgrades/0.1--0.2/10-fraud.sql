-- ---------------------------------------------------------------------------------------
-- 10-fraud: the complete fraud engine (docs/fraud.md): every rule of SPEC section 2, the
-- per-statement state cache with its flush trigger, priors, risk lists, explain, rescore,
-- labels, fit_weights, rebuild_state.

-- ------------------------------------------------------------------ per-customer state
ALTER TABLE @extschema@.customer_state
  ADD COLUMN amount_hist  int4[]  NOT NULL DEFAULT '{}',
  ADD COLUMN recent_t     float8[] NOT NULL DEFAULT '{}',
  ADD COLUMN recent_a     float8[] NOT NULL DEFAULT '{}',
  ADD COLUMN hour_profile float8[] NOT NULL DEFAULT '{}',
  ADD COLUMN profile_time float8  NOT NULL DEFAULT 0,
  ADD COLUMN last_lat     float8,
  ADD COLUMN last_lon     float8,
  ADD COLUMN last_country text,
  ADD COLUMN methods      int4    NOT NULL DEFAULT 0,
  ADD COLUMN risk         float8  NOT NULL DEFAULT 0 CHECK (risk >= 0 AND risk < 'Infinity'),
  ADD COLUMN risk_time    float8  NOT NULL DEFAULT 0,
  ADD CONSTRAINT customer_state_arrays CHECK (
        cardinality(amount_hist) IN (0, 64) AND cardinality(hour_profile) IN (0, 24)
    AND cardinality(recent_t) = cardinality(recent_a) AND cardinality(recent_t) <= 32);
COMMENT ON TABLE @extschema@.customer_state IS
  'Fraud state of each customer, kept by the scoring trigger under a row lock (written back once per '
  'statement): Welford n/mean/m2 of log1p(amount); amount_hist = counts of log1p(amount) in bins of 0.25 '
  '(robust median/MAD); recent_t/recent_a = the 32 latest transactions by time (epoch seconds, amount) '
  'for the velocity windows; hour_profile = time-decayed weights of local solar hours (local_hour) at profile_time; last_* = '
  'the latest transaction by time; methods = bitmask of payment methods; risk = decayed cumulative excess '
  'score at risk_time (customers.risk_score = 100 * (1 - exp(-risk))). techmart.rebuild_state() recomputes it.';

-- ------------------------------------------------------------------------ settings
ALTER TABLE @extschema@.settings DROP CONSTRAINT settings_name_check;
ALTER TABLE @extschema@.settings
  ADD CONSTRAINT settings_name_check CHECK (name IN (
    'suspicious_threshold', 'reason_min_contribution', 'bias', 'hour_half_life_days',
    'risk_half_life_days', 'risk_floor')),
  ADD CONSTRAINT settings_bias_range CHECK (name <> 'bias' OR value BETWEEN -50 AND 50),
  ADD CONSTRAINT settings_half_life_range
    CHECK (name NOT IN ('hour_half_life_days', 'risk_half_life_days') OR value > 0 AND value <= 36500),
  ADD CONSTRAINT settings_risk_floor_range CHECK (name <> 'risk_floor' OR (value >= 0 AND value < 100));
INSERT INTO @extschema@.settings (name, value, description) VALUES
  ('bias', -4, 'logit of the score with no evidence: score = 100 * logistic(bias + sum weight * max(0, observed - threshold))'),
  ('hour_half_life_days', 90, 'a customer''s hour-of-day profile forgets with this half-life (days)'),
  ('risk_half_life_days', 30, 'customers.risk_score forgets with this half-life (days)'),
  ('risk_floor', 50, 'scores above this add (score - floor) / (100 - floor) to the customer''s cumulative risk');

-- ------------------------------------------------------------------- risk lists
CREATE TABLE @extschema@.risk_list (
  kind       text NOT NULL CONSTRAINT risk_list_kind CHECK (kind IN ('country', 'payment_method')),
  value      text NOT NULL,
  note       text,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (kind, value),
  CONSTRAINT risk_list_country_code CHECK (kind <> 'country' OR value ~ '^[A-Z]{2}$'),
  CONSTRAINT risk_list_payment_method CHECK (kind <> 'payment_method' OR value ~ '^[a-z_]{1,40}$')
);
COMMENT ON TABLE @extschema@.risk_list IS
  'High-risk countries (ISO alpha-2, upper case) and payment methods, read by the rules high_risk_country '
  'and high_risk_method at the start of each statement';
INSERT INTO @extschema@.risk_list (kind, value, note) VALUES
  ('payment_method', 'crypto', 'irreversible, no chargeback');

-- ------------------------------------------------------------------------- priors
CREATE TABLE @extschema@.amount_prior (
  category_id  bigint PRIMARY KEY CHECK (category_id >= 0),
  n            bigint NOT NULL CHECK (n >= 0),
  mean         float8 NOT NULL CHECK (mean > '-Infinity' AND mean < 'Infinity'),
  sd           float8 NOT NULL CHECK (sd > 0 AND sd < 'Infinity'),
  refreshed_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE @extschema@.amount_prior IS
  'Mean and sd of log1p(amount) of the population (category_id 0) and per product category; the prior '
  'amount_zscore shrinks a customer toward. Written by techmart.refresh_priors()';
CREATE TABLE @extschema@.hour_prior (
  hour  int PRIMARY KEY CHECK (hour BETWEEN 0 AND 23),
  share float8 NOT NULL CHECK (share >= 0 AND share <= 1)
);
COMMENT ON TABLE @extschema@.hour_prior IS
  'Share of the shop''s transactions per local solar hour (techmart.local_hour of time and longitude; '
  'rule rare_hour_shop, and the smoothing prior of rare_hour_customer). Written by techmart.refresh_priors()';
GRANT SELECT ON @extschema@.risk_list, @extschema@.amount_prior, @extschema@.hour_prior TO PUBLIC;

CREATE FUNCTION @extschema@.local_hour(ts timestamptz, lon float8 DEFAULT NULL)
RETURNS int LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'techmart_local_hour';
COMMENT ON FUNCTION @extschema@.local_hour(timestamptz, float8) IS
  'Local solar hour 0..23 of ts at longitude lon: the UTC hour shifted by round(lon / 15) (time zone '
  'by longitude, no borders or DST); lon NULL: the UTC hour. The hour the rules rare_hour_customer and '
  'rare_hour_shop, the customers'' hour profiles and hour_prior use';

CREATE FUNCTION @extschema@.refresh_priors(source text DEFAULT 'public.transactions',
                                           products text DEFAULT 'public.products')
RETURNS TABLE (category_id bigint, n bigint, mean float8, sd float8)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
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
COMMENT ON FUNCTION @extschema@.refresh_priors(text, text) IS
  'Recomputes amount_prior (population + per category) and hour_prior from the transactions; the next '
  'statement scores with them';

-- --------------------------------------------------------------------- the rules
-- amount_zscore keeps a DBA's values; the 0.1 defaults move to the 0.2 combination
UPDATE @extschema@.rule_config SET weight = 1.2, threshold = 2.5
 WHERE rule = 'amount_zscore' AND weight = 1.5 AND threshold = 3;
INSERT INTO @extschema@.rule_config (rule, enabled, weight, threshold, params) VALUES
  ('velocity_10m', true, 1.5, 3, '{"window_s": 600}'),
  ('velocity_1h', true, 0.8, 6, '{"window_s": 3600}'),
  ('velocity_24h', true, 0.3, 15, '{"window_s": 86400}'),
  ('spend_24h', true, 0.3, 10, '{"window_s": 86400}'),
  ('card_testing', true, 2.0, 2, '{"window_s": 600, "small_amount": 5}'),
  ('amount_robust', true, 1.0, 3, '{"prior_mean": 4.0, "prior_sd": 1.2, "prior_weight": 5, "min_history": 5}'),
  ('amount_vs_list', true, 2.0, 0.4, '{}'),
  ('foreign_country', true, 1.5, 0.5, '{}'),
  ('impossible_travel', true, 3.0, 1, '{"max_kmh": 900, "min_km": 100, "min_elapsed_s": 60, "cap": 10}'),
  ('high_risk_country', true, 4.0, 0.5, '{}'),
  ('rare_hour_customer', true, 1.5, 1.4, '{"smoothing": 4, "min_history": 5, "spread": 0.5}'),
  ('rare_hour_shop', true, 0.5, 1.4, '{}'),
  ('young_account', true, 1.0, 1, '{"young_days": 30, "large_amount": 500, "cap": 20}'),
  ('new_payment_method', true, 2.0, 0.5, '{"min_history": 3}'),
  ('high_risk_method', true, 2.0, 0.5, '{}');

-- ------------------------------------------------------------------ the insert path
CREATE FUNCTION @extschema@.score_transaction_flush() RETURNS trigger
  AS 'MODULE_PATHNAME', 'techmart_score_transaction_flush'
  LANGUAGE C;
COMMENT ON FUNCTION @extschema@.score_transaction_flush() IS
  'AFTER INSERT FOR EACH STATEMENT companion of score_transaction(): writes back the customer states the '
  'statement changed (once per customer), customers.risk_score, and the alerts of suspicious rows';
COMMENT ON FUNCTION @extschema@.score_transaction() IS
  'BEFORE INSERT FOR EACH ROW: validates the row (23502, 23514, 23503 for unknown customer/product), fills '
  'amount, scores it from the customer''s state before the row (rules of rule_config), sets fraud_score, '
  'fraud_reasons, is_suspicious. With score_transaction_flush() attached the state is written once per '
  'statement, else per row. SET techmart.scoring = off skips scoring (then rebuild_state())';

-- -------------------------------------------------------------------- functions
CREATE FUNCTION @extschema@.rebuild_state(source text DEFAULT 'public.transactions')
RETURNS bigint
  AS 'MODULE_PATHNAME', 'techmart_rebuild_state'
  LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.rebuild_state(text) IS
  'Recomputes every customer''s state and risk_score from the transactions in one pass (time order, '
  'stored scores), exactly as scoring row by row leaves it; locks the table against inserts meanwhile. '
  'Returns the number of customers with state';

CREATE FUNCTION @extschema@.rescore_customers(customer_ids bigint[], from_time timestamptz,
                                              to_time timestamptz,
                                              source text DEFAULT 'public.transactions',
                                              OUT rescored bigint, OUT changed bigint,
                                              OUT newly_suspicious bigint,
                                              OUT no_longer_suspicious bigint)
  AS 'MODULE_PATHNAME', 'techmart_rescore_customers'
  LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.rescore_customers(bigint[], timestamptz, timestamptz, text) IS
  'Replays the history of the given customers with the current rules and updates fraud_score, '
  'fraud_reasons, is_suspicious of their rows in [from_time, to_time); leaves customer_state alone';

CREATE PROCEDURE @extschema@.rescore(from_time timestamptz, to_time timestamptz,
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
COMMENT ON PROCEDURE @extschema@.rescore(timestamptz, timestamptz, integer, bigint, bigint, bigint, bigint, integer) IS
  'CALL techmart.rescore(from, to, batch_size): re-scores public.transactions in [from, to) with the current '
  'rules, batch_size customers per committed transaction; reports rows rescored, scores changed, newly '
  'suspicious, no longer suspicious, batches';

CREATE FUNCTION @extschema@.explain(transaction_id bigint)
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

CREATE FUNCTION @extschema@.label(transaction_id bigint, label text, note text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF label IS NULL OR label NOT IN ('fraud', 'legitimate', 'unknown') THEN
    RAISE EXCEPTION 'label must be fraud, legitimate or unknown, got %', coalesce(label, 'NULL')
      USING ERRCODE = '22023';
  END IF;
  UPDATE public.transactions x
     SET label = label.label, labelled_at = CASE WHEN label.label = 'unknown' THEN NULL ELSE now() END
   WHERE x.id = label.transaction_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'transaction % does not exist', label.transaction_id USING ERRCODE = 'P0002';
  END IF;
  INSERT INTO public.transaction_labels (transaction_id, label, note)
  VALUES (label.transaction_id, label.label, label.note);
END $$;
COMMENT ON FUNCTION @extschema@.label(bigint, text, text) IS
  'An analyst''s verdict: appends to transaction_labels and sets transactions.label/labelled_at';

CREATE FUNCTION @extschema@.fit_logistic(features float8[], n_features integer, labels boolean[],
                                         l2 float8 DEFAULT 1.0, non_negative boolean DEFAULT true)
RETURNS float8[]
  AS 'MODULE_PATHNAME', 'techmart_fit_logistic'
  LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fit_logistic(float8[], integer, boolean[], float8, boolean) IS
  'L2-regularised logistic regression (Newton): features = n rows x n_features, row-major; returns the '
  'weights followed by the bias. Deterministic';

CREATE FUNCTION @extschema@.fit_weights(l2 float8 DEFAULT 1.0, apply boolean DEFAULT false)
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
COMMENT ON FUNCTION @extschema@.fit_weights(float8, boolean) IS
  'Fits the weights of the enabled rules and the bias to the analysts'' labels (transactions.label fraud / '
  'legitimate; features max(0, observed - threshold) from the stored reasons) by L2-regularised logistic '
  'regression; shows precision and recall at suspicious_threshold before (stored verdicts) and after, and '
  'the weights; writes them to rule_config/settings only with apply => true';

SELECT pg_catalog.pg_extension_config_dump('@extschema@.risk_list', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.amount_prior', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.hour_prior', '');

-- ---------------------------------------------------------------------------------------
-- 41-entity-backtest: candidate configurations (docs/entity-risk.md, "Backtests").
-- A configuration is jsonb: {"rules": {"<rule>": {"enabled", "weight", "threshold", "params"}},
-- "entity": {"<kind>": {"enabled", "window_days", "prior_strength", "min_labelled", "weight",
-- "threshold"}}, "settings": {"bias", "suspicious_threshold"}}, each part overriding the live
-- configuration (rule_config, settings); '{}' is the live configuration.

CREATE FUNCTION @extschema@.config_resolve(config jsonb,
                                           OUT rules text[], OUT enabled boolean[], OUT weights float8[],
                                           OUT thresholds float8[], OUT params jsonb[],
                                           OUT bias float8, OUT suspicious_threshold float8)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  bad text;
BEGIN
  IF config IS NULL OR jsonb_typeof(config) <> 'object' THEN
    RAISE EXCEPTION 'a configuration must be a JSON object' USING ERRCODE = '22023';
  END IF;
  SELECT string_agg(k, ', ') INTO bad FROM jsonb_object_keys(config) k
   WHERE k NOT IN ('rules', 'entity', 'settings');
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION 'unknown configuration keys: % (rules, entity, settings)', bad USING ERRCODE = '22023';
  END IF;
  IF EXISTS (SELECT 1 FROM jsonb_each(coalesce(config -> 'rules', '{}')) r
              WHERE NOT EXISTS (SELECT 1 FROM @extschema@.rule_config c WHERE c.rule = r.key)
                 OR jsonb_typeof(r.value) <> 'object')
     OR EXISTS (SELECT 1 FROM jsonb_each(coalesce(config -> 'entity', '{}')) e
                 WHERE NOT EXISTS (SELECT 1 FROM @extschema@.entity_kind k WHERE k.kind = e.key)
                    OR jsonb_typeof(e.value) <> 'object')
     OR EXISTS (SELECT 1 FROM jsonb_object_keys(coalesce(config -> 'settings', '{}')) s
                 WHERE s NOT IN ('bias', 'suspicious_threshold')) THEN
    RAISE EXCEPTION 'unknown rule, entity kind or setting in the configuration %', config USING ERRCODE = '22023';
  END IF;
  WITH merged AS (
    SELECT c.rule,
           coalesce((r.v ->> 'enabled')::boolean, (e.v ->> 'enabled')::boolean, c.enabled) AS en,
           coalesce((r.v ->> 'weight')::float8, (e.v ->> 'weight')::float8, c.weight) AS w,
           coalesce((r.v ->> 'threshold')::float8, (e.v ->> 'threshold')::float8, c.threshold) AS t,
           c.params || coalesce(r.v -> 'params', '{}')
             || coalesce((SELECT jsonb_object_agg(x.key, x.value) FROM jsonb_each(e.v) x
                           WHERE x.key IN ('window_days', 'prior_strength', 'min_labelled')), '{}') AS p
      FROM @extschema@.rule_config c
      LEFT JOIN LATERAL (SELECT config -> 'rules' -> c.rule AS v) r ON true
      LEFT JOIN LATERAL (SELECT config -> 'entity' -> substr(c.rule, 8) AS v
                          WHERE c.rule LIKE 'entity\_%') e ON true)
  SELECT array_agg(m.rule ORDER BY m.rule), array_agg(m.en ORDER BY m.rule), array_agg(m.w ORDER BY m.rule),
         array_agg(m.t ORDER BY m.rule), array_agg(m.p ORDER BY m.rule),
         string_agg(m.rule, ', ') FILTER (WHERE NOT coalesce(@extschema@.rule_config_is_valid(m.rule, m.w, m.t, m.p), false))
    INTO rules, enabled, weights, thresholds, params, bad
    FROM merged m;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION 'invalid rule configuration in %: %', config, bad USING ERRCODE = '22023';
  END IF;
  bias := coalesce((config #>> '{settings,bias}')::float8,
                   (SELECT s.value FROM @extschema@.settings s WHERE s.name = 'bias'), -4);
  suspicious_threshold := coalesce((config #>> '{settings,suspicious_threshold}')::float8,
                                   (SELECT s.value FROM @extschema@.settings s WHERE s.name = 'suspicious_threshold'), 70);
  IF NOT (bias BETWEEN -50 AND 50) OR NOT (suspicious_threshold BETWEEN 0 AND 100) THEN
    RAISE EXCEPTION 'bias must be in [-50, 50] and suspicious_threshold in [0, 100]' USING ERRCODE = '22023';
  END IF;
EXCEPTION WHEN invalid_text_representation THEN
  RAISE EXCEPTION 'a value of the configuration % has the wrong type', config USING ERRCODE = '22023';
END $$;
COMMENT ON FUNCTION @extschema@.config_resolve(jsonb) IS
  'The live configuration (rule_config, settings) with a candidate''s overrides applied and validated (22023)';

CREATE FUNCTION @extschema@._replay(rules text[], enabled boolean[], weights float8[], thresholds float8[],
                                    params jsonb[], from_time timestamptz, to_time timestamptz,
                                    top_k integer, bias float8, suspicious_threshold float8)
RETURNS float8[]
  AS 'MODULE_PATHNAME', 'techmart_replay'
  LANGUAGE C STABLE;
REVOKE ALL ON FUNCTION @extschema@._replay(text[], boolean[], float8[], float8[], jsonb[], timestamptz,
                                           timestamptz, integer, float8, float8) FROM PUBLIC;

CREATE FUNCTION @extschema@.backtest(config jsonb, from_time timestamptz, to_time timestamptz,
                                     top_k integer DEFAULT 10)
RETURNS TABLE (metric text, live float8, candidate float8, stored float8)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  l record;
  c record;
  a float8[];
  b float8[];
  names text[] := ARRAY['transactions', 'labelled', 'frauds', 'precision', 'recall', 'f1', 'roc_auc',
                        'average_precision', 'top_k_share', 'top_k_precision', 'suspicious'];
BEGIN
  IF from_time IS NULL OR to_time IS NULL OR NOT from_time < to_time THEN
    RAISE EXCEPTION 'backtest needs from_time < to_time' USING ERRCODE = '22023';
  END IF;
  IF top_k IS NULL OR top_k < 1 THEN
    RAISE EXCEPTION 'top_k must be >= 1' USING ERRCODE = '22023';
  END IF;
  l := @extschema@.config_resolve('{}');
  c := @extschema@.config_resolve(config);
  a := @extschema@._replay(l.rules, l.enabled, l.weights, l.thresholds, l.params, from_time, to_time, top_k,
                           l.bias, l.suspicious_threshold);
  b := @extschema@._replay(c.rules, c.enabled, c.weights, c.thresholds, c.params, from_time, to_time, top_k,
                           c.bias, c.suspicious_threshold);
  RETURN QUERY SELECT n.name, a[n.i::int], b[n.i::int], a[n.i::int + 11]
                 FROM unnest(names) WITH ORDINALITY n(name, i) ORDER BY n.i;
END $$;
COMMENT ON FUNCTION @extschema@.backtest(jsonb, timestamptz, timestamptz, integer) IS
  'Replays [from_time, to_time) in time order with a candidate configuration and with the live one (customer '
  'state rebuilt from the history, entity counters from the verdicts with labelled_at < each transaction''s time) '
  'and compares them with the current verdicts: precision, recall, F1 at the threshold, ROC AUC, average precision, '
  'share of frauds (and precision) in the top_k per day; "stored" = the stored scores. Writes nothing';

CREATE FUNCTION @extschema@._replay_scores(rules text[], enabled boolean[], weights float8[], thresholds float8[],
                                           params jsonb[], from_time timestamptz, to_time timestamptz,
                                           bias float8, suspicious_threshold float8)
RETURNS TABLE (transaction_id bigint, score float8, stored_score float8)
  AS 'MODULE_PATHNAME', 'techmart_replay_scores'
  LANGUAGE C STABLE ROWS 10000;
REVOKE ALL ON FUNCTION @extschema@._replay_scores(text[], boolean[], float8[], float8[], jsonb[], timestamptz,
                                                  timestamptz, float8, float8) FROM PUBLIC;

CREATE FUNCTION @extschema@.backtest_scores(config jsonb, from_time timestamptz, to_time timestamptz)
RETURNS TABLE (transaction_id bigint, score float8, stored_score float8)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  c record;
BEGIN
  IF from_time IS NULL OR to_time IS NULL OR NOT from_time < to_time THEN
    RAISE EXCEPTION 'backtest_scores needs from_time < to_time' USING ERRCODE = '22023';
  END IF;
  c := @extschema@.config_resolve(config);
  RETURN QUERY SELECT * FROM @extschema@._replay_scores(c.rules, c.enabled, c.weights, c.thresholds, c.params,
                                                        from_time, to_time, c.bias, c.suspicious_threshold);
END $$;
COMMENT ON FUNCTION @extschema@.backtest_scores(jsonb, timestamptz, timestamptz) IS
  'The replayed score of every transaction of [from_time, to_time) under a configuration (as backtest() computes '
  'it: verdicts known at each moment only) next to its stored score, in time order. Writes nothing';

CREATE FUNCTION @extschema@._ranking_metrics(scores float8[], is_fraud boolean[], days integer[], top_k integer,
                                             threshold float8)
RETURNS float8[]
  AS 'MODULE_PATHNAME', 'techmart_ranking_metrics'
  LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.ranking_metrics(scores float8[], is_fraud boolean[], days integer[],
                                            top_k integer DEFAULT 10, threshold float8 DEFAULT 70)
RETURNS TABLE (metric text, value float8)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
  SELECT n.name, m.v[n.i::int]
    FROM (SELECT @extschema@._ranking_metrics(scores, is_fraud, days, top_k, threshold) AS v) m,
         unnest(ARRAY['transactions', 'labelled', 'frauds', 'precision', 'recall', 'f1', 'roc_auc',
                      'average_precision', 'top_k_share', 'top_k_precision', 'suspicious'])
           WITH ORDINALITY n(name, i)
   ORDER BY n.i
$$;
COMMENT ON FUNCTION @extschema@.ranking_metrics(float8[], boolean[], integer[], integer, float8) IS
  'The figures of backtest() for given scores, truths and days: precision, recall, F1 at threshold, ROC AUC, '
  'average precision, share of frauds and precision among the top_k scores of each day';

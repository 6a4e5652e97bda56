-- ---------------------------------------------------------------------------------------
-- 15-fit-weights-null: techmart.fit_weights(NULL) returned every fitted weight and the bias as
-- NULL (fit_logistic is STRICT) and fit_weights(NULL, apply => true) then failed on rule_config's
-- NOT NULL with 23502 'null value in column "weight"'; apply => NULL silently meant false. Both
-- are now 22004 before anything is read; a second call in one transaction no longer prints
-- NOTICE 'relation "fit_rows" already exists, skipping'.
-- A rule that contributes to no labelled transaction (its feature is 0 in every labelled row: it
-- never fired there, or stayed under reason_min_contribution) has no evidence for its weight: the
-- regularised fit drove it to 0 and apply => true wrote that 0 — a rare rule (impossible_travel,
-- high_risk_country) was switched off by a fit on a few labels. Such rules are now left out of
-- the fit and keep their weight (after = before). The rest is the 0.2 body.

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
  seen boolean[];
  k int;
  fitted float8[];
BEGIN
  IF l2 IS NULL OR apply IS NULL THEN
    RAISE EXCEPTION 'fit_weights: l2 and apply must not be NULL' USING ERRCODE = '22004',
      HINT = 'techmart.fit_weights(l2 => 1, apply => false) shows the fit; apply => true writes it.';
  END IF;
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
  IF to_regclass('pg_temp.fit_rows') IS NULL THEN  -- no NOTICE "already exists" at a second call in a transaction
    CREATE TEMP TABLE pg_temp.fit_rows (id bigint, y boolean, suspicious boolean, xs float8[]) ON COMMIT DROP;
  END IF;
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
  -- only the rules with evidence: a feature > 0 in some labelled row; the others keep their weight
  seen := ARRAY(SELECT EXISTS (SELECT 1 FROM pg_temp.fit_rows f WHERE f.xs[u.o] > 0)
                  FROM generate_series(1, d) u(o) ORDER BY u.o);
  k := cardinality(array_positions(seen, true));
  IF k = 0 THEN
    RAISE EXCEPTION 'fit_weights: no enabled rule contributes to any labelled transaction, nothing to fit'
      USING ERRCODE = '22023',
            HINT = 'Label transactions the rules flagged, or set reason_min_contribution to 0 and rescore (weaker reasons are not stored).';
  END IF;
  SELECT array_agg(v ORDER BY f.id, o) INTO x
    FROM pg_temp.fit_rows f, unnest(f.xs) WITH ORDINALITY AS u(v, o) WHERE seen[o];
  SELECT array_agg(f.y ORDER BY f.id) INTO y FROM pg_temp.fit_rows f;
  fitted := @extschema@.fit_logistic(x, k, y, l2, true);
  theta := ARRAY(SELECT CASE WHEN seen[u.o] THEN fitted[cardinality(array_positions(seen[1:u.o], true))]
                             ELSE (SELECT c.weight FROM @extschema@.rule_config c WHERE c.rule = rules[u.o]) END
                   FROM generate_series(1, d) u(o) ORDER BY u.o) || fitted[k + 1];

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
      CONTINUE WHEN NOT seen[i];  -- no evidence: the weight stays
      UPDATE @extschema@.rule_config SET weight = theta[i] WHERE rule_config.rule = rules[i];
    END LOOP;
    INSERT INTO @extschema@.settings (name, value, description)
    VALUES ('bias', greatest(-50, least(50, theta[d + 1])), 'fitted by techmart.fit_weights()');
  END IF;
END $$;

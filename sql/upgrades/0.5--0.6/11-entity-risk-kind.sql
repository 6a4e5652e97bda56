-- ---------------------------------------------------------------------------------------
-- 11-entity-risk-kind: techmart.entity_risk('nokind', ...) returned no row, as if the entity had no
-- history: an unknown kind (a typo, 'ip_address' for 'ip') is now 22023 naming the valid kinds of
-- entity_kind; a NULL kind, entity or time is 22004 (a NULL time counted nothing and a NULL entity
-- looked like an entity without verdicts). Same result otherwise (the query is unchanged); PARALLEL SAFE (it only reads).

CREATE OR REPLACE FUNCTION @extschema@.entity_risk(kind text, entity text, at timestamptz DEFAULT now())
RETURNS TABLE (frauds bigint, labelled bigint, shop_frauds bigint, shop_labelled bigint,
               window_days int, prior_strength float8, rate float8, shop_rate float8, lift float8)
LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF entity_risk.kind IS NULL OR entity_risk.entity IS NULL OR entity_risk.at IS NULL THEN
    RAISE EXCEPTION 'entity_risk: kind, entity and at must not be NULL' USING ERRCODE = '22004';
  END IF;
  IF NOT EXISTS (SELECT FROM @extschema@.entity_kind ek WHERE ek.kind = entity_risk.kind) THEN
    RAISE EXCEPTION 'entity_risk: unknown entity kind "%"', entity_risk.kind USING ERRCODE = '22023',
      DETAIL = (SELECT 'Valid kinds: ' || string_agg(ek.kind, ', ' ORDER BY ek.kind) || '.'
                  FROM @extschema@.entity_kind ek);
  END IF;
  IF NOT isfinite(entity_risk.at) THEN
    RAISE EXCEPTION 'entity_risk: at must be a finite time, got %', entity_risk.at USING ERRCODE = '22023';
  END IF;
  RETURN QUERY
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
         ((r.f + r.prior_strength * r.p0) / (r.n + r.prior_strength))::float8, r.p0::float8,
         (ln(((r.f + r.prior_strength * r.p0) / (r.n + r.prior_strength))
            / (1 - (r.f + r.prior_strength * r.p0) / (r.n + r.prior_strength))) - ln(r.p0 / (1 - r.p0)))::float8
    FROM r;
END $$;
COMMENT ON FUNCTION @extschema@.entity_risk(text, text, timestamptz) IS
  'Counters, smoothed fraud rate and log-odds lift of one entity over the window of its kind, as the entity rule '
  'of a transaction at `at` sees them (all verdicts recorded so far). Unknown kind: 22023 naming the valid ones '
  '(view entity_kind); NULL argument: 22004';

-- ---------------------------------------------------------------------------------------
-- 10-explain-null: techmart.explain(NULL) said P0002 "transaction <NULL> does not exist". A NULL id
-- is a caller's mistake (an unbound parameter, a failed lookup), not a missing transaction: it is
-- now 22004 saying so. Not STRICT: no rows would look like "nothing to explain" (api.fraud_explain
-- never passes NULL: it checks the id exists first). PARALLEL SAFE: it only reads.
-- The "= score" row showed the current suspicious_threshold next to the verdict stored when the row
-- was scored: after a change of the threshold it read "suspicious: score >= threshold" under a
-- threshold the score is below. It now says when the stored verdict and the current threshold
-- disagree (until CALL techmart.rescore updates the verdict).

CREATE OR REPLACE FUNCTION @extschema@.explain(transaction_id bigint)
RETURNS TABLE (rule text, observed float8, threshold float8, weight float8, contribution float8, detail text)
LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  t record;
  thr float8;
BEGIN
  IF explain.transaction_id IS NULL THEN
    RAISE EXCEPTION 'explain: the transaction id must not be NULL' USING ERRCODE = '22004';
  END IF;
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
  thr := (SELECT value FROM @extschema@.settings WHERE name = 'suspicious_threshold');
  RETURN QUERY SELECT '= score'::text, t.fraud_score::float8, thr, NULL::float8, t.fraud_score::float8,
                      CASE WHEN t.fraud_score IS NULL THEN 'not scored (techmart.scoring was off)'
                           WHEN t.is_suspicious AND t.fraud_score >= thr THEN 'suspicious: score >= threshold'
                           WHEN t.is_suspicious THEN 'suspicious when scored; below the current threshold (rescore to update)'
                           WHEN t.fraud_score >= thr THEN 'not suspicious when scored; at or above the current threshold (rescore to update)'
                           ELSE 'not suspicious' END;
END $$;
COMMENT ON FUNCTION @extschema@.explain(bigint) IS
  'How a transaction''s score was built: one row per reason as stored (highest contribution first: observed '
  'value, threshold, weight, points contributed, detail), then "= score" with the current threshold and the stored '
  'verdict (saying so when they disagree since a threshold change). Unknown id: P0002; NULL: 22004';

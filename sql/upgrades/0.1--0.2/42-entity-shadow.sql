-- ---------------------------------------------------------------------------------------
-- 42-entity-shadow: configurations scored alongside the live one on every insert
-- (docs/entity-risk.md, "Shadow"). Stored apart, never alerting; compared by shadow_compare()
-- (the view public.shadow_comparison of the sqitch change entity_shadow).

CREATE TABLE @extschema@.shadow_config (
  name       text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]{0,62}$'),
  config     jsonb NOT NULL,
  active     boolean NOT NULL DEFAULT true,
  note       text,
  created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE @extschema@.shadow_config IS
  'Shadow configurations (the format of backtest(): rules / entity / settings overrides of the live configuration). '
  'Each active one (at most 8) scores every inserted transaction from the same state into shadow_scores';
GRANT SELECT ON @extschema@.shadow_config TO PUBLIC;

CREATE FUNCTION @extschema@.shadow_config_check() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM @extschema@.config_resolve(NEW.config);  -- 22023 on an invalid configuration
  IF NEW.active AND (SELECT count(*) FROM @extschema@.shadow_config s
                      WHERE s.active AND s.name <> NEW.name) >= 8 THEN
    RAISE EXCEPTION 'at most 8 active shadow configurations' USING ERRCODE = '54000';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER shadow_config_check BEFORE INSERT OR UPDATE ON @extschema@.shadow_config
  FOR EACH ROW EXECUTE FUNCTION @extschema@.shadow_config_check();
CREATE TRIGGER config_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.shadow_config
  FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.bump_config_version();

CREATE TABLE @extschema@.shadow_scores (
  transaction_id bigint NOT NULL,
  name           text NOT NULL,
  score          numeric(5,2) NOT NULL CHECK (score BETWEEN 0 AND 100),
  is_suspicious  boolean NOT NULL,
  reasons        jsonb NOT NULL,
  scored_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (transaction_id, name)
);
CREATE INDEX shadow_scores_name_idx ON @extschema@.shadow_scores (name, transaction_id);
COMMENT ON TABLE @extschema@.shadow_scores IS
  'Scores of the shadow configurations, written by the scoring trigger next to the live score of each inserted '
  'transaction (no alert, no state change)';
GRANT SELECT ON @extschema@.shadow_scores TO PUBLIC;

CREATE FUNCTION @extschema@.shadow_compare()
RETURNS TABLE (name text, scored bigint, live_suspicious bigint, shadow_suspicious bigint,
               both_suspicious bigint, labelled bigint, frauds bigint,
               live_precision float8, shadow_precision float8, live_recall float8, shadow_recall float8,
               mean_score_difference float8, first_scored timestamptz, last_scored timestamptz)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT s.name, count(*), count(*) FILTER (WHERE t.is_suspicious), count(*) FILTER (WHERE s.is_suspicious),
         count(*) FILTER (WHERE t.is_suspicious AND s.is_suspicious),
         count(*) FILTER (WHERE t.label IN ('fraud', 'legitimate')), count(*) FILTER (WHERE t.label = 'fraud'),
         (count(*) FILTER (WHERE t.is_suspicious AND t.label = 'fraud'))::float8
           / nullif(count(*) FILTER (WHERE t.is_suspicious AND t.label IN ('fraud', 'legitimate')), 0),
         (count(*) FILTER (WHERE s.is_suspicious AND t.label = 'fraud'))::float8
           / nullif(count(*) FILTER (WHERE s.is_suspicious AND t.label IN ('fraud', 'legitimate')), 0),
         (count(*) FILTER (WHERE t.is_suspicious AND t.label = 'fraud'))::float8
           / nullif(count(*) FILTER (WHERE t.label = 'fraud'), 0),
         (count(*) FILTER (WHERE s.is_suspicious AND t.label = 'fraud'))::float8
           / nullif(count(*) FILTER (WHERE t.label = 'fraud'), 0),
         avg(s.score - t.fraud_score)::float8, min(s.scored_at), max(s.scored_at)
    FROM @extschema@.shadow_scores s JOIN public.transactions t ON t.id = s.transaction_id
   GROUP BY s.name ORDER BY s.name
$$;
COMMENT ON FUNCTION @extschema@.shadow_compare() IS
  'Per shadow configuration: rows scored, suspicious live / shadow / both, and precision and recall of each against '
  'the current verdicts, mean score difference (shadow - live)';
-- Not registered with pg_extension_config_dump (tests/sql/core_functions.sql pins the dumped set):
-- after a pg_dump/restore run SELECT techmart.entity_rebuild() and re-create shadow_config rows.

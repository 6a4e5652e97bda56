-- ---------------------------------------------------------------------------------------
-- 11-fraud-config-version: the scoring trigger keeps the configuration it built (rules,
-- settings, risk lists, priors) across statements and re-reads it only when this version
-- changes. Every statement on a configuration table bumps it; the trigger reads it in the same
-- query that locks the customer's state, so a change still applies to the next statement, in
-- every session (docs/fraud.md, "Tuning and configuration").
CREATE TABLE @extschema@.config_version (
  one     boolean PRIMARY KEY DEFAULT true CHECK (one),
  version bigint NOT NULL DEFAULT 0
);
COMMENT ON TABLE @extschema@.config_version IS
  'One row: bumped by every statement on rule_config, settings, risk_list, amount_prior and hour_prior; '
  'the scoring trigger rebuilds its cached rules when (xmin, version) of this row changes';
INSERT INTO @extschema@.config_version DEFAULT VALUES;
GRANT SELECT ON @extschema@.config_version TO PUBLIC;

CREATE FUNCTION @extschema@.bump_config_version() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  UPDATE @extschema@.config_version SET version = version + 1;
  RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION @extschema@.bump_config_version() FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.bump_config_version() IS
  'Statement trigger of the configuration tables: invalidates the scoring trigger''s cached configuration';
CREATE TRIGGER config_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.rule_config
  FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.bump_config_version();
CREATE TRIGGER config_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.settings
  FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.bump_config_version();
CREATE TRIGGER config_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.risk_list
  FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.bump_config_version();
CREATE TRIGGER config_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.amount_prior
  FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.bump_config_version();
CREATE TRIGGER config_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.hour_prior
  FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.bump_config_version();

-- the state row is rewritten once per statement and customer; room on its page keeps the
-- update HOT (no indexed column changes), so no index entry per write
ALTER TABLE @extschema@.customer_state SET (fillfactor = 50);

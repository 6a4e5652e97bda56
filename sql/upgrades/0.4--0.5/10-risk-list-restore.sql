-- ---------------------------------------------------------------------------------------
-- 10-risk-list-restore: pg_dump / pg_restore of techmart.risk_list. The table is registered with
-- pg_extension_config_dump (all rows) and ships a default row (payment_method crypto): on restore,
-- CREATE EXTENSION re-creates that row and the dumped rows' COPY then failed on it (23505
-- "duplicate key value violates unique constraint risk_list_pkey"), so the whole table's data was
-- not restored — every high-risk country a DBA had added was lost (and pg_restore --exit-on-error
-- or --single-transaction failed). Like rule_config and settings since 0.1, an INSERT of an
-- existing (kind, value) now replaces its note and created_at (config_insert_replaces()), so the
-- dumped rows overwrite the default. A default row the DBA had deleted comes back on restore, as
-- for rule_config (re-delete it).

CREATE OR REPLACE FUNCTION @extschema@.config_insert_replaces() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF TG_TABLE_NAME = 'rule_config' THEN
    UPDATE @extschema@.rule_config
       SET enabled = NEW.enabled, weight = NEW.weight, threshold = NEW.threshold, params = NEW.params
     WHERE rule = NEW.rule;
  ELSIF TG_TABLE_NAME = 'risk_list' THEN
    UPDATE @extschema@.risk_list
       SET note = NEW.note, created_at = NEW.created_at
     WHERE kind = NEW.kind AND value = NEW.value;
  ELSE
    UPDATE @extschema@.settings
       SET value = NEW.value, description = coalesce(NEW.description, description)
     WHERE name = NEW.name;
  END IF;
  IF FOUND THEN
    RETURN NULL;  -- replaced the existing row
  END IF;
  RETURN NEW;
END
$$;
COMMENT ON FUNCTION @extschema@.config_insert_replaces() IS
  'BEFORE INSERT on rule_config, settings and risk_list: an INSERT of an existing key replaces the row''s values '
  '(so pg_restore''s COPY of the dumped rows overwrites the default rows CREATE EXTENSION made)';

CREATE TRIGGER risk_list_insert_replaces BEFORE INSERT ON @extschema@.risk_list
  FOR EACH ROW EXECUTE FUNCTION @extschema@.config_insert_replaces();
COMMENT ON TABLE @extschema@.risk_list IS
  'High-risk countries (ISO alpha-2, upper case) and payment methods, read by the rules high_risk_country '
  'and high_risk_method at the start of each statement. INSERT of an existing (kind, value) replaces its note';

-- ---------------------------------------------------------------------------------------
-- 21-rule-config-diagnose: a bad value in techmart.rule_config was refused with only 'new row for
-- relation "rule_config" violates check constraint "rule_config_valid"' — which value, and why,
-- was the DBA's guess; and a misspelt parameter (params || '{"window": 300}' for window_s) was
-- accepted and silently had no effect (the entity rules refused one, the fraud rules ignored it).
-- rule_config_diagnose() (C: the core's RuleRegistry::diagnose) tells the reason and which
-- parameters the rule reads; the BEFORE INSERT OR UPDATE trigger rule_config_validate raises the
-- reason (still 23514, constraint rule_config_valid, which stays as the last word) and WARNs about
-- parameters the rule does not read, naming its parameters. A warning, not an error: a row stored
-- before 0.6 with such a key still restores (pg_restore) and updates. A rule unknown to this version
-- (a later one's) is still accepted when its numbers are sound.

CREATE FUNCTION @extschema@.rule_config_diagnose(rule text, weight float8, threshold float8, params jsonb,
                                                 OUT known boolean, OUT problem text,
                                                 OUT reads text[], OUT unread text[])
RETURNS record
  AS 'MODULE_PATHNAME', 'techmart_rule_config_diagnose'
  LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.rule_config_diagnose(text, float8, float8, jsonb) IS
  'What a rule_config row means to this version: known (a rule of this version), problem (why it is invalid, '
  'NULL when valid: the reason behind CHECK rule_config_valid), reads (the parameters the rule reads), unread '
  '(the given parameters it does not read: they have no effect)';

CREATE FUNCTION @extschema@.rule_config_validate() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  d record;
  names text[];
BEGIN
  IF NEW.rule IS NULL OR NEW.weight IS NULL OR NEW.threshold IS NULL OR NEW.params IS NULL THEN
    RETURN NEW;  -- the NOT NULL constraints report it
  END IF;
  IF TG_OP = 'UPDATE' AND (NEW.rule, NEW.weight, NEW.threshold, NEW.params)
                          IS NOT DISTINCT FROM (OLD.rule, OLD.weight, OLD.threshold, OLD.params) THEN
    RETURN NEW;  -- e.g. only enabled changed
  END IF;
  d := @extschema@.rule_config_diagnose(NEW.rule, NEW.weight, NEW.threshold, NEW.params);
  IF d.known THEN
    names := (@extschema@.rule_config_diagnose(NEW.rule, 1, 0, '{}')).reads;
  END IF;
  IF d.problem IS NOT NULL THEN
    RAISE EXCEPTION 'invalid rule configuration: %',
                    CASE WHEN position(NEW.rule IN d.problem) > 0 THEN d.problem ELSE NEW.rule || ': ' || d.problem END
      USING ERRCODE = '23514', SCHEMA = TG_TABLE_SCHEMA, TABLE = TG_TABLE_NAME, CONSTRAINT = 'rule_config_valid',
            DETAIL = format('weight %s, threshold %s, params %s', NEW.weight, NEW.threshold, NEW.params),
            HINT = CASE WHEN NOT d.known THEN 'A rule unknown to this version: weight >= 0, finite threshold, params an object of finite numbers.'
                        WHEN cardinality(names) > 0 THEN format('Parameters of %s: %s.', NEW.rule, array_to_string(names, ', '))
                        ELSE format('%s has no parameters.', NEW.rule) END;
  END IF;
  IF cardinality(d.unread) > 0 THEN
    RAISE WARNING 'rule %: parameter(s) % are not read by this rule and have no effect', NEW.rule,
                  array_to_string(d.unread, ', ')
      USING HINT = CASE WHEN cardinality(names) > 0 THEN format('Parameters of %s: %s.', NEW.rule, array_to_string(names, ', '))
                        ELSE format('%s has no parameters.', NEW.rule) END;
  END IF;
  RETURN NEW;
END $$;
COMMENT ON FUNCTION @extschema@.rule_config_validate() IS
  'BEFORE INSERT OR UPDATE on rule_config: an invalid row is 23514 with the reason (rule_config_diagnose) and '
  'the rule''s parameters; a parameter the rule does not read is a WARNING';
CREATE TRIGGER rule_config_validate BEFORE INSERT OR UPDATE ON @extschema@.rule_config
  FOR EACH ROW EXECUTE FUNCTION @extschema@.rule_config_validate();

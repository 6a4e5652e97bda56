-- techmart 0.5 -> 0.4 (sqitch revert of risk_list_restore): an INSERT of an existing risk_list
-- entry is a duplicate key again.
\echo Use "ALTER EXTENSION techmart UPDATE TO '0.4'" to load this file. \quit
DROP TRIGGER risk_list_insert_replaces ON @extschema@.risk_list;
CREATE OR REPLACE FUNCTION @extschema@.config_insert_replaces() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF TG_TABLE_NAME = 'rule_config' THEN
    UPDATE @extschema@.rule_config
       SET enabled = NEW.enabled, weight = NEW.weight, threshold = NEW.threshold, params = NEW.params
     WHERE rule = NEW.rule;
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
COMMENT ON FUNCTION @extschema@.config_insert_replaces() IS NULL;
COMMENT ON TABLE @extschema@.risk_list IS
  'High-risk countries (ISO alpha-2, upper case) and payment methods, read by the rules high_risk_country '
  'and high_risk_method at the start of each statement';
COMMENT ON TABLE @extschema@.rule_config IS
  'Scoring rules: each enabled rule adds weight * (observed - threshold) to the logit of the score '
  '(score = 100 * logistic(sum)); read on every insert, so an UPDATE takes effect on the next row. '
  'INSERT of an existing rule replaces its values';

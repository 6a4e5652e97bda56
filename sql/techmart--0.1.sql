-- techmart 0.1: the fraud engine's first rule (amount z-score, shrunk toward a population
-- prior), its configuration and per-customer state, and pure statistics functions.
--
-- Upgrades: 0.1 is the first version. `ALTER EXTENSION techmart UPDATE` on 0.1 is a no-op
-- ("version 0.1 of extension techmart is already installed"); later versions add
-- techmart--0.1--X.Y.sql scripts.
\echo Use "CREATE EXTENSION techmart" to load this file. \quit

GRANT USAGE ON SCHEMA @extschema@ TO PUBLIC;

-- ------------------------------------------------------------------- pure functions
CREATE FUNCTION @extschema@.version() RETURNS text
  AS 'MODULE_PATHNAME', 'techmart_version'
  LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.version() IS 'Version of the loaded techmart library';

CREATE FUNCTION @extschema@.zscore(x float8, mean float8, sd float8) RETURNS float8
  AS 'MODULE_PATHNAME', 'techmart_zscore'
  LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.zscore(float8, float8, float8) IS
  '(x - mean) / sd; SQLSTATE 22023 unless all arguments are finite and sd > 0';

CREATE FUNCTION @extschema@.log_amount(amount float8) RETURNS float8
  AS 'MODULE_PATHNAME', 'techmart_log_amount'
  LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.log_amount(float8) IS
  'log1p(amount), the scale amounts are compared on; 2201E for a negative amount, 22023 for NaN/Infinity';

CREATE FUNCTION @extschema@.shrunk_zscore(x float8, n bigint, mean float8, m2 float8,
                                          prior_mean float8, prior_sd float8,
                                          prior_weight float8) RETURNS float8
  AS 'MODULE_PATHNAME', 'techmart_shrunk_zscore'
  LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.shrunk_zscore(float8, bigint, float8, float8, float8, float8, float8) IS
  'z-score of x against running statistics (n, mean, m2 = sum of squared deviations) shrunk toward a prior '
  'with pseudo-count prior_weight: mean = (n*mean + k*prior_mean)/(n+k), var = (m2 + k*prior_sd^2)/(n+k); 22023 on invalid input';

CREATE FUNCTION @extschema@.calibrated_score(observed float8, threshold float8, weight float8)
  RETURNS float8
  AS 'MODULE_PATHNAME', 'techmart_calibrated_score'
  LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.calibrated_score(float8, float8, float8) IS
  '100 * logistic(weight * (observed - threshold)), in [0, 100]; 22023 on invalid input';

CREATE FUNCTION @extschema@.rule_config_is_valid(rule text, weight float8, threshold float8,
                                                 params jsonb) RETURNS boolean
  AS 'MODULE_PATHNAME', 'techmart_rule_config_is_valid'
  LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.rule_config_is_valid(text, float8, float8, jsonb) IS
  'Whether a rule_config row is usable: finite weight >= 0, finite threshold, params an object of finite numbers '
  'that the rule accepts (e.g. amount_zscore: prior_sd > 0, prior_weight > 0)';

-- ---------------------------------------------------------------- configuration
CREATE FUNCTION @extschema@.touch_updated_at() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$$;

-- INSERT of an existing key replaces the row's values. The configuration tables ship with
-- default rows and are dumped by pg_dump (pg_extension_config_dump): on restore, CREATE EXTENSION
-- re-creates the defaults and the dumped rows then overwrite them instead of failing.
CREATE FUNCTION @extschema@.config_insert_replaces() RETURNS trigger
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

CREATE TABLE @extschema@.rule_config (
  rule       text PRIMARY KEY CHECK (rule ~ '^[a-z][a-z0-9_]{0,62}$'),
  enabled    boolean NOT NULL DEFAULT true,
  weight     float8 NOT NULL CHECK (weight >= 0 AND weight < 'Infinity'),
  threshold  float8 NOT NULL CHECK (threshold > '-Infinity' AND threshold < 'Infinity'),
  params     jsonb NOT NULL DEFAULT '{}',
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT rule_config_valid CHECK (@extschema@.rule_config_is_valid(rule, weight, threshold, params))
);
COMMENT ON TABLE @extschema@.rule_config IS
  'Scoring rules: each enabled rule adds weight * (observed - threshold) to the logit of the score '
  '(score = 100 * logistic(sum)); read on every insert, so an UPDATE takes effect on the next row. '
  'INSERT of an existing rule replaces its values';
CREATE TRIGGER rule_config_touch BEFORE UPDATE ON @extschema@.rule_config
  FOR EACH ROW EXECUTE FUNCTION @extschema@.touch_updated_at();
CREATE TRIGGER rule_config_insert_replaces BEFORE INSERT ON @extschema@.rule_config
  FOR EACH ROW EXECUTE FUNCTION @extschema@.config_insert_replaces();

INSERT INTO @extschema@.rule_config (rule, enabled, weight, threshold, params) VALUES
  ('amount_zscore', true, 1.5, 3,
   '{"prior_mean": 4.0, "prior_sd": 1.2, "prior_weight": 5}');

CREATE TABLE @extschema@.settings (
  name        text PRIMARY KEY
              CHECK (name IN ('suspicious_threshold', 'reason_min_contribution')),
  value       float8 NOT NULL CHECK (value > '-Infinity' AND value < 'Infinity'),
  description text,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT settings_suspicious_threshold_range
    CHECK (name <> 'suspicious_threshold' OR value BETWEEN 0 AND 100),
  CONSTRAINT settings_reason_min_contribution_range
    CHECK (name <> 'reason_min_contribution' OR value BETWEEN 0 AND 100)
);
COMMENT ON TABLE @extschema@.settings IS 'Scoring settings (a missing row means its default)';
CREATE TRIGGER settings_touch BEFORE UPDATE ON @extschema@.settings
  FOR EACH ROW EXECUTE FUNCTION @extschema@.touch_updated_at();
CREATE TRIGGER settings_insert_replaces BEFORE INSERT ON @extschema@.settings
  FOR EACH ROW EXECUTE FUNCTION @extschema@.config_insert_replaces();

INSERT INTO @extschema@.settings (name, value, description) VALUES
  ('suspicious_threshold', 70, 'is_suspicious = fraud_score >= this (0..100; default 70)'),
  ('reason_min_contribution', 1, 'reasons contributing fewer points than this are not listed (default 1)');

GRANT SELECT ON @extschema@.rule_config, @extschema@.settings TO PUBLIC;

-- ---------------------------------------------------------- per-customer state
CREATE TABLE @extschema@.customer_state (
  customer_id           bigint PRIMARY KEY,
  n                     bigint NOT NULL DEFAULT 0 CHECK (n >= 0),
  mean                  float8 NOT NULL DEFAULT 0 CHECK (mean > '-Infinity' AND mean < 'Infinity'),
  m2                    float8 NOT NULL DEFAULT 0 CHECK (m2 >= 0 AND m2 < 'Infinity'),
  last_amount           numeric,
  last_transaction_time timestamptz,
  updated_at            timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT customer_state_empty CHECK (n > 0 OR (mean = 0 AND m2 = 0))
);
COMMENT ON TABLE @extschema@.customer_state IS
  'Running statistics of each customer''s log1p(amount) (n, mean, m2 = sum of squared deviations; '
  'sample variance = m2 / (n - 1)), maintained by score_transaction under a row lock';

-- ---------------------------------------------------------------- the trigger
CREATE FUNCTION @extschema@.score_transaction() RETURNS trigger
  AS 'MODULE_PATHNAME', 'techmart_score_transaction'
  LANGUAGE C;
COMMENT ON FUNCTION @extschema@.score_transaction() IS
  'BEFORE INSERT FOR EACH ROW: validates the row (23502, 23514, 23503), fills amount, scores it from the '
  'customer''s state before the row, updates the state; sets fraud_score, fraud_reasons, is_suspicious';

-- pg_dump keeps the configuration and the state
SELECT pg_catalog.pg_extension_config_dump('@extschema@.rule_config', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.settings', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.customer_state', '');

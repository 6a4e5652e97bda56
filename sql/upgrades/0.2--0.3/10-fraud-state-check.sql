-- ---------------------------------------------------------------------------------------
-- 10-fraud-state-check: the six CHECK constraints of customer_state become one, a call of a C
-- function with the same rules. PostgreSQL re-reads (stringToNode) and plans every CHECK of a
-- table in each executor that writes it: the engine's state write-back (one per single-row
-- INSERT) spent more time there than on the update itself. Any writer (the engine, a DBA's
-- UPDATE) is still refused with 23514; sql/downgrades/techmart--0.3--0.2.sql restores the six.
CREATE FUNCTION @extschema@.customer_state_valid(n bigint, mean float8, m2 float8, risk float8,
                                                 amount_hist int4[], hour_profile float8[],
                                                 recent_t float8[], recent_a float8[])
  RETURNS boolean
  AS 'MODULE_PATHNAME', 'techmart_customer_state_valid'
  LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.customer_state_valid(bigint, float8, float8, float8, int4[], float8[], float8[], float8[]) IS
  'CHECK of techmart.customer_state: n >= 0; mean finite; m2 and risk finite and >= 0; n = 0 only with '
  'mean = m2 = 0; amount_hist 0 or 64 and hour_profile 0 or 24 elements; recent_t and recent_a of equal '
  'length <= 32';

ALTER TABLE @extschema@.customer_state
  DROP CONSTRAINT customer_state_n_check,
  DROP CONSTRAINT customer_state_mean_check,
  DROP CONSTRAINT customer_state_m2_check,
  DROP CONSTRAINT customer_state_risk_check,
  DROP CONSTRAINT customer_state_empty,
  DROP CONSTRAINT customer_state_arrays,
  ADD CONSTRAINT customer_state_valid CHECK (
    @extschema@.customer_state_valid(n, mean, m2, risk, amount_hist, hour_profile, recent_t, recent_a));

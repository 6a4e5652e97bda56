-- techmart 0.3 -> 0.2 (sqitch revert of fraud_state_check): the six CHECK constraints of 0.2 again.
\echo Use "ALTER EXTENSION techmart UPDATE TO '0.2'" to load this file. \quit
ALTER TABLE @extschema@.customer_state
  DROP CONSTRAINT customer_state_valid,
  ADD CONSTRAINT customer_state_n_check CHECK (n >= 0),
  ADD CONSTRAINT customer_state_mean_check CHECK (mean > '-Infinity' AND mean < 'Infinity'),
  ADD CONSTRAINT customer_state_m2_check CHECK (m2 >= 0 AND m2 < 'Infinity'),
  ADD CONSTRAINT customer_state_empty CHECK (n > 0 OR (mean = 0 AND m2 = 0)),
  ADD CONSTRAINT customer_state_risk_check CHECK (risk >= 0 AND risk < 'Infinity'),
  ADD CONSTRAINT customer_state_arrays CHECK (
        cardinality(amount_hist) IN (0, 64) AND cardinality(hour_profile) IN (0, 24)
    AND cardinality(recent_t) = cardinality(recent_a) AND cardinality(recent_t) <= 32);
DROP FUNCTION @extschema@.customer_state_valid(bigint, float8, float8, float8, int4[], float8[], float8[], float8[]);

-- Revert techmart:proc_volatility from pg
BEGIN;

ALTER FUNCTION analytics.rollup_slot() PARALLEL SAFE;
ALTER FUNCTION api.transaction_event(bigint, numeric, numeric, boolean, bigint, timestamptz) IMMUTABLE;
ALTER FUNCTION analytics.range_errors(timestamptz, timestamptz, interval, text, text) IMMUTABLE;
ALTER FUNCTION api._check_time(jsonb, text) IMMUTABLE;

COMMIT;

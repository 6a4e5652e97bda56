-- Deploy techmart:proc_volatility to pg
-- requires: rollups
-- requires: api_live
-- requires: api_rest
-- requires: analytics_series_args
--
-- Declared properties that the functions' bodies do not have (pg_proc audit, 2026-12-07):
--   * analytics.rollup_slot() was PARALLEL SAFE, but pg_backend_pid() is parallel restricted: in a
--     parallel worker it is the worker's pid, i.e. another slot than the leader's;
--   * api.transaction_event(..., p_time timestamptz) was IMMUTABLE, but the jsonb of a timestamptz is
--     written in the session's TimeZone (a plan-time constant-folded call would keep another zone's text);
--   * analytics.range_errors(..., p_max interval, ...) was IMMUTABLE, but its message prints the
--     interval in the session's IntervalStyle;
--   * api._check_time(jsonb, text) was IMMUTABLE, but calls the STABLE api._time (the text to
--     timestamptz cast reads TimeZone and DateStyle).
-- Now PARALLEL RESTRICTED / STABLE respectively (bodies unchanged). The extension's version is unchanged.
BEGIN;

ALTER FUNCTION analytics.rollup_slot() PARALLEL RESTRICTED;
ALTER FUNCTION api.transaction_event(bigint, numeric, numeric, boolean, bigint, timestamptz) STABLE;
ALTER FUNCTION analytics.range_errors(timestamptz, timestamptz, interval, text, text) STABLE;
ALTER FUNCTION api._check_time(jsonb, text) STABLE;

COMMIT;

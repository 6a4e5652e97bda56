-- techmart 0.4 -> 0.3 (sqitch revert of observability_latency): without the scoring latency
-- functions (the library keeps counting; nothing reads it).
\echo Use "ALTER EXTENSION techmart UPDATE TO '0.3'" to load this file. \quit
DROP FUNCTION @extschema@.scoring_latency(boolean);
DROP FUNCTION @extschema@.scoring_latency_summary(boolean);
DROP FUNCTION @extschema@.scoring_latency_reset(boolean);

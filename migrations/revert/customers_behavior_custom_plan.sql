-- Revert techmart:customers_behavior_custom_plan from pg
-- the plans of api.customers_behavior as the server decides (a generic plan from the sixth call on)
BEGIN;

ALTER FUNCTION api.customers_behavior(timestamptz, timestamptz, bigint, integer) RESET plan_cache_mode;

COMMIT;

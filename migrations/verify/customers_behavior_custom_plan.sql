-- Verify techmart:customers_behavior_custom_plan
SELECT 1/('plan_cache_mode=force_custom_plan' = ANY (proconfig))::int
  FROM pg_proc WHERE oid = 'api.customers_behavior(timestamptz,timestamptz,bigint,integer)'::regprocedure;

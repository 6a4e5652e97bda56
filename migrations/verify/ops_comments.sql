-- Verify techmart:ops_comments
SELECT 1/(count(*) = 0)::int FROM pg_proc p
 WHERE p.pronamespace = 'techmart_ops'::regnamespace AND p.prorettype NOT IN ('trigger'::regtype, 'event_trigger'::regtype)
   AND obj_description(p.oid, 'pg_proc') IS NULL;

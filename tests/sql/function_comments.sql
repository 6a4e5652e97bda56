-- pgTAP: \df+ shows a comment for every function a DBA or BI user may call in the schemas techmart,
-- analytics, techmart_ops and import (migrations/deploy/ops_comments.sql): not trigger or event
-- trigger functions, not the support functions of aggregates (internal state), not names starting
-- with "_" (private helpers). The schema api (behind the REST service) is not part of this check.
BEGIN;
SELECT plan(1);

SELECT is((SELECT coalesce(array_agg(p.oid::regprocedure::text ORDER BY p.oid::regprocedure::text), '{}')
             FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname IN ('techmart', 'analytics', 'techmart_ops', 'import')
              AND p.prorettype NOT IN ('trigger'::regtype, 'event_trigger'::regtype, 'internal'::regtype)
              AND p.proname !~ '^_'
              AND NOT EXISTS (SELECT FROM pg_aggregate a
                               WHERE p.oid IN (a.aggtransfn, a.aggfinalfn, a.aggcombinefn, a.aggserialfn, a.aggdeserialfn))
              AND obj_description(p.oid, 'pg_proc') IS NULL),
          '{}'::text[], 'every callable function of techmart, analytics, techmart_ops and import has a comment');

SELECT * FROM finish();
ROLLBACK;

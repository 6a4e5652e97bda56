-- pgTAP: declared volatility and parallel safety match what the bodies do
-- (migrations/deploy/proc_volatility.sql): no function of the migration schemas is IMMUTABLE while
-- calling a STABLE/VOLATILE function of those schemas, and the ones found by the audit are fixed.
-- The consequence shown: api.transaction_event's jsonb follows the session's TimeZone, so it cannot
-- be IMMUTABLE.
BEGIN;
SELECT plan(6);

SELECT is((SELECT proparallel::text FROM pg_proc WHERE oid = 'analytics.rollup_slot()'::regprocedure), 'r',
          'rollup_slot() (pg_backend_pid: another pid in a parallel worker) is parallel restricted');
SELECT is((SELECT provolatile::text FROM pg_proc
            WHERE oid = 'api.transaction_event(bigint, numeric, numeric, boolean, bigint, timestamptz)'::regprocedure), 's',
          'transaction_event is STABLE');
SELECT is((SELECT provolatile::text FROM pg_proc
            WHERE oid = 'analytics.range_errors(timestamptz, timestamptz, interval, text, text)'::regprocedure), 's',
          'range_errors is STABLE');
SELECT is((SELECT provolatile::text FROM pg_proc WHERE oid = 'api._check_time(jsonb, text)'::regprocedure), 's',
          '_check_time is STABLE');
SET LOCAL TimeZone = 'Asia/Tokyo';
SELECT is(api.transaction_event(1, 1, 1, false, 1, '2026-12-07 00:00Z')->>'time', '2026-12-07T09:00:00+09:00',
          'transaction_event''s time follows TimeZone (why it is not IMMUTABLE)');
RESET TimeZone;
-- an IMMUTABLE SQL/plpgsql function of the migration schemas whose body names a non-immutable
-- function of those schemas (schema-qualified call)
SELECT is((SELECT coalesce(array_agg(f.oid::regprocedure::text ORDER BY f.oid::regprocedure::text), '{}')
             FROM pg_proc f JOIN pg_namespace n ON n.oid = f.pronamespace
            WHERE n.nspname IN ('analytics', 'api', 'bi', 'import', 'techmart_ops') AND f.provolatile = 'i'
              AND f.prolang IN (SELECT oid FROM pg_language WHERE lanname IN ('sql', 'plpgsql'))
              AND EXISTS (SELECT FROM pg_proc g JOIN pg_namespace gn ON gn.oid = g.pronamespace
                           WHERE gn.nspname IN ('analytics', 'api', 'bi', 'import', 'techmart_ops')
                             AND g.provolatile <> 'i' AND g.oid <> f.oid
                             AND f.prosrc ~ ('\m' || gn.nspname || '\.' || g.proname || '\s*\('))),
          '{}'::text[], 'no IMMUTABLE function calls a STABLE or VOLATILE one of the migration schemas');

SELECT * FROM finish();
ROLLBACK;

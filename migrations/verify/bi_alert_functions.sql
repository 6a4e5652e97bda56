-- Verify techmart:bi_alert_functions
-- both functions read bi.alerts, which techmart_bi may read
SELECT 1/count(*) FROM pg_proc WHERE oid = 'analytics.alerts_created(timestamptz, timestamptz)'::regprocedure
   AND prosrc LIKE '%FROM bi.alerts a%' AND prosrc NOT LIKE '% alerts a %';
SELECT 1/count(*) FROM pg_proc WHERE oid = 'analytics.alerts_open_at(timestamptz)'::regprocedure
   AND prosrc LIKE '%FROM bi.alerts a%' AND prosrc NOT LIKE '% alerts a %';

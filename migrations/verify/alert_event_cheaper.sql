-- Verify techmart:alert_event_cheaper
SELECT 1/count(*)::int FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
 WHERE p.oid = 'api.alert_event(alerts)'::regprocedure AND l.lanname = 'plpgsql';

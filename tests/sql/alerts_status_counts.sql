-- pgTAP: GET /alerts/status from the hourly alert counts and the alerts not resolved (change alerts_status_counts)
-- gives what one scan of every alert gave: on the seed, after alerts are raised, acknowledged, resolved and
-- deleted in this transaction, and after TRUNCATE.
BEGIN;
SELECT plan(7);

-- api.alerts_status as change api_endpoints defined it
CREATE OR REPLACE FUNCTION pg_temp.old_alerts_status(p jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 STABLE
AS $function$
BEGIN
  IF p IS NOT NULL AND jsonb_typeof(p) = 'object' THEN
    PERFORM api._raise_if(api._check_keys(p, ARRAY[]::text[]), 'invalid query');
  END IF;
  RETURN (SELECT jsonb_build_object(
    'total', count(*),
    'by_status', jsonb_build_object('open', count(*) FILTER (WHERE status = 'open'),
                                    'acknowledged', count(*) FILTER (WHERE status = 'acknowledged'),
                                    'resolved', count(*) FILTER (WHERE status = 'resolved')),
    'open_by_severity', jsonb_build_object(
        'low', count(*) FILTER (WHERE status <> 'resolved' AND severity = 'low'),
        'medium', count(*) FILTER (WHERE status <> 'resolved' AND severity = 'medium'),
        'high', count(*) FILTER (WHERE status <> 'resolved' AND severity = 'high'),
        'critical', count(*) FILTER (WHERE status <> 'resolved' AND severity = 'critical')),
    'oldest_open_at', min(created_at) FILTER (WHERE status = 'open'),
    'last_24h', count(*) FILTER (WHERE created_at > now() - interval '24 hours'))
    FROM alerts);
END $function$;


SELECT ok(position('analytics.alerts_hourly' IN pg_get_functiondef('api.alerts_status(jsonb)'::regprocedure)) > 0,
          'api.alerts_status reads the total from analytics.alerts_hourly');
SELECT is(api.alerts_status('{}'), pg_temp.old_alerts_status('{}'), 'seed: the same answer as the scan of every alert');

-- alerts raised now and a day ago, of every severity
INSERT INTO alerts (type, severity, message, created_at)
SELECT 'alerts_status_counts', (ARRAY['low', 'medium', 'high', 'critical'])[1 + i % 4], 'test alert ' || i,
       now() - make_interval(hours => i % 30)
  FROM generate_series(1, 40) i;
SELECT is(api.alerts_status('{}'), pg_temp.old_alerts_status('{}'), 'after 40 new alerts: the same answer');

UPDATE alerts SET status = 'acknowledged', acknowledged_at = created_at + interval '1 minute'
 WHERE type = 'alerts_status_counts' AND id % 3 = 0;
UPDATE alerts SET status = 'resolved', resolved_at = created_at + interval '2 minutes'
 WHERE type = 'alerts_status_counts' AND id % 3 = 1;
UPDATE alerts SET status = 'resolved', resolved_at = created_at + interval '3 minutes'
 WHERE id IN (SELECT id FROM alerts WHERE type <> 'alerts_status_counts' ORDER BY id LIMIT 5);
SELECT is(api.alerts_status('{}'), pg_temp.old_alerts_status('{}'), 'after acknowledging and resolving: the same answer');
SELECT ok((api.alerts_status('{}') -> 'by_status' ->> 'resolved')::int >= 5, 'some alerts are resolved');

DELETE FROM alerts WHERE type = 'alerts_status_counts' AND id % 5 = 0;
SELECT is(api.alerts_status('{}'), pg_temp.old_alerts_status('{}'), 'after deleting alerts: the same answer');

TRUNCATE alerts CASCADE;
SELECT is(api.alerts_status('{}'), pg_temp.old_alerts_status('{}'), 'after TRUNCATE: the same answer (all zero)');

SELECT * FROM finish();
ROLLBACK;

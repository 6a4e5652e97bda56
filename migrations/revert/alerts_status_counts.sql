-- Revert techmart:alerts_status_counts from pg
-- api.alerts_status as change api_endpoints made it: one scan of every alert
BEGIN;

CREATE OR REPLACE FUNCTION api.alerts_status(p jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 STABLE SECURITY DEFINER
 SET search_path TO 'public', 'pg_temp'
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

COMMIT;

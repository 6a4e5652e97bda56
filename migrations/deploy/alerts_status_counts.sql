-- Deploy techmart:alerts_status_counts to pg
-- requires: api_endpoints
-- requires: alert_counts_c
--
-- GET /alerts/status counted every alert in the table (a sequential scan of alerts on each call: 44-98 ms at 150,000
-- alerts, 0.4 ms at 1,500; bench/RESULTS.md, "The GET endpoints at 5,000,000 transactions"). The same figures now:
-- total = the alerts counted in analytics.alerts_hourly (created, kept by the alert triggers for INSERT, UPDATE,
-- DELETE and TRUNCATE in the writing transaction: one row per hour and slot of history); open and acknowledged, their
-- severities and the oldest open alert from the alerts not resolved (index alerts_status_idx); resolved = total -
-- open - acknowledged (status is one of the three); last_24h from index alerts_created_idx. Same answers.
BEGIN;

CREATE OR REPLACE FUNCTION api.alerts_status(p jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_total bigint;
  r record;
BEGIN
  IF p IS NOT NULL AND jsonb_typeof(p) = 'object' THEN
    PERFORM api._raise_if(api._check_keys(p, ARRAY[]::text[]), 'invalid query');
  END IF;
  SELECT coalesce(sum(h.created), 0)::bigint INTO v_total FROM analytics.alerts_hourly h;
  SELECT count(*) FILTER (WHERE a.status = 'open') AS open,
         count(*) FILTER (WHERE a.status = 'acknowledged') AS acknowledged,
         count(*) FILTER (WHERE a.severity = 'low') AS low,
         count(*) FILTER (WHERE a.severity = 'medium') AS medium,
         count(*) FILTER (WHERE a.severity = 'high') AS high,
         count(*) FILTER (WHERE a.severity = 'critical') AS critical,
         min(a.created_at) FILTER (WHERE a.status = 'open') AS oldest_open_at
    INTO r
    FROM alerts a
   WHERE a.status IN ('open', 'acknowledged');
  RETURN jsonb_build_object(
    'total', v_total,
    'by_status', jsonb_build_object('open', r.open, 'acknowledged', r.acknowledged,
                                    'resolved', v_total - r.open - r.acknowledged),
    'open_by_severity', jsonb_build_object('low', r.low, 'medium', r.medium, 'high', r.high, 'critical', r.critical),
    'oldest_open_at', r.oldest_open_at,
    'last_24h', (SELECT count(*) FROM alerts a WHERE a.created_at > now() - interval '24 hours'));
END $$;

COMMIT;

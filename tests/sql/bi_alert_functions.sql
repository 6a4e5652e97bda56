-- pgTAP: a login of the BI role techmart_bi runs analytics.alerts_created and analytics.alerts_open_at
-- (migrations/deploy/bi_alert_functions.sql; before: 42501 "permission denied for table alerts") and
-- gets what the owner gets: the alerts of a range with partial hours at both ends, and the alerts
-- open at a time inside an hour. Alerts written by the test at fixed times (rolled back).
BEGIN;
SELECT plan(6);

INSERT INTO alerts (type, severity, message, created_at, acknowledged_at, resolved_at, status)
SELECT 'bi_test', 'low', 'bi_alert_functions test ' || i, '2031-03-04 10:00Z'::timestamptz + i * interval '7 minutes',
       CASE WHEN i % 3 = 0 THEN '2031-03-04 10:00Z'::timestamptz + i * interval '7 minutes' + interval '30 minutes' END,
       CASE WHEN i % 5 = 0 THEN '2031-03-04 10:00Z'::timestamptz + i * interval '7 minutes' + interval '50 minutes' END,
       CASE WHEN i % 5 = 0 THEN 'resolved' WHEN i % 3 = 0 THEN 'acknowledged' ELSE 'open' END
  FROM generate_series(1, 40) i;

CREATE TEMP TABLE expected AS
SELECT analytics.alerts_created('2031-03-04 10:20Z', '2031-03-04 13:50Z') AS created,
       analytics.alerts_open_at('2031-03-04 13:15Z') AS open_at,
       (SELECT count(*) FROM alerts WHERE created_at >= '2031-03-04 10:20Z' AND created_at < '2031-03-04 13:50Z') AS created_scan;
GRANT SELECT ON expected TO PUBLIC;
SELECT is((SELECT created FROM expected), (SELECT created_scan FROM expected), 'the owner: alerts_created equals a scan');

CREATE ROLE tm_test_bi_alerts LOGIN IN ROLE techmart_bi;
SET LOCAL ROLE tm_test_bi_alerts;
SELECT lives_ok($$SELECT analytics.alerts_created('2031-03-04 10:20Z', '2031-03-04 13:50Z')$$, 'a BI login runs alerts_created');
SELECT lives_ok($$SELECT analytics.alerts_open_at('2031-03-04 13:15Z')$$, 'a BI login runs alerts_open_at');
SELECT is(analytics.alerts_created('2031-03-04 10:20Z', '2031-03-04 13:50Z'), (SELECT created FROM expected),
          'alerts_created as BI = as owner');
SELECT is(analytics.alerts_open_at('2031-03-04 13:15Z'), (SELECT open_at FROM expected), 'alerts_open_at as BI = as owner');
SELECT is(analytics.alerts_created('2031-03-04 10:20Z', '2031-03-04 10:40Z'), 3::bigint,
          'within one hour (10:21, 10:28, 10:35) as BI');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;

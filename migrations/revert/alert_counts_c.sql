-- Revert techmart:alert_counts_c from pg
BEGIN;

DROP TRIGGER alerts_counts_ins ON alerts;
CREATE TRIGGER alerts_counts_ins AFTER INSERT ON alerts
  FOR EACH ROW EXECUTE FUNCTION analytics.alert_counts_insert_row_trigger();
COMMENT ON FUNCTION analytics.alert_counts_insert_row_trigger() IS
  'Row-level AFTER INSERT trigger on alerts: adds the alert to analytics.alerts_hourly (created, and closed when '
  'inserted already acknowledged/resolved); row-level because alerts are inserted one by one';
DROP FUNCTION analytics.alert_counts_insert_row_c();

COMMIT;

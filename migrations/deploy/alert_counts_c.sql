-- Deploy techmart:alert_counts_c to pg
-- requires: rollup_deltas_c
--
-- Rollup upkeep (issue 4: bulk insert throughput with rollups >= 80 % of the fraud trigger alone):
-- the alert counts (analytics.alerts_hourly) are kept by a C row trigger,
-- analytics.alert_counts_insert_row_c() (extension/pg/alert_counts.cpp), instead of the plpgsql one
-- of change rollup_upkeep. The fraud engine writes one alert per INSERT, all in the hour of now():
-- a 20,000-line bulk load in one transaction raised ~3,800 alerts and the plpgsql trigger's
-- INSERT ... ON CONFLICT cost ~55 us each (an executor start per alert, and the same alerts_hourly
-- row updated thousands of times in one transaction: each upsert walked the versions written
-- before it) — about 0.2 s of the ~0.5-0.8 s of upkeep per 20,000 lines (bench/RESULTS.md).
--
-- The C trigger does the first change of an (hour, slot) row in a transaction with that same
-- upsert (SPI, saved plan) and every later change of it in the same transaction as a direct update
-- of the version the transaction wrote last (only this transaction can see it: nothing to lock or
-- wait for). Same rows, same slot (analytics.rollup_slot()); analytics.alert_counts_check() stays
-- empty (pgTAP overview_rollups.sql). UPDATE and DELETE keep their
-- statement triggers.
--
-- The C function is declared here, not in the extension script: it needs a techmart.so of this
-- commit or later; the extension's version stays as it is.
BEGIN;

CREATE FUNCTION analytics.alert_counts_insert_row_c() RETURNS trigger
AS '$libdir/techmart', 'techmart_alert_counts_insert'
LANGUAGE C VOLATILE SECURITY DEFINER;
COMMENT ON FUNCTION analytics.alert_counts_insert_row_c() IS
  'Row-level AFTER INSERT trigger on alerts (C): adds the alert to analytics.alerts_hourly (created, and closed when '
  'inserted already acknowledged/resolved) in the slot analytics.rollup_slot(); the first change of a row in a '
  'transaction is an INSERT ... ON CONFLICT, later ones update the version the transaction wrote directly';
REVOKE EXECUTE ON FUNCTION analytics.alert_counts_insert_row_c() FROM PUBLIC;

DROP TRIGGER alerts_counts_ins ON alerts;
CREATE TRIGGER alerts_counts_ins AFTER INSERT ON alerts
  FOR EACH ROW EXECUTE FUNCTION analytics.alert_counts_insert_row_c();
COMMENT ON FUNCTION analytics.alert_counts_insert_row_trigger() IS
  'plpgsql variant of the alerts insert trigger (change rollup_upkeep), unused since change alert_counts_c '
  '(kept for its revert)';

COMMIT;

-- Deploy techmart:risk_list_restore to pg
-- requires: observability_latency (0.4)
--
-- techmart 0.5 (sql/upgrades/0.4--0.5/10-risk-list-restore.sql): an INSERT of an existing
-- techmart.risk_list entry replaces its note, as rule_config and settings always did, so that
-- pg_restore's COPY of the dumped risk list no longer fails on the default row CREATE EXTENSION
-- re-creates (23505: the whole table's data was skipped, the high-risk countries a DBA added were
-- lost). A database created at 0.5 is already there (a no-op).
BEGIN;

SET LOCAL client_min_messages = warning;  -- no NOTICE when it is already 0.5
ALTER EXTENSION techmart UPDATE TO '0.5';

COMMIT;

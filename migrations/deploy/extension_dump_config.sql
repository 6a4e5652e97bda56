-- Deploy techmart:extension_dump_config to pg
-- requires: shadow_scores_deleted (0.6)
--
-- techmart 0.7 (sql/upgrades/0.6--0.7/10-dump-config.sql): pg_dump dumps the shadow
-- configurations, their scores and the entity counters (pg_extension_config_dump), which a
-- dump lost before (re-created by hand, entity_rebuild() after restore). A database created at
-- 0.7 is already there (a no-op).
BEGIN;

SET LOCAL client_min_messages = warning;  -- no NOTICE when it is already 0.7
ALTER EXTENSION techmart UPDATE TO '0.7';

COMMIT;

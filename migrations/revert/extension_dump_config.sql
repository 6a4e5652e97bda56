-- Revert techmart:extension_dump_config from pg
-- techmart 0.6 (sql/downgrades/techmart--0.7--0.6.sql): shadow_config, shadow_scores,
-- entity_counts and entity_counted no longer dumped
BEGIN;

SET LOCAL client_min_messages = warning;
ALTER EXTENSION techmart UPDATE TO '0.6';

COMMIT;

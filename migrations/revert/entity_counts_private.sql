-- Revert techmart:entity_counts_private from pg
-- the PUBLIC SELECT of the extension's scripts again
BEGIN;

GRANT SELECT ON techmart.entity_counts, techmart.shadow_scores TO PUBLIC;

COMMIT;

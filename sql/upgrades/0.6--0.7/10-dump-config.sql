-- ---------------------------------------------------------------------------------------
-- 10-dump-config: a pg_dump of the database holds everything of the extension that cannot be
-- rebuilt from a fresh CREATE EXTENSION (docs/operations.md, "Backup and restore"). Before 0.7
-- a dump lost the shadow configurations and their scores, and the entity counters (restore:
-- re-create the shadows by hand, run entity_rebuild()). Per table:
--   * shadow_config: the DBA's shadow configurations -- configuration, nothing to recompute
--     them from: dumped (no default rows, so the COPY of the dumped rows never collides);
--   * shadow_scores: each shadow's score of each transaction when it was inserted, from the
--     state of that moment -- history, not recomputable: dumped;
--   * entity_counts, entity_counted: derived exactly from public.transaction_labels and
--     public.transactions (entity_rebuild()), but dumped in the same snapshot as those, so a
--     plain pg_restore gives counters equal to the recomputation (entity_check() empty) with no
--     step to forget; entity_rebuild() stays the way back from a hand-edited table;
--   * config_version, entity_version: not dumped -- one-row counters that only invalidate the
--     scoring caches of the backends of this database; CREATE EXTENSION's row is right for a
--     new one.
SELECT pg_catalog.pg_extension_config_dump('@extschema@.shadow_config', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.shadow_scores', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.entity_counts', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.entity_counted', '');

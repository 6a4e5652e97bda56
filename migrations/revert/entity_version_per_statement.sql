-- Revert techmart:entity_version_per_statement from pg
-- (with the techmart 0.2 extension of this repository, entity_recount relies on these triggers
-- to invalidate the scoring caches: after a revert run techmart.entity_rebuild() after labelling)
BEGIN;
DROP TRIGGER transactions_entity_version ON transactions;
DROP TRIGGER transaction_labels_entity_version ON transaction_labels;
COMMIT;

-- Revert techmart:import_online_retail from pg
-- Drops the import schema (staging, rules, ledger). Imported customers, products and
-- transactions stay: they are ordinary rows of the shop.
BEGIN;
DROP SCHEMA import CASCADE;
COMMIT;

-- Revert techmart:rollups
BEGIN;
DROP TRIGGER IF EXISTS products_rollup_category ON products;
DROP TRIGGER IF EXISTS transactions_rollup_ins ON transactions;
DROP TRIGGER IF EXISTS transactions_rollup_upd ON transactions;
DROP TRIGGER IF EXISTS transactions_rollup_del ON transactions;
DROP TRIGGER IF EXISTS transactions_rollup_trunc ON transactions;
DROP SCHEMA IF EXISTS analytics CASCADE;
COMMIT;

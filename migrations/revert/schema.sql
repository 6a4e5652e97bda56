-- Revert techmart:schema
BEGIN;
DROP TABLE IF EXISTS users, alerts, planted_fraud, transaction_labels, transactions, customers,
  inventory_history, products, categories, suppliers CASCADE;
DROP DOMAIN IF EXISTS money_amount, country_code;
COMMIT;

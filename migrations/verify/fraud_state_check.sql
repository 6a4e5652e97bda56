-- Verify techmart:fraud_state_check on pg
SELECT 1 / count(*) FROM pg_constraint
 WHERE conrelid = 'techmart.customer_state'::regclass AND conname = 'customer_state_valid';

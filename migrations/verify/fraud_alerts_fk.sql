-- Verify techmart:fraud_alerts_fk on pg
SELECT 1 / count(*) FROM pg_constraint
 WHERE conrelid = 'public.alerts'::regclass AND conname = 'alerts_transaction_id_fkey'
   AND condeferrable;

-- Verify techmart:fraud_engine on pg
SELECT 1 / count(*) FROM pg_trigger
 WHERE tgrelid = 'public.transactions'::regclass AND tgname = 'transactions_score_flush' AND NOT tgisinternal;

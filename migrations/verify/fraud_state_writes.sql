-- Verify techmart:fraud_state_writes
SELECT 1/count(*) FROM pg_extension WHERE extname = 'techmart'
   AND string_to_array(extversion, '.')::int[] >= '{0,8}';
SELECT 1/(count(*) = 3)::int FROM pg_trigger
 WHERE tgrelid = 'public.transactions'::regclass
   AND tgname IN ('transactions_fraud_state_del', 'transactions_fraud_state_upd', 'transactions_fraud_state_trunc');

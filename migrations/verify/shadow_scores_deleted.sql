-- Verify techmart:shadow_scores_deleted
SELECT 1/count(*) FROM pg_extension WHERE extname = 'techmart'
   AND string_to_array(extversion, '.')::int[] >= '{0,6}';
SELECT 1/count(*) FROM pg_trigger WHERE tgrelid = 'public.transactions'::regclass AND tgname = 'transactions_shadow_del';
SELECT 1/count(*) FROM pg_trigger WHERE tgrelid = 'public.transactions'::regclass AND tgname = 'transactions_shadow_trunc';
SELECT 1/count(*) FROM techmart_ops.transaction_refs WHERE tbl = 'techmart.shadow_scores'::regclass;

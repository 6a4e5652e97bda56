-- Verify techmart:transactions_checks_cheaper
SELECT 1/count(*) FROM pg_constraint
 WHERE conrelid = 'public.transactions'::regclass AND conname = 'transactions_platform_check'
   AND pg_get_constraintdef(oid) LIKE '%btrim(platform,%' AND pg_get_constraintdef(oid) NOT LIKE '%~%';
SELECT 1/count(*) FROM pg_constraint
 WHERE conrelid = 'public.transactions'::regclass AND conname = 'transactions_payment_fingerprint_check'
   AND pg_get_constraintdef(oid) LIKE '%btrim(payment_fingerprint,%' AND pg_get_constraintdef(oid) NOT LIKE '%~%';

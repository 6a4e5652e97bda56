-- Revert techmart:transactions_checks_cheaper from pg
-- (the constraints as change schema made them)
BEGIN;

ALTER TABLE public.transactions
  DROP CONSTRAINT transactions_platform_check,
  ADD CONSTRAINT transactions_platform_check CHECK (platform ~ '^[a-z0-9_]{1,40}$'),
  DROP CONSTRAINT transactions_payment_fingerprint_check,
  ADD CONSTRAINT transactions_payment_fingerprint_check CHECK (payment_fingerprint ~ '^[0-9a-f]{16,128}$');

COMMIT;

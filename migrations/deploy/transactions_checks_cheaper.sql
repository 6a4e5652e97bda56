-- Deploy techmart:transactions_checks_cheaper to pg
-- requires: schema
--
-- The two regular-expression CHECK constraints of transactions replaced by equivalent ones without a
-- regular expression (same names, same accepted values): `platform ~ '^[a-z0-9_]{1,40}$'` was a
-- regex execution per inserted row (pg_regexec: the text converted to wide characters, the DFA run),
-- ~1 us a row — about 0.1-0.15 s of the 0.5 s floor of inserting the 104,222 rows of the
-- three-month Online Retail import (bench/RESULTS.md, import). A string of 1..40 characters that
-- btrim() of the allowed characters leaves empty is exactly a string of 1..40 characters from the
-- class (PostgreSQL's regex ranges are code points: [a-z] is the 26 ASCII letters; `$` is the end of
-- the string). payment_fingerprint likewise (NULL passes both ways).
BEGIN;

ALTER TABLE public.transactions
  DROP CONSTRAINT transactions_platform_check,
  ADD CONSTRAINT transactions_platform_check
    CHECK (length(platform) BETWEEN 1 AND 40 AND btrim(platform, 'abcdefghijklmnopqrstuvwxyz0123456789_') = ''),
  DROP CONSTRAINT transactions_payment_fingerprint_check,
  ADD CONSTRAINT transactions_payment_fingerprint_check
    CHECK (length(payment_fingerprint) BETWEEN 16 AND 128 AND btrim(payment_fingerprint, '0123456789abcdef') = '');

COMMIT;

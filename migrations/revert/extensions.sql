-- Revert techmart:extensions
BEGIN;
DROP EXTENSION IF EXISTS techmart;
DROP EXTENSION IF EXISTS pgcrypto;
COMMIT;

-- Revert techmart:observability from pg
BEGIN;
DROP SCHEMA techmart_ops CASCADE;
DO $$ BEGIN
  EXECUTE format('ALTER DATABASE %I RESET track_functions', current_database());
END $$;
COMMIT;

-- Deploy techmart:labels_current_lock_order to pg
-- requires: labels_current
--
-- Lock order of a verdict written directly to transaction_labels. labels_current's statement
-- trigger locked the touched transactions (FOR NO KEY UPDATE) at the end of the statement, i.e.
-- AFTER the row trigger transaction_labels_entity_counts had taken the entity counters' advisory
-- locks; techmart.label() and an UPDATE of a transaction's device/ip/... take the transaction's
-- row lock first and the advisory locks second — opposite orders, so a direct INSERT could
-- deadlock with them (seen in tests/concurrency/entity_parallel.sh). A BEFORE ROW trigger now
-- takes the transaction's row lock before any AFTER trigger of the row runs: every path locks the
-- transaction first, the entity counters second.
BEGIN;

CREATE FUNCTION techmart_ops.labels_lock_transaction()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.transaction_id IS DISTINCT FROM OLD.transaction_id THEN
    PERFORM 1 FROM public.transactions x
     WHERE x.id IN (OLD.transaction_id, NEW.transaction_id) ORDER BY x.id FOR NO KEY UPDATE OF x;
  ELSIF TG_OP = 'DELETE' THEN
    -- (a cascade from a deleted transaction finds no row to lock)
    PERFORM 1 FROM public.transactions x WHERE x.id = OLD.transaction_id FOR NO KEY UPDATE OF x;
  ELSE
    PERFORM 1 FROM public.transactions x WHERE x.id = NEW.transaction_id FOR NO KEY UPDATE OF x;
  END IF;
  RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
COMMENT ON FUNCTION techmart_ops.labels_lock_transaction() IS
  'BEFORE ROW trigger of transaction_labels: locks the verdict''s transaction before the entity counters'' '
  'advisory locks (the order techmart.label() and identifier UPDATEs use: no deadlock between them)';

CREATE TRIGGER transaction_labels_lock_transaction
  BEFORE INSERT OR UPDATE OR DELETE ON transaction_labels
  FOR EACH ROW EXECUTE FUNCTION techmart_ops.labels_lock_transaction();

COMMIT;

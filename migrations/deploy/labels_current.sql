-- Deploy techmart:labels_current to pg
-- requires: entity_version_per_statement
-- requires: transactions_partitioning
--
-- transactions.label / labelled_at are the current verdict (the latest of transaction_labels by
-- labelled_at, then id) however the verdict was recorded: techmart.label(), PATCH
-- /transactions/{id}, or a DBA's own INSERT/UPDATE/DELETE/COPY on transaction_labels. Before this
-- change only the first two kept the copy, so techmart.fit_weights() (which learns from
-- transactions.label) and the API's lists did not see verdicts written to the table directly.
-- A BEFORE ROW trigger locks the verdict's transaction (FOR NO KEY UPDATE) before any AFTER trigger
-- of the row runs — so, like techmart.label() and UPDATEs of a transaction's identifiers, a direct
-- verdict takes the transaction's row lock before the entity counters' advisory locks (the opposite
-- order deadlocked tests/concurrency/entity_parallel.sh). A statement trigger then writes the latest
-- verdict of the touched transactions where it differs (a new statement: its snapshot sees what the
-- lock waits let commit).
BEGIN;

CREATE FUNCTION techmart_ops.labels_sync(p_ids bigint[])
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF p_ids IS NULL OR cardinality(p_ids) = 0 THEN RETURN; END IF;
  UPDATE public.transactions x
     SET label = c.label, labelled_at = c.labelled_at
    FROM (SELECT i.id,
                 coalesce(l.label, 'unknown') AS label,
                 CASE WHEN coalesce(l.label, 'unknown') = 'unknown' THEN NULL ELSE l.labelled_at END AS labelled_at
            FROM unnest(p_ids) i(id)
            LEFT JOIN LATERAL (SELECT l.label, l.labelled_at FROM public.transaction_labels l
                                WHERE l.transaction_id = i.id
                                ORDER BY l.labelled_at DESC, l.id DESC LIMIT 1) l ON true) c
   WHERE x.id = c.id
     AND (x.label, x.labelled_at) IS DISTINCT FROM (c.label, c.labelled_at);
END $$;
COMMENT ON FUNCTION techmart_ops.labels_sync(bigint[]) IS
  'Sets transactions.label/labelled_at of the given transactions to their latest verdict in transaction_labels '
  '(unknown/NULL without one); called by the statement triggers of transaction_labels';
REVOKE ALL ON FUNCTION techmart_ops.labels_sync(bigint[]) FROM PUBLIC;

CREATE FUNCTION techmart_ops.labels_sync_trigger()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_ids bigint[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    SELECT array_agg(DISTINCT n.transaction_id) INTO v_ids FROM new_rows n;
  ELSIF TG_OP = 'DELETE' THEN
    SELECT array_agg(DISTINCT o.transaction_id) INTO v_ids FROM old_rows o;
  ELSE
    SELECT array_agg(DISTINCT t) INTO v_ids
      FROM (SELECT transaction_id FROM new_rows UNION SELECT transaction_id FROM old_rows) u(t);
  END IF;
  PERFORM techmart_ops.labels_sync(v_ids);
  RETURN NULL;
END $$;
COMMENT ON FUNCTION techmart_ops.labels_sync_trigger() IS
  'Statement trigger of transaction_labels: keeps transactions.label/labelled_at = the latest verdict';

CREATE FUNCTION techmart_ops.labels_truncated()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  UPDATE public.transactions SET label = 'unknown', labelled_at = NULL WHERE label <> 'unknown';
  RETURN NULL;
END $$;
COMMENT ON FUNCTION techmart_ops.labels_truncated() IS
  'TRUNCATE of transaction_labels: no verdict is left, every transaction is unknown again';

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

CREATE TRIGGER transaction_labels_current_ins AFTER INSERT ON transaction_labels
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION techmart_ops.labels_sync_trigger();
CREATE TRIGGER transaction_labels_current_upd AFTER UPDATE ON transaction_labels
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION techmart_ops.labels_sync_trigger();
CREATE TRIGGER transaction_labels_current_del AFTER DELETE ON transaction_labels
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION techmart_ops.labels_sync_trigger();
CREATE TRIGGER transaction_labels_current_trunc AFTER TRUNCATE ON transaction_labels
  FOR EACH STATEMENT EXECUTE FUNCTION techmart_ops.labels_truncated();

-- verdicts written directly before this change
SELECT techmart_ops.labels_sync(array_agg(id)) FROM transactions
 WHERE label <> 'unknown' OR id IN (SELECT transaction_id FROM transaction_labels);

COMMIT;

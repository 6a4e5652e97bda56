-- Deploy techmart:labels_current to pg
-- requires: entity_version_per_statement
-- requires: transactions_partitioning
--
-- transactions.label / labelled_at are the current verdict (the latest of transaction_labels by
-- labelled_at, then id) however the verdict was recorded: techmart.label(), PATCH
-- /transactions/{id}, or a DBA's own INSERT/UPDATE/DELETE/COPY on transaction_labels. Before this
-- change only the first two kept the copy, so techmart.fit_weights() (which learns from
-- transactions.label) and the API's lists did not see verdicts written to the table directly.
-- One statement trigger per change of transaction_labels: it locks the touched transactions in id
-- order (concurrent labellers of the same transaction wait here, no deadlock between them), then —
-- in a new statement, whose snapshot sees what the lock waits let commit — writes the latest
-- verdict where it differs.
BEGIN;

CREATE FUNCTION techmart_ops.labels_sync(p_ids bigint[])
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF p_ids IS NULL OR cardinality(p_ids) = 0 THEN RETURN; END IF;
  PERFORM 1 FROM public.transactions x
   WHERE x.id = ANY (p_ids) ORDER BY x.id FOR NO KEY UPDATE OF x;
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

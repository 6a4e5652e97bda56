-- Revert techmart:entity_risk from pg
BEGIN;
DROP TRIGGER transaction_labels_entity_counts ON transaction_labels;
DROP TRIGGER transaction_labels_entity_truncate ON transaction_labels;
DROP TRIGGER transactions_entity_counts ON transactions;
-- the definition of api_endpoints
CREATE OR REPLACE FUNCTION api.update_transaction(p_id bigint, p jsonb, p_actor text)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_row transactions;
BEGIN
  PERFORM api._require_object(p);
  PERFORM api._raise_if(
    api._check_keys(p, ARRAY['status', 'label', 'note'])
    || api._check_enum(p, 'status', ARRAY['pending', 'completed', 'failed', 'refunded', 'blocked'])
    || api._check_enum(p, 'label', ARRAY['fraud', 'legitimate', 'unknown'])
    || api._check_text(p, 'note', false, 2000)
    || api._err('', CASE WHEN NOT (p ? 'status' OR p ? 'label') THEN 'give status and/or label' END),
    'invalid transaction update');
  UPDATE transactions t
     SET status = coalesce(p->>'status', t.status),
         label = coalesce(p->>'label', t.label),
         labelled_at = CASE WHEN p ? 'label' THEN CASE WHEN p->>'label' = 'unknown' THEN NULL ELSE now() END
                            ELSE t.labelled_at END
   WHERE t.id = p_id
  RETURNING * INTO v_row;
  IF NOT FOUND THEN RETURN NULL; END IF;
  IF p ? 'label' THEN
    INSERT INTO transaction_labels (transaction_id, label, labelled_at, labelled_by, note)
    VALUES (p_id, p->>'label', now(), coalesce(p_actor, current_user), p->>'note');
  END IF;
  RETURN api.transaction_json(v_row) || jsonb_build_object('labels',
    (SELECT coalesce(jsonb_agg(jsonb_build_object('label', l.label, 'labelled_at', l.labelled_at,
                                                  'labelled_by', l.labelled_by, 'note', l.note)
                               ORDER BY l.labelled_at DESC, l.id DESC), '[]')
       FROM transaction_labels l WHERE l.transaction_id = p_id));
END $$;
COMMIT;

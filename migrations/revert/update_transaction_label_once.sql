-- Revert techmart:update_transaction_label_once from pg (the body of entity_risk)
BEGIN;

CREATE OR REPLACE FUNCTION api.update_transaction(p_id bigint, p jsonb, p_actor text)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_row transactions;
  v_at timestamptz;
  v_cur record;
BEGIN
  PERFORM api._require_object(p);
  PERFORM api._raise_if(
    api._check_keys(p, ARRAY['status', 'label', 'note', 'labelled_at'])
    || api._check_enum(p, 'status', ARRAY['pending', 'completed', 'failed', 'refunded', 'blocked'])
    || api._check_enum(p, 'label', ARRAY['fraud', 'legitimate', 'unknown'])
    || api._check_text(p, 'note', false, 2000)
    || api._check_time(p, 'labelled_at')
    || api._err('', CASE WHEN NOT (p ? 'status' OR p ? 'label') THEN 'give status and/or label' END)
    || api._err('labelled_at', CASE WHEN p ? 'labelled_at' AND NOT p ? 'label' THEN 'needs a label' END),
    'invalid transaction update');
  v_at := coalesce(api._time(p->>'labelled_at'), now());
  PERFORM api._raise_if(api._err('labelled_at', CASE WHEN v_at > now() THEN 'must not be in the future' END),
                        'invalid transaction update');
  UPDATE transactions t SET status = coalesce(p->>'status', t.status)
   WHERE t.id = p_id
  RETURNING * INTO v_row;
  IF NOT FOUND THEN RETURN NULL; END IF;
  IF p ? 'label' THEN
    INSERT INTO transaction_labels (transaction_id, label, labelled_at, labelled_by, note)
    VALUES (p_id, p->>'label', v_at, coalesce(p_actor, current_user), p->>'note');
    -- the current verdict is the latest by labelled_at (a backdated verdict may not be it)
    SELECT l.label, l.labelled_at INTO v_cur FROM transaction_labels l
     WHERE l.transaction_id = p_id ORDER BY l.labelled_at DESC, l.id DESC LIMIT 1;
    UPDATE transactions t
       SET label = v_cur.label, labelled_at = CASE WHEN v_cur.label = 'unknown' THEN NULL ELSE v_cur.labelled_at END
     WHERE t.id = p_id
    RETURNING * INTO v_row;
  END IF;
  RETURN api.transaction_json(v_row) || jsonb_build_object('labels',
    (SELECT coalesce(jsonb_agg(jsonb_build_object('label', l.label, 'labelled_at', l.labelled_at,
                                                  'labelled_by', l.labelled_by, 'note', l.note)
                               ORDER BY l.labelled_at DESC, l.id DESC), '[]')
       FROM transaction_labels l WHERE l.transaction_id = p_id));
END $$;

COMMIT;

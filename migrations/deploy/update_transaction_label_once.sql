-- Deploy techmart:update_transaction_label_once to pg
-- requires: entity_risk
-- requires: labels_current
--
-- api.update_transaction() wrote the transaction up to three times for one request: an UPDATE of
-- status to itself when only a verdict was given, the verdict (whose labels_current triggers set
-- transactions.label/labelled_at), then its own UPDATE of label/labelled_at to the same values.
-- Now: the status UPDATE only when a status is given (else the same row lock by SELECT ... FOR NO
-- KEY UPDATE), and the row read back after the verdict. Same responses, one row version less per
-- verdict (two for a verdict alone), no rollup/entity UPDATE triggers fired for unchanged rows.
BEGIN;

CREATE OR REPLACE FUNCTION api.update_transaction(p_id bigint, p jsonb, p_actor text)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_row transactions;
  v_at timestamptz;
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
  IF p ? 'status' THEN
    UPDATE transactions t SET status = p->>'status'
     WHERE t.id = p_id
    RETURNING * INTO v_row;
  ELSE
    -- a verdict alone: the row lock the UPDATE would take (before the entity counters' advisory
    -- locks, as labels_current orders them), without writing a row version
    SELECT * INTO v_row FROM transactions t WHERE t.id = p_id FOR NO KEY UPDATE;
  END IF;
  IF NOT FOUND THEN RETURN NULL; END IF;
  IF p ? 'label' THEN
    INSERT INTO transaction_labels (transaction_id, label, labelled_at, labelled_by, note)
    VALUES (p_id, p->>'label', v_at, coalesce(p_actor, current_user), p->>'note');
    -- the triggers of labels_current have set label/labelled_at to the latest verdict by
    -- labelled_at (a backdated verdict may not be it): read the row back
    SELECT * INTO v_row FROM transactions t WHERE t.id = p_id;
  END IF;
  RETURN api.transaction_json(v_row) || jsonb_build_object('labels',
    (SELECT coalesce(jsonb_agg(jsonb_build_object('label', l.label, 'labelled_at', l.labelled_at,
                                                  'labelled_by', l.labelled_by, 'note', l.note)
                               ORDER BY l.labelled_at DESC, l.id DESC), '[]')
       FROM transaction_labels l WHERE l.transaction_id = p_id));
END $$;

COMMIT;

-- ---------------------------------------------------------------------------------------
-- 16-label-null: techmart.label(NULL, 'fraud') said P0002 "transaction <NULL> does not exist", like
-- explain(NULL) did: a NULL id is now 22004. The rest is the 0.2 body (40-entity).

CREATE OR REPLACE FUNCTION @extschema@.label(transaction_id bigint, label text, note text DEFAULT NULL,
                                  labelled_at timestamptz DEFAULT now())
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v record;
BEGIN
  IF label.transaction_id IS NULL THEN
    RAISE EXCEPTION 'label: the transaction id must not be NULL' USING ERRCODE = '22004';
  END IF;
  IF label IS NULL OR label NOT IN ('fraud', 'legitimate', 'unknown') THEN
    RAISE EXCEPTION 'label must be fraud, legitimate or unknown, got %', coalesce(label, 'NULL')
      USING ERRCODE = '22023';
  END IF;
  IF labelled_at IS NULL OR NOT isfinite(labelled_at) OR labelled_at > now() THEN
    RAISE EXCEPTION 'labelled_at must be a finite time not in the future, got %', coalesce(labelled_at::text, 'NULL')
      USING ERRCODE = '22023';
  END IF;
  PERFORM 1 FROM public.transactions x WHERE x.id = label.transaction_id FOR NO KEY UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'transaction % does not exist', label.transaction_id USING ERRCODE = 'P0002';
  END IF;
  INSERT INTO public.transaction_labels (transaction_id, label, labelled_at, note)
  VALUES (label.transaction_id, label.label, label.labelled_at, label.note);
  -- transactions.label/labelled_at: the current verdict (the latest by labelled_at)
  SELECT l.label, l.labelled_at INTO v FROM public.transaction_labels l
   WHERE l.transaction_id = label.transaction_id ORDER BY l.labelled_at DESC, l.id DESC LIMIT 1;
  UPDATE public.transactions x
     SET label = v.label, labelled_at = CASE WHEN v.label = 'unknown' THEN NULL ELSE v.labelled_at END
   WHERE x.id = label.transaction_id;
END $$;

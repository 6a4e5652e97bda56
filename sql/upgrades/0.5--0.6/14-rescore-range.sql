-- ---------------------------------------------------------------------------------------
-- 14-rescore-range: CALL techmart.rescore(from, to) with from >= to reported 0 rows in 0 batches,
-- as if the period had nothing to rescore: it is now 22023 (as backtest() does). -infinity and
-- infinity are open bounds: rescore_customers() (C, extension/pg/fraud_functions.cpp) overflowed on
-- them and rescored nothing while CALL rescore('-infinity', 'infinity') reported its batches; it
-- also replayed and counted a customer given twice twice (now once, in id order).

CREATE OR REPLACE PROCEDURE @extschema@.rescore(from_time timestamptz, to_time timestamptz,
                                     batch_size integer DEFAULT 500,
                                     INOUT rescored bigint DEFAULT NULL, INOUT changed bigint DEFAULT NULL,
                                     INOUT newly_suspicious bigint DEFAULT NULL,
                                     INOUT no_longer_suspicious bigint DEFAULT NULL,
                                     INOUT batches integer DEFAULT NULL)
-- no SET clause: a procedure with one cannot COMMIT ("invalid transaction termination"); every
-- name in the body is schema-qualified instead (pg_catalog is searched first anyway)
LANGUAGE plpgsql AS $$
DECLARE
  ids bigint[];
  r record;
  last_id bigint := -1;
BEGIN
  IF from_time IS NULL OR to_time IS NULL OR batch_size IS NULL OR batch_size < 1 THEN
    RAISE EXCEPTION 'rescore: from_time, to_time and batch_size >= 1 are required'
      USING ERRCODE = '22023';
  END IF;
  IF from_time >= to_time THEN
    RAISE EXCEPTION 'rescore: from_time must be before to_time (the period is [from_time, to_time)), got % and %',
                    from_time, to_time USING ERRCODE = '22023';
  END IF;
  rescored := 0; changed := 0; newly_suspicious := 0; no_longer_suspicious := 0; batches := 0;
  LOOP
    SELECT array_agg(c ORDER BY c) INTO ids FROM (
      SELECT DISTINCT customer_id AS c FROM public.transactions
       WHERE transaction_time >= from_time AND transaction_time < to_time AND customer_id > last_id
       ORDER BY 1 LIMIT batch_size) s;
    EXIT WHEN ids IS NULL;
    r := @extschema@.rescore_customers(ids, from_time, to_time);
    rescored := rescored + r.rescored;
    changed := changed + r.changed;
    newly_suspicious := newly_suspicious + r.newly_suspicious;
    no_longer_suspicious := no_longer_suspicious + r.no_longer_suspicious;
    batches := batches + 1;
    last_id := ids[cardinality(ids)];
    COMMIT;  -- each batch its own transaction: row locks are short, inserts never wait long
  END LOOP;
END $$;
COMMENT ON FUNCTION @extschema@.rescore_customers(bigint[], timestamptz, timestamptz, text) IS
  'Replays the history of the given customers (each once; NULL elements and unknown ids skipped) with the current '
  'rules and updates fraud_score, fraud_reasons, is_suspicious of their rows in [from_time, to_time) (-infinity / '
  'infinity: open); leaves customer_state alone';

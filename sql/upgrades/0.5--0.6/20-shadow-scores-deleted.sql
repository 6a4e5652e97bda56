-- ---------------------------------------------------------------------------------------
-- 20-shadow-scores-deleted: techmart.shadow_scores kept the rows of deleted transactions
-- (orphans: shadow_compare() dropped them only through its join, the table grew forever and a
-- re-used id would have shown another transaction's shadow score). They now go with the
-- transaction, at no cost on the insert path (no foreign key: its check would be one more query per
-- shadow row inside the scoring trigger, which writes the shadow row before its transaction exists):
--   * shadow_scores_deleted(): AFTER DELETE FOR EACH STATEMENT on transactions with the deleted
--     rows as transition table old_rows: deletes their shadow rows (one statement per DELETE);
--   * shadow_scores_truncated(): AFTER TRUNCATE on transactions: deletes every shadow row.
-- The sqitch change shadow_scores_deleted attaches both to public.transactions (the migrations own
-- it), registers the reference for a partitioned transactions table (techmart_ops.transaction_refs:
-- the retention drop_transactions_before() then deletes the shadow rows of the partitions it drops)
-- and deletes the orphans left so far. SECURITY DEFINER like a foreign key's action, which runs
-- as the referencing table's owner: whoever may delete transactions need not read shadow_scores.

CREATE FUNCTION @extschema@.shadow_scores_deleted() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF TG_LEVEL <> 'STATEMENT' OR TG_OP <> 'DELETE' OR TG_WHEN <> 'AFTER' THEN
    RAISE EXCEPTION 'shadow_scores_deleted() is an AFTER DELETE FOR EACH STATEMENT trigger (REFERENCING OLD TABLE AS old_rows)'
      USING ERRCODE = '39P01';
  END IF;
  -- no shadow configuration was ever active (the usual case): one index probe
  IF EXISTS (SELECT FROM @extschema@.shadow_scores) THEN
    DELETE FROM @extschema@.shadow_scores s WHERE s.transaction_id IN (SELECT o.id FROM old_rows o);
  END IF;
  RETURN NULL;
END $$;
COMMENT ON FUNCTION @extschema@.shadow_scores_deleted() IS
  'AFTER DELETE FOR EACH STATEMENT on transactions (REFERENCING OLD TABLE AS old_rows): deletes the shadow_scores '
  'rows of the deleted transactions';

CREATE FUNCTION @extschema@.shadow_scores_truncated() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF TG_LEVEL <> 'STATEMENT' OR TG_OP <> 'TRUNCATE' THEN
    RAISE EXCEPTION 'shadow_scores_truncated() is an AFTER TRUNCATE trigger' USING ERRCODE = '39P01';
  END IF;
  DELETE FROM @extschema@.shadow_scores;
  RETURN NULL;
END $$;
COMMENT ON FUNCTION @extschema@.shadow_scores_truncated() IS
  'AFTER TRUNCATE on transactions: deletes every shadow_scores row';
REVOKE ALL ON FUNCTION @extschema@.shadow_scores_deleted(), @extschema@.shadow_scores_truncated() FROM PUBLIC;

COMMENT ON TABLE @extschema@.shadow_scores IS
  'Scores of the shadow configurations, written by the scoring trigger next to the live score of each inserted '
  'transaction (no alert, no state change); deleted with their transaction (shadow_scores_deleted/_truncated '
  'triggers on transactions, sqitch change shadow_scores_deleted)';

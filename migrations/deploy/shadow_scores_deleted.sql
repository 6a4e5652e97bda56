-- Deploy techmart:shadow_scores_deleted to pg
-- requires: risk_list_restore (0.5)
-- requires: entity_counts_private
-- requires: transactions_partitioning
--
-- techmart 0.6 (sql/upgrades/0.5--0.6): argument checks of the DBA's and analyst's functions
-- (explain, entity_risk, refresh_priors, rescore) and the cleanup of techmart.shadow_scores, whose
-- rows outlived their deleted transactions. A database created at 0.6 is already there (a no-op).
-- Here, on public.transactions (the migrations own it):
--   * transactions_shadow_del: AFTER DELETE FOR EACH STATEMENT with the deleted rows -> their
--     shadow scores are deleted (techmart.shadow_scores_deleted()); nothing on the insert path;
--   * transactions_shadow_trunc: AFTER TRUNCATE -> every shadow score is deleted;
--   * techmart_ops.transaction_refs lists techmart.shadow_scores.transaction_id (cascade): once
--     transactions is partitioned (docs/scaling.md), drop_transactions_before() deletes the shadow
--     rows of the partitions it drops (no trigger fires there) and an UPDATE of an id that would
--     orphan one is refused, like the three foreign keys the partitioning replaces;
--   * the orphans left so far are deleted.
BEGIN;

SET LOCAL client_min_messages = warning;  -- no NOTICE when it is already 0.6
ALTER EXTENSION techmart UPDATE TO '0.6';

CREATE TRIGGER transactions_shadow_del AFTER DELETE ON public.transactions
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION techmart.shadow_scores_deleted();
CREATE TRIGGER transactions_shadow_trunc AFTER TRUNCATE ON public.transactions
  FOR EACH STATEMENT EXECUTE FUNCTION techmart.shadow_scores_truncated();

INSERT INTO techmart_ops.transaction_refs (tbl, col, conname, on_delete)
VALUES ('techmart.shadow_scores', 'transaction_id', 'transactions_shadow_del', 'cascade');

DELETE FROM techmart.shadow_scores s
 WHERE NOT EXISTS (SELECT FROM public.transactions t WHERE t.id = s.transaction_id);

COMMIT;

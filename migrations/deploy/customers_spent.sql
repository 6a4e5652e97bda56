-- Deploy techmart:customers_spent to pg
-- requires: comments_true
-- requires: refunds
-- requires: rollups
--
-- customers.total_spent kept exact by the writes to transactions, inside the writing transaction
-- (before: only the seed load and the Online Retail import set it; new sales, refunds, status
-- changes and deletes left it stale while the API sorted customers by it and BI read it).
--
-- Definition (the one of the rollups' revenue, change refunds, and of the import's net spend):
--   spend of a line = amount of a completed sale line, minus the amount of a refund row (kind
--   'refund', always status 'refunded'), 0 otherwise (pending, failed, blocked, a sale line whose
--   status is 'refunded');  customers.total_spent = sum over the customer's lines.
--   analytics.line_spend(kind, status, amount) is that expression, used by every path below.
--
-- Upkeep: statement-level AFTER triggers with transition tables, like the rollups (and on a
-- partitioned transactions they are carried to the new parent by partition_transactions(), as the
-- rollup triggers are): the statement's lines (new_rows with +spend, old_rows with -spend) summed
-- per customer, customers whose sum is 0 skipped (an UPDATE of label, score or time changes nothing),
-- then one UPDATE customers SET total_spent = total_spent + delta per remaining customer, in
-- customer-id order (two writers lock their customers in the same order: no deadlock between
-- them). TRUNCATE transactions sets every total_spent to 0 (as it empties the rollups).
-- analytics.customers_spent_rebuild() recomputes every customer from transactions (after a bulk load
-- with triggers off, a retention drop, or if it ever was off); analytics.customers_spent_check()
-- lists the customers whose total_spent differs from that recomputation.
BEGIN;

CREATE FUNCTION analytics.line_spend(p_kind text, p_status text, p_amount numeric)
RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN p_kind = 'refund' THEN -p_amount WHEN p_status = 'completed' THEN p_amount ELSE 0 END
$$;
COMMENT ON FUNCTION analytics.line_spend(text, text, numeric) IS
  'A transaction line''s contribution to its customer''s net spend (customers.total_spent) and to revenue: '
  'amount of a completed sale line, minus the amount of a refund row, 0 otherwise';

-- apply per-customer deltas of the statement, in customer-id order, one UPDATE per customer
CREATE FUNCTION analytics.customers_spent_insert_trigger()
RETURNS trigger
LANGUAGE plpgsql VOLATILE
SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT n.customer_id, sum(analytics.line_spend(n.kind, n.status, n.amount)) AS d
             FROM new_rows n GROUP BY n.customer_id
           HAVING sum(analytics.line_spend(n.kind, n.status, n.amount)) <> 0
            ORDER BY n.customer_id LOOP
    UPDATE customers SET total_spent = total_spent + r.d WHERE id = r.customer_id;
  END LOOP;
  RETURN NULL;
END $$;
COMMENT ON FUNCTION analytics.customers_spent_insert_trigger() IS
  'Statement trigger of INSERT/COPY on transactions: adds the statement''s net spend per customer to customers.total_spent (customer-id order)';

CREATE FUNCTION analytics.customers_spent_update_trigger()
RETURNS trigger
LANGUAGE plpgsql VOLATILE
SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT x.customer_id, sum(x.d) AS d
             FROM (SELECT n.customer_id, analytics.line_spend(n.kind, n.status, n.amount) AS d FROM new_rows n
                   UNION ALL
                   SELECT o.customer_id, -analytics.line_spend(o.kind, o.status, o.amount) FROM old_rows o) x
            GROUP BY x.customer_id HAVING sum(x.d) <> 0
            ORDER BY x.customer_id LOOP
    UPDATE customers SET total_spent = total_spent + r.d WHERE id = r.customer_id;
  END LOOP;
  RETURN NULL;
END $$;
COMMENT ON FUNCTION analytics.customers_spent_update_trigger() IS
  'Statement trigger of UPDATE on transactions: the net spend of the new line versions minus the old ones, per customer, '
  'added to customers.total_spent (status, amount, kind or customer changes; nothing for other columns)';

CREATE FUNCTION analytics.customers_spent_delete_trigger()
RETURNS trigger
LANGUAGE plpgsql VOLATILE
SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT o.customer_id, sum(analytics.line_spend(o.kind, o.status, o.amount)) AS d
             FROM old_rows o GROUP BY o.customer_id
           HAVING sum(analytics.line_spend(o.kind, o.status, o.amount)) <> 0
            ORDER BY o.customer_id LOOP
    UPDATE customers SET total_spent = total_spent - r.d WHERE id = r.customer_id;
  END LOOP;
  RETURN NULL;
END $$;
COMMENT ON FUNCTION analytics.customers_spent_delete_trigger() IS
  'Statement trigger of DELETE on transactions: subtracts the deleted lines'' net spend per customer from customers.total_spent (customer-id order)';

CREATE FUNCTION analytics.customers_spent_truncate_trigger()
RETURNS trigger
LANGUAGE plpgsql VOLATILE
SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  UPDATE customers SET total_spent = 0 WHERE total_spent <> 0;
  RETURN NULL;
END $$;
COMMENT ON FUNCTION analytics.customers_spent_truncate_trigger() IS
  'TRUNCATE of transactions sets every customers.total_spent to 0 (as it empties the rollups)';

CREATE TRIGGER transactions_spent_ins AFTER INSERT ON transactions
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION analytics.customers_spent_insert_trigger();
CREATE TRIGGER transactions_spent_upd AFTER UPDATE ON transactions
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION analytics.customers_spent_update_trigger();
CREATE TRIGGER transactions_spent_del AFTER DELETE ON transactions
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION analytics.customers_spent_delete_trigger();
CREATE TRIGGER transactions_spent_trunc AFTER TRUNCATE ON transactions
  FOR EACH STATEMENT EXECUTE FUNCTION analytics.customers_spent_truncate_trigger();

-- import.online_retail() (the function of import_online_retail_c / import_state_incremental): step 5
-- sets total_spent of the customers of the file from all their lines (the same definition), so the
-- import treats transactions_spent_ins like transactions_rollup_ins: the bulk path is still taken
-- with it present (it was refused for any other INSERT trigger) and the ordinary path disables it
-- for its INSERT (its ACCESS EXCLUSIVE lock keeps other writers out until the import commits).
DO $patch$
DECLARE
  def text := pg_get_functiondef('import.online_retail(text)'::regprocedure);
  old_fast text := $o$'transactions_notify', 'transactions_rollup_ins')$o$;
  new_fast text := $n$'transactions_notify', 'transactions_rollup_ins',
                                                    'transactions_spent_ins')$n$;
  re text := '(\n\s*)ALTER TABLE public\.transactions (DISABLE|ENABLE) TRIGGER transactions_rollup_ins;';
BEGIN
  IF (length(def) - length(replace(def, old_fast, ''))) / length(old_fast) <> 1
     OR regexp_count(def, re) <> 3 OR position('transactions_spent_ins' IN def) > 0 THEN
    RAISE EXCEPTION 'customers_spent: import.online_retail() is not the function of change import_state_incremental'
      USING HINT = 'adapt migrations/deploy/customers_spent.sql';
  END IF;
  def := replace(def, old_fast, new_fast);
  def := regexp_replace(def, re, '\1ALTER TABLE public.transactions \2 TRIGGER transactions_rollup_ins;'
                                 '\1ALTER TABLE public.transactions \2 TRIGGER transactions_spent_ins;', 'g');
  EXECUTE def;
END $patch$;

-- recomputation from transactions
CREATE FUNCTION analytics.customers_spent_check()
RETURNS TABLE (customer_id bigint, total_spent numeric, recomputed numeric)
LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
  SELECT c.id, c.total_spent, coalesce(s.spent, 0)
    FROM customers c
    LEFT JOIN (SELECT t.customer_id, sum(analytics.line_spend(t.kind, t.status, t.amount)) AS spent
                 FROM transactions t GROUP BY t.customer_id) s ON s.customer_id = c.id
   WHERE c.total_spent IS DISTINCT FROM coalesce(s.spent, 0)::numeric(16,3)
   ORDER BY c.id
$$;
COMMENT ON FUNCTION analytics.customers_spent_check() IS
  'Customers whose total_spent differs from the recomputation from transactions (sum of analytics.line_spend); no row when exact';

CREATE FUNCTION analytics.customers_spent_rebuild()
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  n bigint;
BEGIN
  -- writers wait (SHARE conflicts with their ROW EXCLUSIVE): the sums cannot move under us
  LOCK TABLE transactions IN SHARE MODE;
  UPDATE customers c SET total_spent = x.spent
    FROM (SELECT c2.id, coalesce(s.spent, 0) AS spent
            FROM customers c2
            LEFT JOIN (SELECT t.customer_id, sum(analytics.line_spend(t.kind, t.status, t.amount)) AS spent
                         FROM transactions t GROUP BY t.customer_id) s ON s.customer_id = c2.id) x
   WHERE c.id = x.id AND c.total_spent IS DISTINCT FROM x.spent::numeric(16,3);
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;
COMMENT ON FUNCTION analytics.customers_spent_rebuild() IS
  'Recomputes customers.total_spent of every customer from transactions (after a bulk load with triggers off or a retention drop); '
  'returns the number of customers changed';
REVOKE ALL ON FUNCTION analytics.customers_spent_rebuild() FROM PUBLIC;

-- existing databases: make it exact now
DO $$ BEGIN PERFORM analytics.customers_spent_rebuild(); END $$;

COMMENT ON COLUMN customers.total_spent IS
  'Net spend: completed sale lines minus refund rows (analytics.line_spend), kept exact by statement triggers on transactions';
COMMENT ON COLUMN bi.customers.total_spent IS
  'Net spend (completed sale lines minus refund rows), kept current by every write to transactions in the writing transaction';

COMMIT;

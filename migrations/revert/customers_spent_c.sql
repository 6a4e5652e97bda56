-- Revert techmart:customers_spent_c from pg
-- the PL/pgSQL trigger functions of change customers_spent
BEGIN;

-- apply per-customer deltas of the statement, in customer-id order, one UPDATE per customer
CREATE OR REPLACE FUNCTION analytics.customers_spent_insert_trigger()
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

CREATE OR REPLACE FUNCTION analytics.customers_spent_update_trigger()
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

CREATE OR REPLACE FUNCTION analytics.customers_spent_delete_trigger()
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

COMMIT;

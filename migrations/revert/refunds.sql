-- Revert techmart:refunds from pg
-- Restores the definitions of changes rollups and analytics (copied from them) and drops kind.
BEGIN;

DELETE FROM transactions WHERE kind = 'refund';

DO $$
DECLARE
  s record;
BEGIN
  FOR s IN SELECT * FROM (VALUES
    (1, 'lines_insert', 'n\.platform, n\.payment_method, n\.kind', 'n.platform, n.payment_method'),
    (2, 'lines_delete', 'o\.platform, o\.payment_method, o\.kind', 'o.platform, o.payment_method'),
    (3, 'lines_update', 'n\.platform, n\.payment_method, n\.kind', 'n.platform, n.payment_method'),
    (4, 'lines_update', 'o\.platform, o\.payment_method, o\.kind', 'o.platform, o.payment_method'),
    (5, 'apply', 't\.platform, t\.payment_method, t\.kind', 't.platform, t.payment_method'),
    (6, 'apply', 'a\.payment_method, a\.kind = ''refund'' AS r,', 'a.payment_method,'),
    (7, 'apply', ' - coalesce\(sum\(a\.sign \* a\.amount\) FILTER \(WHERE a\.r\), 0\) AS revenue', ' AS revenue'),
    (8, 'apply', ' - coalesce\(sum\(a\.sign \* a\.quantity\) FILTER \(WHERE a\.r\), 0\) AS units', ' AS units')
  ) v(ord, step, pattern, replacement) ORDER BY ord LOOP
    UPDATE analytics.rollup_sql SET sql = regexp_replace(sql, s.pattern, s.replacement, 'g') WHERE step = s.step;
  END LOOP;
END $$;

-- regenerate the trigger functions (the generator of change rollups, with CREATE OR REPLACE)
DO $gen$
DECLARE
  op    text;
  src   text;
  cnt   text;
  reg   text := (SELECT sql FROM analytics.rollup_sql WHERE step = 'registry');
  apply text := (SELECT sql FROM analytics.rollup_sql WHERE step = 'apply');
  q_reg text;
  q_app text;
BEGIN
  FOREACH op IN ARRAY ARRAY['insert', 'update', 'delete'] LOOP
    src := (SELECT sql FROM analytics.rollup_sql WHERE step = 'lines_' || op);
    cnt := CASE op WHEN 'delete' THEN 'old_rows' ELSE 'new_rows' END;
    q_reg := format(reg, src);
    q_app := format(apply, src);
    EXECUTE format($f$
      CREATE OR REPLACE FUNCTION analytics.rollup_%1$s_trigger()
      RETURNS trigger
      LANGUAGE plpgsql VOLATILE
      -- definer: a role allowed to write transactions needs no privilege on the rollup tables
      SECURITY DEFINER SET search_path = public, pg_temp
      SET work_mem = '64MB'  -- the statement's hash aggregates stay in memory
      AS $body$
      DECLARE
        n bigint := (SELECT count(*) FROM %2$s);
      BEGIN
        IF n = 0 THEN
          RETURN NULL;
        ELSIF n <= 64 THEN
          %3$s;
          %4$s;
        ELSE
          EXECUTE %5$L;
          EXECUTE %6$L;
        END IF;
        %7$s
        RETURN NULL;
      END $body$ $f$,
      op, cnt, q_reg, q_app, q_reg, q_app,
      CASE WHEN op = 'insert' THEN '' ELSE
        '-- orders whose last line went away
        DELETE FROM analytics.order_registry r WHERE r.lines = 0
           AND r.order_number IN (SELECT o.order_number FROM old_rows o WHERE o.order_number IS NOT NULL);' END);
  END LOOP;
END $gen$;

CREATE OR REPLACE FUNCTION analytics.rollup_recompute(p_from timestamptz DEFAULT '-infinity', p_to timestamptz DEFAULT 'infinity')
RETURNS TABLE (dim text, hour timestamptz, key text, revenue numeric, orders bigint, units bigint,
               transactions bigint, completed bigint, refunded bigint, refunded_amount numeric,
               blocked bigint, failed bigint, pending bigint, suspicious bigint)
LANGUAGE sql STABLE AS $$
  WITH t AS (
    SELECT date_bin('1 hour', t.transaction_time, '2000-01-01 00:00+00') AS hour,
           coalesce(t.order_number, '#' || t.id) AS order_key,
           t.status, t.amount, t.quantity, t.is_suspicious,
           t.product_id, p.category_id, t.country, t.platform, t.payment_method
      FROM transactions t LEFT JOIN products p ON p.id = t.product_id
     WHERE t.transaction_time >= analytics.hour_floor(p_from)
       AND t.transaction_time < analytics.hour_ceil(p_to)
  )
  SELECT d.dim, t.hour, d.key COLLATE "C",
         coalesce(sum(t.amount) FILTER (WHERE t.status = 'completed'), 0),
         count(DISTINCT t.order_key) FILTER (WHERE t.status = 'completed'),
         coalesce(sum(t.quantity) FILTER (WHERE t.status = 'completed'), 0)::bigint,
         count(*),
         count(*) FILTER (WHERE t.status = 'completed'),
         count(*) FILTER (WHERE t.status = 'refunded'),
         coalesce(sum(t.amount) FILTER (WHERE t.status = 'refunded'), 0),
         count(*) FILTER (WHERE t.status = 'blocked'),
         count(*) FILTER (WHERE t.status = 'failed'),
         count(*) FILTER (WHERE t.status = 'pending'),
         count(*) FILTER (WHERE t.is_suspicious)
    FROM t
   CROSS JOIN LATERAL (VALUES ('all', ''),
                              ('product', t.product_id::text),
                              ('category', coalesce(t.category_id::text, '')),
                              ('country', coalesce(t.country::text, '')),
                              ('platform', t.platform),
                              ('payment_method', t.payment_method)) d(dim, key)
   GROUP BY d.dim, t.hour, d.key
$$;
COMMENT ON FUNCTION analytics.rollup_recompute(timestamptz, timestamptz) IS
  'The rollup values recomputed with GROUP BY from transactions for the hours in [p_from, p_to)';

CREATE OR REPLACE FUNCTION analytics.sales_scan(p_from timestamptz, p_to timestamptz, p_dim text DEFAULT 'all', p_key text DEFAULT '')
RETURNS TABLE (revenue numeric, orders bigint, units bigint, transactions bigint, completed bigint, refunded bigint,
               refunded_amount numeric, blocked bigint, failed bigint, pending bigint, suspicious bigint)
LANGUAGE sql STABLE AS $$
  SELECT coalesce(sum(t.amount) FILTER (WHERE t.status = 'completed'), 0),
         count(DISTINCT coalesce(t.order_number, '#' || t.id)) FILTER (WHERE t.status = 'completed'),
         coalesce(sum(t.quantity) FILTER (WHERE t.status = 'completed'), 0)::bigint,
         count(*), count(*) FILTER (WHERE t.status = 'completed'), count(*) FILTER (WHERE t.status = 'refunded'),
         coalesce(sum(t.amount) FILTER (WHERE t.status = 'refunded'), 0),
         count(*) FILTER (WHERE t.status = 'blocked'), count(*) FILTER (WHERE t.status = 'failed'),
         count(*) FILTER (WHERE t.status = 'pending'), count(*) FILTER (WHERE t.is_suspicious)
    FROM bi.transactions t
   WHERE t.transaction_time >= p_from AND t.transaction_time < p_to
     AND CASE p_dim
           WHEN 'all' THEN true
           WHEN 'product' THEN t.product_id::text = p_key
           WHEN 'category' THEN coalesce((SELECT p.category_id::text FROM bi.products p WHERE p.id = t.product_id), '') = p_key
           WHEN 'country' THEN coalesce(t.country::text, '') = p_key
           WHEN 'platform' THEN t.platform = p_key
           WHEN 'payment_method' THEN t.payment_method = p_key
         END
$$;
COMMENT ON FUNCTION analytics.sales_scan(timestamptz, timestamptz, text, text) IS
  'Sales metrics of [p_from, p_to) computed from transactions (for partial hours; same definitions as the rollups)';

CREATE OR REPLACE FUNCTION analytics.customer_orders(p_from timestamptz, p_to timestamptz)
RETURNS TABLE (customer_id bigint, orders bigint, revenue numeric, units bigint, lines bigint,
               first_purchase timestamptz, last_purchase timestamptz)
LANGUAGE sql STABLE AS $$
  SELECT t.customer_id, count(DISTINCT coalesce(t.order_number, '#' || t.id)), sum(t.amount), sum(t.quantity)::bigint,
         count(*), min(t.transaction_time), max(t.transaction_time)
    FROM bi.transactions t
   WHERE t.status = 'completed' AND t.transaction_time >= p_from AND t.transaction_time < p_to
   GROUP BY t.customer_id
$$;
COMMENT ON FUNCTION analytics.customer_orders(timestamptz, timestamptz) IS
  'Per customer, over completed lines in [p_from, p_to): orders (distinct order_number, or line), revenue, units, '
  'lines, first and last purchase';

-- the view loses its last column: drop and recreate (nothing else depends on bi.transactions
-- by column list; the functions above are SQL bodies resolved at run time)
DROP VIEW bi.transactions;
CREATE VIEW bi.transactions AS
SELECT t.id, t.transaction_time, t.customer_id, t.product_id, t.quantity, t.unit_price, t.amount, t.status,
       t.payment_method, t.platform, t.order_number, t.country, t.fraud_score, t.is_suspicious, t.label
  FROM public.transactions t;
COMMENT ON VIEW bi.transactions IS 'Order lines without personal data (no IP address, device, location or payment fingerprint)';
COMMENT ON COLUMN bi.transactions.id IS 'Transaction (order line) id';
COMMENT ON COLUMN bi.transactions.transaction_time IS 'When the line was placed';
COMMENT ON COLUMN bi.transactions.customer_id IS 'Customer (bi.customers.id)';
COMMENT ON COLUMN bi.transactions.product_id IS 'Product (bi.products.id)';
COMMENT ON COLUMN bi.transactions.quantity IS 'Units ordered';
COMMENT ON COLUMN bi.transactions.unit_price IS 'Price per unit charged';
COMMENT ON COLUMN bi.transactions.amount IS 'quantity * unit_price';
COMMENT ON COLUMN bi.transactions.status IS 'pending, completed, failed, refunded or blocked; only completed lines are revenue';
COMMENT ON COLUMN bi.transactions.payment_method IS 'credit_card, debit_card, paypal, ...';
COMMENT ON COLUMN bi.transactions.platform IS 'Sales channel (web, ios_app, ...)';
COMMENT ON COLUMN bi.transactions.order_number IS 'Order the line belongs to; NULL means the line is an order of its own';
COMMENT ON COLUMN bi.transactions.country IS 'ISO 3166-1 alpha-2 country of the purchase';
COMMENT ON COLUMN bi.transactions.fraud_score IS 'Fraud score 0..100 given by the scoring trigger';
COMMENT ON COLUMN bi.transactions.is_suspicious IS 'fraud_score reached the alert threshold';
COMMENT ON COLUMN bi.transactions.label IS 'Analyst verdict: fraud, legitimate or unknown';
GRANT SELECT ON bi.transactions TO techmart_bi;

DROP INDEX transactions_refund_time_idx;
ALTER TABLE transactions DROP CONSTRAINT transactions_refund_status, DROP COLUMN kind;

COMMIT;

-- Deploy techmart:refunds to pg
-- requires: rollups
-- requires: analytics
--
-- Refunds as transactions of their own, so that revenue everywhere is net of them.
--
--   transactions.kind   'sale' (default: every row so far) or 'refund'. A refund row books money
--                       paid back: positive quantity, unit_price and amount, status 'refunded'
--                       (CHECK), its own order_number (e.g. the cancellation invoice C536379),
--                       linked to its customer and product like any line.
--
-- Definitions after this change (rollups, sales_scan, customer_orders):
--   revenue  sum(amount) of completed sale lines MINUS sum(amount) of refund rows, booked at the
--            refund's own time (a January refund of a December sale lowers January);
--   units    sum(quantity) of completed sale lines minus the quantity of refund rows;
--   orders, completed: unchanged (a refund row is not completed, so never an order);
--   refunded / refunded_amount: lines with status refunded, i.e. refunded sale lines (which never
--            counted as revenue) and refund rows (which are subtracted) — both money paid back.
-- A sale line whose status is set to 'refunded' (the seed's and the API's way) keeps its meaning.
--
-- The rollup trigger functions are generated from the templates in analytics.rollup_sql (change
-- rollups); this change edits those templates with exact, asserted substitutions (a template that
-- no longer contains the expected text makes the deploy fail instead of silently mis-counting)
-- and regenerates the functions with the same generator.
BEGIN;

ALTER TABLE transactions
  ADD COLUMN kind text NOT NULL DEFAULT 'sale' CONSTRAINT transactions_kind_check CHECK (kind IN ('sale', 'refund')),
  ADD CONSTRAINT transactions_refund_status CHECK (kind = 'sale' OR status = 'refunded');
COMMENT ON COLUMN transactions.kind IS
  'sale (default) or refund: a refund row books money paid back (positive quantity and amount, status refunded) and '
  'is subtracted from revenue and units at its own time';
CREATE INDEX transactions_refund_time_idx ON transactions (transaction_time) WHERE kind = 'refund';

-- ------------------------------------------------------------------ rollup trigger templates
DO $$
DECLARE
  s record;
  n integer;
BEGIN
  FOR s IN SELECT * FROM (VALUES
    -- the lines of a statement carry kind (last column)
    (1, 'lines_insert', 'n\.platform, n\.payment_method', 'n.platform, n.payment_method, n.kind', 1),
    (2, 'lines_delete', 'o\.platform, o\.payment_method', 'o.platform, o.payment_method, o.kind', 1),
    (3, 'lines_update', 'n\.platform, n\.payment_method', 'n.platform, n.payment_method, n.kind', 2),
    (4, 'lines_update', 'o\.platform, o\.payment_method', 'o.platform, o.payment_method, o.kind', 2),
    -- other lines of an order read from transactions
    (5, 'apply', 't\.platform, t\.payment_method', 't.platform, t.payment_method, t.kind', 1),
    -- r: the line is a refund row
    (6, 'apply', 'a\.payment_method,(\s+)a\.order_number IS NULL OR',
                 'a.payment_method, a.kind = ''refund'' AS r,\1a.order_number IS NULL OR', 1),
    (7, 'apply', 'coalesce\(sum\(a\.sign \* a\.amount\) FILTER \(WHERE a\.c\), 0\) AS revenue',
                 'coalesce(sum(a.sign * a.amount) FILTER (WHERE a.c), 0) - coalesce(sum(a.sign * a.amount) FILTER (WHERE a.r), 0) AS revenue', 1),
    (8, 'apply', 'coalesce\(sum\(a\.sign \* a\.quantity\) FILTER \(WHERE a\.c\), 0\) AS units',
                 'coalesce(sum(a.sign * a.quantity) FILTER (WHERE a.c), 0) - coalesce(sum(a.sign * a.quantity) FILTER (WHERE a.r), 0) AS units', 1)
  ) v(ord, step, pattern, replacement, expected) ORDER BY ord LOOP
    SELECT regexp_count(sql, s.pattern) INTO n FROM analytics.rollup_sql WHERE step = s.step;
    IF n IS DISTINCT FROM s.expected THEN
      RAISE EXCEPTION 'refunds: rollup template % contains /%/ % times, expected %', s.step, s.pattern, n, s.expected
        USING HINT = 'the rollups change edited its templates: adapt migrations/deploy/refunds.sql';
    END IF;
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

-- ------------------------------------------------------------------ recomputation (rollup_check, rollup_rebuild)
CREATE OR REPLACE FUNCTION analytics.rollup_recompute(p_from timestamptz DEFAULT '-infinity', p_to timestamptz DEFAULT 'infinity')
RETURNS TABLE (dim text, hour timestamptz, key text, revenue numeric, orders bigint, units bigint,
               transactions bigint, completed bigint, refunded bigint, refunded_amount numeric,
               blocked bigint, failed bigint, pending bigint, suspicious bigint)
LANGUAGE sql STABLE AS $$
  WITH t AS (
    SELECT date_bin('1 hour', t.transaction_time, '2000-01-01 00:00+00') AS hour,
           coalesce(t.order_number, '#' || t.id) AS order_key,
           t.status, t.kind = 'refund' AS r, t.amount, t.quantity, t.is_suspicious,
           t.product_id, p.category_id, t.country, t.platform, t.payment_method
      FROM transactions t LEFT JOIN products p ON p.id = t.product_id
     WHERE t.transaction_time >= analytics.hour_floor(p_from)
       AND t.transaction_time < analytics.hour_ceil(p_to)
  )
  SELECT d.dim, t.hour, d.key COLLATE "C",
         coalesce(sum(t.amount) FILTER (WHERE t.status = 'completed'), 0)
           - coalesce(sum(t.amount) FILTER (WHERE t.r), 0),
         count(DISTINCT t.order_key) FILTER (WHERE t.status = 'completed'),
         (coalesce(sum(t.quantity) FILTER (WHERE t.status = 'completed'), 0)
           - coalesce(sum(t.quantity) FILTER (WHERE t.r), 0))::bigint,
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
  'The rollup values recomputed with GROUP BY from transactions for the hours in [p_from, p_to); revenue and units '
  'are net of refund rows (kind = refund)';

-- ------------------------------------------------------------------ analytics read paths
CREATE OR REPLACE VIEW bi.transactions AS
SELECT t.id, t.transaction_time, t.customer_id, t.product_id, t.quantity, t.unit_price, t.amount, t.status,
       t.payment_method, t.platform, t.order_number, t.country, t.fraud_score, t.is_suspicious, t.label, t.kind
  FROM public.transactions t;
COMMENT ON COLUMN bi.transactions.kind IS
  'sale, or refund: money paid back (status refunded), subtracted from revenue at its own time';

CREATE OR REPLACE FUNCTION analytics.sales_scan(p_from timestamptz, p_to timestamptz, p_dim text DEFAULT 'all', p_key text DEFAULT '')
RETURNS TABLE (revenue numeric, orders bigint, units bigint, transactions bigint, completed bigint, refunded bigint,
               refunded_amount numeric, blocked bigint, failed bigint, pending bigint, suspicious bigint)
LANGUAGE sql STABLE AS $$
  SELECT coalesce(sum(t.amount) FILTER (WHERE t.status = 'completed'), 0)
           - coalesce(sum(t.amount) FILTER (WHERE t.kind = 'refund'), 0),
         count(DISTINCT coalesce(t.order_number, '#' || t.id)) FILTER (WHERE t.status = 'completed'),
         (coalesce(sum(t.quantity) FILTER (WHERE t.status = 'completed'), 0)
           - coalesce(sum(t.quantity) FILTER (WHERE t.kind = 'refund'), 0))::bigint,
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
  'Sales metrics of [p_from, p_to) computed from transactions (for partial hours; same definitions as the rollups: '
  'revenue and units net of refund rows)';

-- customers: net of their refunds; a customer is listed when they have a completed sale line in the range
CREATE OR REPLACE FUNCTION analytics.customer_orders(p_from timestamptz, p_to timestamptz)
RETURNS TABLE (customer_id bigint, orders bigint, revenue numeric, units bigint, lines bigint,
               first_purchase timestamptz, last_purchase timestamptz)
LANGUAGE sql STABLE AS $$
  SELECT t.customer_id,
         count(DISTINCT coalesce(t.order_number, '#' || t.id)) FILTER (WHERE t.status = 'completed'),
         sum(CASE WHEN t.kind = 'refund' THEN -t.amount ELSE t.amount END),
         sum(CASE WHEN t.kind = 'refund' THEN -t.quantity ELSE t.quantity END)::bigint,
         count(*) FILTER (WHERE t.status = 'completed'),
         min(t.transaction_time) FILTER (WHERE t.status = 'completed'),
         max(t.transaction_time) FILTER (WHERE t.status = 'completed')
    FROM bi.transactions t
   WHERE (t.status = 'completed' OR t.kind = 'refund')
     AND t.transaction_time >= p_from AND t.transaction_time < p_to
   GROUP BY t.customer_id
  HAVING count(*) FILTER (WHERE t.status = 'completed') > 0
$$;
COMMENT ON FUNCTION analytics.customer_orders(timestamptz, timestamptz) IS
  'Per customer with at least one completed line in [p_from, p_to): orders (distinct order_number, or line, of '
  'completed lines), revenue and units net of the customer''s refund rows in the range, completed lines, first and '
  'last purchase';

COMMIT;

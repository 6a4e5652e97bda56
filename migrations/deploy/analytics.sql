-- Deploy techmart:analytics to pg
-- requires: rollups
--
-- The analytics SQL surface of SPEC section 3:
--   schema bi         documented views for BI tools (COMMENT ON every view and column), read by the
--                     NOLOGIN group role techmart_bi, which can read nothing else of value
--                     (no users, no password hashes, no e-mail, IP, device or card fingerprints);
--   schema analytics  documented functions (revenue series, comparisons, breakdowns, patterns,
--                     growth, top products, low stock, inventory history, customers: top,
--                     behaviour, RFM segments, lifetime value). Sales figures come from the
--                     rollups (analytics.sales_hourly); customer figures from bi.transactions;
--   schema api        jsonb wrappers for the REST service (SECURITY DEFINER, validated input,
--                     SQLSTATE 22023 with DETAIL {"errors":[{field,message}]}).
-- Every function takes an explicit range or as-of time, so imported history (no "today") works.
--
-- Time zone: days, weeks, months and years are those of the business time zone
-- analytics.business_timezone(): the GUC analytics.business_timezone when set (e.g.
-- ALTER DATABASE techmart SET analytics.business_timezone = 'Europe/Berlin'), else the row of
-- analytics.settings, default UTC. Series built from hourly rollups attribute each UTC hour to
-- the local period containing its start (exact for zones with whole-hour offsets); totals
-- (analytics.sales_totals, the dashboard overview, comparisons) are exact for any range: partial
-- hours at the ends are read from transactions.
BEGIN;

-- ------------------------------------------------------------------ settings
CREATE FUNCTION analytics.is_time_zone(p text) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF p IS NULL OR btrim(p) = '' THEN RETURN false; END IF;
  PERFORM now() AT TIME ZONE p;
  RETURN true;
EXCEPTION WHEN invalid_parameter_value THEN
  RETURN false;
END $$;
COMMENT ON FUNCTION analytics.is_time_zone(text) IS 'true when p is a time zone name PostgreSQL knows (e.g. Europe/London)';

CREATE TABLE analytics.settings (
  key         text PRIMARY KEY CHECK (key IN ('business_timezone')),
  value       text NOT NULL,
  description text,
  CONSTRAINT settings_timezone_valid CHECK (key <> 'business_timezone' OR analytics.is_time_zone(value))
);
COMMENT ON TABLE analytics.settings IS 'Analytics settings (business_timezone); the GUC analytics.<key> overrides a row';
INSERT INTO analytics.settings (key, value, description)
VALUES ('business_timezone', 'UTC', 'Time zone of business days, weeks, months and years (dashboard "today")');

CREATE FUNCTION analytics.business_timezone() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT coalesce(nullif(current_setting('analytics.business_timezone', true), ''),
                  (SELECT value FROM analytics.settings WHERE key = 'business_timezone'), 'UTC')
$$;
COMMENT ON FUNCTION analytics.business_timezone() IS
  'The business time zone: GUC analytics.business_timezone if set, else analytics.settings, else UTC';

-- jsonb array of {field, message} for a bad range (empty when fine)
CREATE FUNCTION analytics.range_errors(p_from timestamptz, p_to timestamptz, p_max interval DEFAULT NULL,
                                       p_from_field text DEFAULT 'from', p_to_field text DEFAULT 'to')
RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(jsonb_agg(jsonb_build_object('field', f, 'message', m)), '[]')
    FROM (VALUES
      (p_from_field, CASE WHEN p_from IS NULL THEN 'is required'
                          WHEN NOT isfinite(p_from) THEN 'must be a finite time' END),
      (p_to_field, CASE WHEN p_to IS NULL THEN 'is required'
                        WHEN NOT isfinite(p_to) THEN 'must be a finite time'
                        WHEN p_from IS NOT NULL AND p_to < p_from THEN 'must not be before ' || p_from_field
                        WHEN p_max IS NOT NULL AND p_from IS NOT NULL AND p_to - p_from > p_max
                          THEN 'range must not exceed ' || p_max::text END)) e(f, m)
   WHERE m IS NOT NULL
$$;
COMMENT ON FUNCTION analytics.range_errors(timestamptz, timestamptz, interval, text, text) IS
  'Validation of a [from, to) range: jsonb array of {field, message}, empty when valid';

CREATE FUNCTION analytics.raise_if(p_errors jsonb, p_message text DEFAULT 'invalid input') RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  IF p_errors IS NOT NULL AND jsonb_array_length(p_errors) > 0 THEN
    PERFORM api.raise_invalid(p_errors, p_message);
  END IF;
END $$;
COMMENT ON FUNCTION analytics.raise_if(jsonb, text) IS 'Raise SQLSTATE 22023 with DETAIL {"errors": p_errors} unless p_errors is empty';

-- ------------------------------------------------------------------ bi base views
CREATE SCHEMA bi;
COMMENT ON SCHEMA bi IS
  'Read-only views for BI tools (role techmart_bi). Money in the shop currency; times are timestamptz; '
  'days/weeks/months in the business time zone analytics.business_timezone()';

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

CREATE VIEW bi.customers AS
SELECT c.id, c.name, c.country, c.city, c.registration_date, c.total_spent, c.risk_score
  FROM public.customers c;
COMMENT ON VIEW bi.customers IS 'Customers without contact data or home location (no e-mail, no coordinates)';
COMMENT ON COLUMN bi.customers.id IS 'Customer id';
COMMENT ON COLUMN bi.customers.name IS 'Customer name';
COMMENT ON COLUMN bi.customers.country IS 'ISO country of the customer';
COMMENT ON COLUMN bi.customers.city IS 'City of the customer';
COMMENT ON COLUMN bi.customers.registration_date IS 'When the customer registered';
COMMENT ON COLUMN bi.customers.total_spent IS 'Lifetime spend (completed lines) as maintained by the application';
COMMENT ON COLUMN bi.customers.risk_score IS 'Fraud risk 0..100 kept by the fraud engine';

CREATE VIEW bi.categories AS
SELECT c.id, c.name, c.description FROM public.categories c;
COMMENT ON VIEW bi.categories IS 'Product categories';
COMMENT ON COLUMN bi.categories.id IS 'Category id';
COMMENT ON COLUMN bi.categories.name IS 'Category name';
COMMENT ON COLUMN bi.categories.description IS 'Category description';

CREATE VIEW bi.suppliers AS
SELECT s.id, s.name, s.reliability_score, s.country FROM public.suppliers s;
COMMENT ON VIEW bi.suppliers IS 'Suppliers with their reliability (no contact e-mail)';
COMMENT ON COLUMN bi.suppliers.id IS 'Supplier id';
COMMENT ON COLUMN bi.suppliers.name IS 'Supplier name';
COMMENT ON COLUMN bi.suppliers.reliability_score IS 'Share of deliveries on time and complete, 0..1';
COMMENT ON COLUMN bi.suppliers.country IS 'ISO country of the supplier';

CREATE VIEW bi.products AS
SELECT p.id, p.sku, p.name, p.category_id, c.name AS category, p.supplier_id, s.name AS supplier, p.price,
       p.stock_quantity, p.low_stock_threshold, p.stock_quantity <= p.low_stock_threshold AS is_low_stock
  FROM public.products p
  LEFT JOIN public.categories c ON c.id = p.category_id
  LEFT JOIN public.suppliers s ON s.id = p.supplier_id;
COMMENT ON VIEW bi.products IS 'Products with category, supplier and stock';
COMMENT ON COLUMN bi.products.id IS 'Product id';
COMMENT ON COLUMN bi.products.sku IS 'Stock keeping unit';
COMMENT ON COLUMN bi.products.name IS 'Product name';
COMMENT ON COLUMN bi.products.category_id IS 'Category id (NULL: uncategorised)';
COMMENT ON COLUMN bi.products.category IS 'Category name';
COMMENT ON COLUMN bi.products.supplier_id IS 'Supplier id';
COMMENT ON COLUMN bi.products.supplier IS 'Supplier name';
COMMENT ON COLUMN bi.products.price IS 'List price';
COMMENT ON COLUMN bi.products.stock_quantity IS 'Units in stock now';
COMMENT ON COLUMN bi.products.low_stock_threshold IS 'Stock at or below which the product is low';
COMMENT ON COLUMN bi.products.is_low_stock IS 'stock_quantity <= low_stock_threshold';

CREATE VIEW bi.inventory_history AS
SELECT h.id, h.product_id, h.previous_quantity, h.new_quantity, h.change, h.reason, h.changed_at
  FROM public.inventory_history h;
COMMENT ON VIEW bi.inventory_history IS 'Every change of a product''s stock';
COMMENT ON COLUMN bi.inventory_history.id IS 'Change id';
COMMENT ON COLUMN bi.inventory_history.product_id IS 'Product';
COMMENT ON COLUMN bi.inventory_history.previous_quantity IS 'Stock before the change';
COMMENT ON COLUMN bi.inventory_history.new_quantity IS 'Stock after the change';
COMMENT ON COLUMN bi.inventory_history.change IS 'new_quantity - previous_quantity';
COMMENT ON COLUMN bi.inventory_history.reason IS 'sale, restock, adjustment or return';
COMMENT ON COLUMN bi.inventory_history.changed_at IS 'When the stock changed';

CREATE VIEW bi.alerts AS
SELECT a.id, a.type, a.severity, a.status, a.message, a.transaction_id, a.customer_id, a.product_id,
       a.created_at, a.acknowledged_at, a.resolved_at
  FROM public.alerts a;
COMMENT ON VIEW bi.alerts IS 'Fraud, stock and anomaly alerts (without their metadata)';
COMMENT ON COLUMN bi.alerts.id IS 'Alert id';
COMMENT ON COLUMN bi.alerts.type IS 'Kind of alert (e.g. fraud, low_stock)';
COMMENT ON COLUMN bi.alerts.severity IS 'low, medium, high or critical';
COMMENT ON COLUMN bi.alerts.status IS 'open, acknowledged or resolved';
COMMENT ON COLUMN bi.alerts.message IS 'Human-readable description';
COMMENT ON COLUMN bi.alerts.transaction_id IS 'Transaction concerned, if any';
COMMENT ON COLUMN bi.alerts.customer_id IS 'Customer concerned, if any';
COMMENT ON COLUMN bi.alerts.product_id IS 'Product concerned, if any';
COMMENT ON COLUMN bi.alerts.created_at IS 'When the alert was raised';
COMMENT ON COLUMN bi.alerts.acknowledged_at IS 'When an analyst acknowledged it';
COMMENT ON COLUMN bi.alerts.resolved_at IS 'When it was resolved';

CREATE VIEW bi.sales_hourly AS
SELECT v.hour, v.dim AS dimension, nullif(v.key, '') AS key, v.revenue, v.orders, v.units, v.transactions,
       v.completed, v.refunded, v.refunded_amount, v.blocked, v.failed, v.pending, v.suspicious
  FROM analytics.sales_hourly_v v;
COMMENT ON VIEW bi.sales_hourly IS
  'Live hourly sales rollups (exact, kept by triggers) per dimension: all, product, category, country, platform, payment_method';
COMMENT ON COLUMN bi.sales_hourly.hour IS 'Start of the UTC hour';
COMMENT ON COLUMN bi.sales_hourly.dimension IS 'all, product, category, country, platform or payment_method';
COMMENT ON COLUMN bi.sales_hourly.key IS 'Value of the dimension (product or category id as text, country code, ...); NULL for all and for unknown';
COMMENT ON COLUMN bi.sales_hourly.revenue IS 'Sum of amount of completed lines';
COMMENT ON COLUMN bi.sales_hourly.orders IS 'Orders (order_number, or the line when it has none) with a completed line in the hour';
COMMENT ON COLUMN bi.sales_hourly.units IS 'Units of completed lines';
COMMENT ON COLUMN bi.sales_hourly.transactions IS 'Lines of any status';
COMMENT ON COLUMN bi.sales_hourly.completed IS 'Completed lines';
COMMENT ON COLUMN bi.sales_hourly.refunded IS 'Refunded lines';
COMMENT ON COLUMN bi.sales_hourly.refunded_amount IS 'Amount of refunded lines';
COMMENT ON COLUMN bi.sales_hourly.blocked IS 'Blocked lines';
COMMENT ON COLUMN bi.sales_hourly.failed IS 'Failed lines';
COMMENT ON COLUMN bi.sales_hourly.pending IS 'Pending lines';
COMMENT ON COLUMN bi.sales_hourly.suspicious IS 'Lines flagged suspicious by the fraud engine';

CREATE VIEW bi.sales_daily AS
SELECT (d.day)::date AS day, sum(v.revenue) AS revenue, sum(v.orders)::bigint AS orders, sum(v.units)::bigint AS units,
       sum(v.transactions)::bigint AS transactions, sum(v.refunded_amount) AS refunded_amount,
       sum(v.suspicious)::bigint AS suspicious,
       round(sum(v.revenue) / nullif(sum(v.orders), 0), 2) AS avg_order_value,
       round(sum(v.suspicious)::numeric / nullif(sum(v.transactions), 0), 4) AS suspicious_rate
  FROM analytics.sales_hourly_v v
 CROSS JOIN LATERAL (SELECT date_trunc('day', v.hour AT TIME ZONE analytics.business_timezone())) d(day)
 WHERE v.dim = 'all'
 GROUP BY d.day;
COMMENT ON VIEW bi.sales_daily IS 'Shop sales per business day (time zone analytics.business_timezone()), from the rollups';
COMMENT ON COLUMN bi.sales_daily.day IS 'Business day';
COMMENT ON COLUMN bi.sales_daily.revenue IS 'Revenue (completed lines)';
COMMENT ON COLUMN bi.sales_daily.orders IS 'Orders with a completed line (sum of the hourly counts)';
COMMENT ON COLUMN bi.sales_daily.units IS 'Units sold (completed lines)';
COMMENT ON COLUMN bi.sales_daily.transactions IS 'Lines of any status';
COMMENT ON COLUMN bi.sales_daily.refunded_amount IS 'Amount refunded';
COMMENT ON COLUMN bi.sales_daily.suspicious IS 'Lines flagged suspicious';
COMMENT ON COLUMN bi.sales_daily.avg_order_value IS 'revenue / orders, 2 decimals';
COMMENT ON COLUMN bi.sales_daily.suspicious_rate IS 'suspicious / transactions';

CREATE VIEW bi.product_sales_daily AS
SELECT (d.day)::date AS day, p.id AS product_id, p.sku, p.name AS product, p.category, p.supplier,
       sum(v.revenue) AS revenue, sum(v.orders)::bigint AS orders, sum(v.units)::bigint AS units,
       sum(v.transactions)::bigint AS transactions
  FROM analytics.sales_hourly_v v
  JOIN bi.products p ON p.id::text = v.key
 CROSS JOIN LATERAL (SELECT date_trunc('day', v.hour AT TIME ZONE analytics.business_timezone())) d(day)
 WHERE v.dim = 'product'
 GROUP BY d.day, p.id, p.sku, p.name, p.category, p.supplier;
COMMENT ON VIEW bi.product_sales_daily IS 'Sales per product and business day, from the rollups';
COMMENT ON COLUMN bi.product_sales_daily.day IS 'Business day';
COMMENT ON COLUMN bi.product_sales_daily.product_id IS 'Product id';
COMMENT ON COLUMN bi.product_sales_daily.sku IS 'Product SKU';
COMMENT ON COLUMN bi.product_sales_daily.product IS 'Product name';
COMMENT ON COLUMN bi.product_sales_daily.category IS 'Current category of the product';
COMMENT ON COLUMN bi.product_sales_daily.supplier IS 'Supplier of the product';
COMMENT ON COLUMN bi.product_sales_daily.revenue IS 'Revenue (completed lines)';
COMMENT ON COLUMN bi.product_sales_daily.orders IS 'Orders containing the product (completed lines)';
COMMENT ON COLUMN bi.product_sales_daily.units IS 'Units sold';
COMMENT ON COLUMN bi.product_sales_daily.transactions IS 'Lines of any status';

-- ------------------------------------------------------------------ sales totals (exact)
-- Aggregate of transactions in [p_from, p_to) for one dimension value, by scanning
-- transactions (used for partial hours only: an index range scan of less than an hour).
CREATE FUNCTION analytics.sales_scan(p_from timestamptz, p_to timestamptz, p_dim text DEFAULT 'all', p_key text DEFAULT '')
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

CREATE FUNCTION analytics.sales_totals(p_from timestamptz, p_to timestamptz, p_dim text DEFAULT 'all', p_key text DEFAULT '')
RETURNS TABLE (revenue numeric, orders bigint, units bigint, transactions bigint, completed bigint, refunded bigint,
               refunded_amount numeric, blocked bigint, failed bigint, pending bigint, suspicious bigint)
LANGUAGE plpgsql STABLE AS $$
DECLARE
  h0 timestamptz := analytics.hour_ceil(p_from);
  h1 timestamptz := analytics.hour_floor(p_to);
BEGIN
  IF p_from IS NULL OR p_to IS NULL OR p_to <= p_from THEN
    RETURN QUERY SELECT 0::numeric, 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::numeric,
                        0::bigint, 0::bigint, 0::bigint, 0::bigint;
    RETURN;
  END IF;
  IF h0 > h1 THEN  -- within one hour
    RETURN QUERY SELECT * FROM analytics.sales_scan(p_from, p_to, p_dim, p_key);
    RETURN;
  END IF;
  RETURN QUERY
  SELECT sum(x.revenue), sum(x.orders)::bigint, sum(x.units)::bigint, sum(x.transactions)::bigint,
         sum(x.completed)::bigint, sum(x.refunded)::bigint, sum(x.refunded_amount), sum(x.blocked)::bigint,
         sum(x.failed)::bigint, sum(x.pending)::bigint, sum(x.suspicious)::bigint
    FROM (SELECT s.revenue, s.orders, s.units, s.transactions, s.completed, s.refunded, s.refunded_amount,
                 s.blocked, s.failed, s.pending, s.suspicious
            FROM analytics.sales_hourly s
           WHERE s.dim = p_dim AND s.hour >= h0 AND s.hour < h1 AND s.key = p_key
          UNION ALL
          SELECT * FROM analytics.sales_scan(p_from, h0, p_dim, p_key) WHERE p_from < h0
          UNION ALL
          SELECT * FROM analytics.sales_scan(h1, p_to, p_dim, p_key) WHERE h1 < p_to
          UNION ALL  -- an empty range still yields one row of zeros
          SELECT 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0) x;
END $$;
COMMENT ON FUNCTION analytics.sales_totals(timestamptz, timestamptz, text, text) IS
  'Exact sales metrics of [p_from, p_to) for a dimension value (default: the whole shop): whole hours from the '
  'rollups, the partial hours at the ends from an index range scan of transactions. Orders are counted per hour '
  'bucket (the lines of one order share one timestamp in practice)';

-- distinct customers with a transaction (any status) in [p_from, p_to)
CREATE FUNCTION analytics.active_customers(p_from timestamptz, p_to timestamptz) RETURNS bigint
LANGUAGE sql STABLE AS $$
  SELECT count(DISTINCT t.customer_id) FROM bi.transactions t
   WHERE t.transaction_time >= p_from AND t.transaction_time < p_to
$$;
COMMENT ON FUNCTION analytics.active_customers(timestamptz, timestamptz) IS
  'Distinct customers with at least one transaction (any status) in [p_from, p_to). Exact, by an index range scan '
  'of transactions. Hook: once the extension provides a HyperLogLog (techmart.hll_*), the rollups fill '
  'analytics.sales_hourly.customers_hll and this function merges the hourly sketches instead';

-- ------------------------------------------------------------------ series
CREATE FUNCTION analytics.period_interval(p_period text) RETURNS interval
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE p_period WHEN 'hour' THEN interval '1 hour' WHEN 'day' THEN interval '1 day'
                       WHEN 'week' THEN interval '1 week' WHEN 'month' THEN interval '1 month'
                       WHEN 'year' THEN interval '1 year' END
$$;
COMMENT ON FUNCTION analytics.period_interval(text) IS 'hour, day, week, month, year as an interval (NULL otherwise)';

CREATE FUNCTION analytics.sales_series(p_period text, p_from timestamptz, p_to timestamptz,
                                       p_dim text DEFAULT 'all', p_key text DEFAULT '')
RETURNS TABLE (period_start timestamptz, label text, revenue numeric, orders bigint, units bigint,
               transactions bigint, refunded_amount numeric, suspicious bigint, avg_order_value numeric)
LANGUAGE sql STABLE AS $$
  WITH z AS (SELECT analytics.business_timezone() AS tz),
  buckets AS (
    SELECT g AS local_start
      FROM z, generate_series(date_trunc(p_period, p_from AT TIME ZONE z.tz),
                              (p_to AT TIME ZONE z.tz) - interval '1 microsecond',
                              analytics.period_interval(p_period)) g
     WHERE p_to > p_from
  ),
  agg AS (
    SELECT date_trunc(p_period, s.hour AT TIME ZONE z.tz) AS local_start,
           sum(s.revenue) AS revenue, sum(s.orders) AS orders, sum(s.units) AS units,
           sum(s.transactions) AS transactions, sum(s.refunded_amount) AS refunded_amount, sum(s.suspicious) AS suspicious
      FROM analytics.sales_hourly s, z
     WHERE s.dim = p_dim AND s.key = p_key
       AND s.hour >= analytics.hour_floor(p_from) AND s.hour < p_to
     GROUP BY 1
  )
  SELECT b.local_start AT TIME ZONE z.tz,
         CASE p_period WHEN 'hour' THEN to_char(b.local_start, 'YYYY-MM-DD"T"HH24:00')
                       WHEN 'day' THEN to_char(b.local_start, 'YYYY-MM-DD')
                       WHEN 'week' THEN to_char(b.local_start, 'IYYY-"W"IW')
                       WHEN 'month' THEN to_char(b.local_start, 'YYYY-MM')
                       ELSE to_char(b.local_start, 'YYYY') END,
         coalesce(a.revenue, 0), coalesce(a.orders, 0)::bigint, coalesce(a.units, 0)::bigint,
         coalesce(a.transactions, 0)::bigint, coalesce(a.refunded_amount, 0), coalesce(a.suspicious, 0)::bigint,
         round(a.revenue / nullif(a.orders, 0), 2)
    FROM buckets b CROSS JOIN z LEFT JOIN agg a USING (local_start)
   ORDER BY b.local_start
$$;
COMMENT ON FUNCTION analytics.sales_series(text, timestamptz, timestamptz, text, text) IS
  'Sales per hour/day/week (ISO, Monday)/month/year of the business time zone over [p_from, p_to), zero-filled, '
  'from the rollups (whole UTC hours overlapping the range, each attributed to the period containing its start); '
  'label is the local period (2026-11-21, 2026-W47, 2026-11, 2026); avg_order_value = revenue / orders';

CREATE FUNCTION analytics.revenue_growth(p_period text, p_from timestamptz, p_to timestamptz)
RETURNS TABLE (period_start timestamptz, label text, revenue numeric, previous_revenue numeric, revenue_growth_pct numeric,
               orders bigint, previous_orders bigint, orders_growth_pct numeric)
LANGUAGE sql STABLE AS $$
  SELECT s.period_start, s.label, s.revenue, lag(s.revenue) OVER w,
         round(100 * (s.revenue - lag(s.revenue) OVER w) / nullif(lag(s.revenue) OVER w, 0), 2),
         s.orders, lag(s.orders) OVER w,
         round(100 * (s.orders - lag(s.orders) OVER w)::numeric / nullif(lag(s.orders) OVER w, 0), 2)
    FROM analytics.sales_series(p_period, p_from, p_to) s
  WINDOW w AS (ORDER BY s.period_start)
   ORDER BY s.period_start
$$;
COMMENT ON FUNCTION analytics.revenue_growth(text, timestamptz, timestamptz) IS
  'Period-over-period growth: each period''s revenue and orders with the previous period''s and the % change '
  '(NULL for the first period and when the previous value is 0)';

CREATE FUNCTION analytics.compare_periods(p_from timestamptz, p_to timestamptz, p_prev_from timestamptz, p_prev_to timestamptz)
RETURNS TABLE (metric text, current_value numeric, previous_value numeric, change numeric, change_pct numeric)
LANGUAGE sql STABLE AS $$
  WITH a AS (SELECT * FROM analytics.sales_totals(p_from, p_to)),
       b AS (SELECT * FROM analytics.sales_totals(p_prev_from, p_prev_to)),
       m AS (
    SELECT x.metric, x.ord, x.cur, x.prev FROM a, b, LATERAL (VALUES
      ('revenue', 1, a.revenue, b.revenue),
      ('orders', 2, a.orders::numeric, b.orders::numeric),
      ('units', 3, a.units::numeric, b.units::numeric),
      ('transactions', 4, a.transactions::numeric, b.transactions::numeric),
      ('avg_order_value', 5, round(a.revenue / nullif(a.orders, 0), 2), round(b.revenue / nullif(b.orders, 0), 2)),
      ('active_customers', 6, analytics.active_customers(p_from, p_to)::numeric,
                              analytics.active_customers(p_prev_from, p_prev_to)::numeric),
      ('suspicious_rate', 7, round(a.suspicious::numeric / nullif(a.transactions, 0), 4),
                             round(b.suspicious::numeric / nullif(b.transactions, 0), 4)),
      ('refunded_amount', 8, a.refunded_amount, b.refunded_amount)) x(metric, ord, cur, prev))
  SELECT m.metric, m.cur, m.prev, m.cur - m.prev, round(100 * (m.cur - m.prev) / nullif(m.prev, 0), 2)
    FROM m ORDER BY m.ord
$$;
COMMENT ON FUNCTION analytics.compare_periods(timestamptz, timestamptz, timestamptz, timestamptz) IS
  'Two periods compared, exactly: revenue, orders, units, transactions, avg_order_value, active_customers, '
  'suspicious_rate, refunded_amount of [p_from, p_to) vs [p_prev_from, p_prev_to), absolute and % change '
  '(NULL % when the previous value is 0 or NULL)';

CREATE FUNCTION analytics.breakdown(p_dim text, p_from timestamptz, p_to timestamptz, p_limit integer DEFAULT NULL)
RETURNS TABLE (key text, label text, revenue numeric, orders bigint, units bigint, transactions bigint,
               suspicious bigint, revenue_share_pct numeric)
LANGUAGE sql STABLE AS $$
  WITH r AS (
    SELECT s.key, sum(s.revenue) AS revenue, sum(s.orders) AS orders, sum(s.units) AS units,
           sum(s.transactions) AS transactions, sum(s.suspicious) AS suspicious
      FROM analytics.sales_hourly s
     WHERE s.dim = CASE WHEN p_dim = 'supplier' THEN 'product' ELSE p_dim END
       AND s.hour >= analytics.hour_floor(p_from) AND s.hour < p_to
     GROUP BY s.key
  ), k AS (
    SELECT CASE WHEN p_dim = 'supplier' THEN coalesce(p.supplier_id::text, '') ELSE r.key END AS key,
           r.revenue, r.orders, r.units, r.transactions, r.suspicious
      FROM r LEFT JOIN bi.products p ON p_dim = 'supplier' AND p.id::text = r.key
  ), g AS (
    SELECT k.key, sum(k.revenue) AS revenue, sum(k.orders)::bigint AS orders, sum(k.units)::bigint AS units,
           sum(k.transactions)::bigint AS transactions, sum(k.suspicious)::bigint AS suspicious
      FROM k GROUP BY k.key
  )
  SELECT nullif(g.key, ''),
         CASE p_dim
           WHEN 'product' THEN (SELECT p.name FROM bi.products p WHERE p.id::text = g.key)
           WHEN 'category' THEN coalesce((SELECT c.name FROM bi.categories c WHERE c.id::text = g.key), 'uncategorised')
           WHEN 'supplier' THEN coalesce((SELECT s.name FROM bi.suppliers s WHERE s.id::text = g.key), 'no supplier')
           WHEN 'country' THEN coalesce(nullif(g.key, ''), 'unknown')
           ELSE g.key END,
         g.revenue, g.orders, g.units, g.transactions, g.suspicious,
         round(100 * g.revenue / nullif(sum(g.revenue) OVER (), 0), 2)
    FROM g
   WHERE g.transactions <> 0 OR g.revenue <> 0
   ORDER BY g.revenue DESC, g.orders DESC, g.key
   LIMIT p_limit
$$;
COMMENT ON FUNCTION analytics.breakdown(text, timestamptz, timestamptz, integer) IS
  'Sales over the whole UTC hours overlapping [p_from, p_to) by product, category, supplier, platform, payment_method '
  'or country, highest revenue first, with the share of revenue. key NULL means none/unknown. For supplier (summed '
  'over its products, current supplier) orders counts order-product pairs';

CREATE FUNCTION analytics.hour_of_day_pattern(p_from timestamptz, p_to timestamptz)
RETURNS TABLE (hour_of_day integer, revenue numeric, orders bigint, transactions bigint, days integer,
               avg_revenue_per_day numeric, revenue_share_pct numeric)
LANGUAGE sql STABLE AS $$
  WITH z AS (SELECT analytics.business_timezone() AS tz),
  a AS (
    SELECT extract(hour FROM s.hour AT TIME ZONE z.tz)::int AS h, sum(s.revenue) AS revenue,
           sum(s.orders) AS orders, sum(s.transactions) AS transactions
      FROM analytics.sales_hourly s, z
     WHERE s.dim = 'all' AND s.hour >= analytics.hour_floor(p_from) AND s.hour < p_to
     GROUP BY 1
  ), d AS (  -- business days touched by the range
    SELECT greatest(1, ((p_to AT TIME ZONE z.tz)::date - (p_from AT TIME ZONE z.tz)::date
                        + CASE WHEN (p_to AT TIME ZONE z.tz)::time > '00:00' THEN 1 ELSE 0 END))::int AS n FROM z
  )
  SELECT g.h, coalesce(a.revenue, 0), coalesce(a.orders, 0)::bigint, coalesce(a.transactions, 0)::bigint, d.n,
         round(coalesce(a.revenue, 0) / d.n, 2),
         round(100 * coalesce(a.revenue, 0) / nullif(sum(a.revenue) OVER (), 0), 2)
    FROM generate_series(0, 23) g(h) CROSS JOIN d LEFT JOIN a ON a.h = g.h
   ORDER BY g.h
$$;
COMMENT ON FUNCTION analytics.hour_of_day_pattern(timestamptz, timestamptz) IS
  'Sales by local hour of day (0-23, business time zone) over [p_from, p_to), all 24 hours, with the average per day '
  'of the range and the share of revenue';

CREATE FUNCTION analytics.day_of_week_pattern(p_from timestamptz, p_to timestamptz)
RETURNS TABLE (iso_dow integer, day_name text, revenue numeric, orders bigint, transactions bigint,
               occurrences integer, avg_revenue_per_day numeric, revenue_share_pct numeric)
LANGUAGE sql STABLE AS $$
  WITH z AS (SELECT analytics.business_timezone() AS tz),
  a AS (
    SELECT extract(isodow FROM s.hour AT TIME ZONE z.tz)::int AS dow, sum(s.revenue) AS revenue,
           sum(s.orders) AS orders, sum(s.transactions) AS transactions
      FROM analytics.sales_hourly s, z
     WHERE s.dim = 'all' AND s.hour >= analytics.hour_floor(p_from) AND s.hour < p_to
     GROUP BY 1
  ), occ AS (  -- how many of each weekday the range touches
    SELECT extract(isodow FROM d)::int AS dow, count(*)::int AS n
      FROM z, generate_series((p_from AT TIME ZONE z.tz)::date,
                              ((p_to AT TIME ZONE z.tz) - interval '1 microsecond')::date, interval '1 day') d
     WHERE p_to > p_from
     GROUP BY 1
  )
  SELECT g.dow, trim(to_char(date '2024-01-01' + (g.dow - 1), 'Day')), coalesce(a.revenue, 0),
         coalesce(a.orders, 0)::bigint, coalesce(a.transactions, 0)::bigint, coalesce(o.n, 0),
         round(coalesce(a.revenue, 0) / nullif(o.n, 0), 2),
         round(100 * coalesce(a.revenue, 0) / nullif(sum(a.revenue) OVER (), 0), 2)
    FROM generate_series(1, 7) g(dow) LEFT JOIN a ON a.dow = g.dow LEFT JOIN occ o ON o.dow = g.dow
   ORDER BY g.dow
$$;
COMMENT ON FUNCTION analytics.day_of_week_pattern(timestamptz, timestamptz) IS
  'Sales by ISO day of week (1 = Monday, business time zone) over [p_from, p_to), with the number of such days in the '
  'range, the average per such day and the share of revenue';

CREATE FUNCTION analytics.top_products(p_from timestamptz, p_to timestamptz, p_limit integer DEFAULT 10,
                                       p_by text DEFAULT 'revenue')
RETURNS TABLE (rank bigint, product_id bigint, sku text, name text, category text, revenue numeric, units bigint,
               orders bigint)
LANGUAGE sql STABLE AS $$
  SELECT row_number() OVER (ORDER BY CASE p_by WHEN 'units' THEN b.units::numeric WHEN 'orders' THEN b.orders::numeric
                                               ELSE b.revenue END DESC, b.revenue DESC, b.key::bigint),
         b.key::bigint, p.sku, p.name, p.category, b.revenue, b.units, b.orders
    FROM analytics.breakdown('product', p_from, p_to) b
    JOIN bi.products p ON p.id = b.key::bigint
   ORDER BY 1
   LIMIT p_limit
$$;
COMMENT ON FUNCTION analytics.top_products(timestamptz, timestamptz, integer, text) IS
  'Best-selling products over the whole hours overlapping [p_from, p_to), by revenue (default), units or orders';

-- ------------------------------------------------------------------ inventory
CREATE FUNCTION analytics.stock_at(p_as_of timestamptz)
RETURNS TABLE (product_id bigint, stock integer)
LANGUAGE sql STABLE AS $$
  SELECT p.id, (p.stock_quantity - coalesce((SELECT sum(h.change) FROM bi.inventory_history h
                                              WHERE h.product_id = p.id AND h.changed_at > p_as_of), 0))::int
    FROM bi.products p
$$;
COMMENT ON FUNCTION analytics.stock_at(timestamptz) IS
  'Stock of every product at p_as_of: current stock minus the changes recorded in inventory_history after it';

CREATE FUNCTION analytics.low_stock(p_as_of timestamptz DEFAULT now(), p_velocity_days integer DEFAULT 28,
                                    p_cover_days numeric DEFAULT 14, p_limit integer DEFAULT NULL)
RETURNS TABLE (product_id bigint, sku text, name text, category text, supplier text, supplier_reliability numeric,
               stock integer, low_stock_threshold integer, units_sold bigint, daily_velocity numeric,
               days_of_cover numeric, below_threshold boolean)
LANGUAGE sql STABLE AS $$
  WITH sold AS (
    SELECT s.key::bigint AS product_id, sum(s.units)::bigint AS units
      FROM analytics.sales_hourly s
     WHERE s.dim = 'product'
       AND s.hour >= analytics.hour_floor(p_as_of - make_interval(days => p_velocity_days))
       AND s.hour < p_as_of
     GROUP BY 1
  ), st AS (
    SELECT * FROM analytics.stock_at(p_as_of)
  ), x AS (
    SELECT p.id, p.sku, p.name, p.category, p.supplier, sp.reliability_score, st.stock, p.low_stock_threshold,
           coalesce(sold.units, 0) AS units,
           round(coalesce(sold.units, 0)::numeric / p_velocity_days, 3) AS velocity
      FROM bi.products p
      JOIN st ON st.product_id = p.id
      LEFT JOIN sold ON sold.product_id = p.id
      LEFT JOIN bi.suppliers sp ON sp.id = p.supplier_id
  )
  SELECT x.id, x.sku, x.name, x.category, x.supplier, x.reliability_score, x.stock, x.low_stock_threshold, x.units,
         x.velocity, round(x.stock / nullif(x.velocity, 0), 1), x.stock <= x.low_stock_threshold
    FROM x
   WHERE x.stock <= x.low_stock_threshold
      OR (x.velocity > 0 AND x.stock / x.velocity < p_cover_days)
   ORDER BY round(x.stock / nullif(x.velocity, 0), 1) ASC NULLS LAST, x.stock, x.id
   LIMIT p_limit
$$;
COMMENT ON FUNCTION analytics.low_stock(timestamptz, integer, numeric, integer) IS
  'Products at or below their low-stock threshold at p_as_of, or whose stock covers fewer than p_cover_days days of '
  'sales at the velocity of the last p_velocity_days days (units of completed lines per day, from the rollups); '
  'days_of_cover = stock / daily_velocity (NULL when nothing sold); fewest days of cover first';

CREATE FUNCTION analytics.low_stock_count(p_as_of timestamptz DEFAULT now()) RETURNS bigint
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN p_as_of >= now()
              THEN (SELECT count(*) FROM bi.products p WHERE p.stock_quantity <= p.low_stock_threshold)
              ELSE (SELECT count(*) FROM analytics.stock_at(p_as_of) s JOIN bi.products p ON p.id = s.product_id
                     WHERE s.stock <= p.low_stock_threshold) END
$$;
COMMENT ON FUNCTION analytics.low_stock_count(timestamptz) IS
  'Number of products at or below their low-stock threshold at p_as_of (now: from the partial index on products)';

CREATE FUNCTION analytics.inventory_history(p_product_id bigint, p_from timestamptz, p_to timestamptz,
                                            p_limit integer DEFAULT NULL)
RETURNS TABLE (id bigint, product_id bigint, sku text, name text, changed_at timestamptz, reason text,
               previous_quantity integer, new_quantity integer, change integer)
LANGUAGE sql STABLE AS $$
  SELECT h.id, h.product_id, p.sku, p.name, h.changed_at, h.reason, h.previous_quantity, h.new_quantity, h.change
    FROM bi.inventory_history h JOIN bi.products p ON p.id = h.product_id
   WHERE (p_product_id IS NULL OR h.product_id = p_product_id)
     AND h.changed_at >= p_from AND h.changed_at < p_to
   ORDER BY h.changed_at DESC, h.id DESC
   LIMIT p_limit
$$;
COMMENT ON FUNCTION analytics.inventory_history(bigint, timestamptz, timestamptz, integer) IS
  'Stock changes of one product (or all when NULL) in [p_from, p_to), newest first';

-- ------------------------------------------------------------------ customers
-- per-customer order facts of completed lines in [p_from, p_to)
CREATE FUNCTION analytics.customer_orders(p_from timestamptz, p_to timestamptz)
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

CREATE FUNCTION analytics.top_customers(p_from timestamptz, p_to timestamptz, p_limit integer DEFAULT 10,
                                        p_by text DEFAULT 'revenue')
RETURNS TABLE (rank bigint, customer_id bigint, name text, country text, orders bigint, revenue numeric,
               avg_order_value numeric, last_purchase timestamptz)
LANGUAGE sql STABLE AS $$
  SELECT row_number() OVER (ORDER BY CASE WHEN p_by = 'orders' THEN o.orders::numeric ELSE o.revenue END DESC,
                                     o.revenue DESC, o.customer_id),
         o.customer_id, c.name, c.country::text, o.orders, o.revenue, round(o.revenue / nullif(o.orders, 0), 2),
         o.last_purchase
    FROM analytics.customer_orders(p_from, p_to) o JOIN bi.customers c ON c.id = o.customer_id
   ORDER BY 1
   LIMIT p_limit
$$;
COMMENT ON FUNCTION analytics.top_customers(timestamptz, timestamptz, integer, text) IS
  'Customers with the highest revenue (default) or most orders over completed lines in [p_from, p_to)';

CREATE FUNCTION analytics.customer_behavior(p_from timestamptz, p_to timestamptz, p_customer_id bigint DEFAULT NULL,
                                            p_limit integer DEFAULT 100)
RETURNS TABLE (customer_id bigint, name text, orders bigint, revenue numeric, avg_basket numeric,
               avg_items_per_order numeric, orders_per_month numeric, avg_days_between_orders numeric,
               preferred_hour integer, preferred_day integer, top_categories text[],
               first_purchase timestamptz, last_purchase timestamptz)
LANGUAGE sql STABLE AS $$
  WITH z AS (SELECT analytics.business_timezone() AS tz),
  o AS (
    SELECT * FROM analytics.customer_orders(p_from, p_to) o
     WHERE p_customer_id IS NULL OR o.customer_id = p_customer_id
     ORDER BY o.revenue DESC, o.customer_id
     LIMIT CASE WHEN p_customer_id IS NULL THEN p_limit END
  ), l AS (
    SELECT t.customer_id, t.transaction_time AT TIME ZONE z.tz AS local_time, t.amount, p.category
      FROM bi.transactions t JOIN o USING (customer_id) CROSS JOIN z LEFT JOIN bi.products p ON p.id = t.product_id
     WHERE t.status = 'completed' AND t.transaction_time >= p_from AND t.transaction_time < p_to
  )
  SELECT o.customer_id, c.name, o.orders, o.revenue, round(o.revenue / nullif(o.orders, 0), 2),
         round(o.units::numeric / nullif(o.orders, 0), 2),
         round(o.orders / greatest(extract(epoch FROM p_to - p_from) / (30 * 86400), 1)::numeric, 3),
         CASE WHEN o.orders > 1
              THEN round((extract(epoch FROM o.last_purchase - o.first_purchase) / 86400 / (o.orders - 1))::numeric, 1) END,
         (SELECT extract(hour FROM l.local_time)::int FROM l WHERE l.customer_id = o.customer_id
           GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1),
         (SELECT extract(isodow FROM l.local_time)::int FROM l WHERE l.customer_id = o.customer_id
           GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1),
         ARRAY(SELECT coalesce(l.category, 'uncategorised') FROM l WHERE l.customer_id = o.customer_id
                GROUP BY 1 ORDER BY sum(l.amount) DESC, 1 LIMIT 3),
         o.first_purchase, o.last_purchase
    FROM o JOIN bi.customers c ON c.id = o.customer_id
   ORDER BY o.revenue DESC, o.customer_id
$$;
COMMENT ON FUNCTION analytics.customer_behavior(timestamptz, timestamptz, bigint, integer) IS
  'Buying behaviour over completed lines in [p_from, p_to) for one customer, or the p_limit customers with the most '
  'revenue: orders, revenue, average basket (revenue/order), items per order, orders per 30 days of the range, '
  'average days between first and last order, preferred local hour and ISO weekday (most lines; ties to the '
  'earliest), top 3 categories by revenue';

CREATE FUNCTION analytics.rfm(p_as_of timestamptz DEFAULT now(), p_window interval DEFAULT interval '365 days')
RETURNS TABLE (customer_id bigint, recency_days numeric, frequency bigint, monetary numeric,
               r_score integer, f_score integer, m_score integer, rfm_code text, segment text)
LANGUAGE sql STABLE AS $$
  WITH o AS (SELECT * FROM analytics.customer_orders(p_as_of - p_window, p_as_of)),
  s AS (
    SELECT o.customer_id,
           round((extract(epoch FROM p_as_of - o.last_purchase) / 86400)::numeric, 2) AS recency_days,
           o.orders AS frequency, o.revenue AS monetary,
           ceil(5 * cume_dist() OVER (ORDER BY o.last_purchase))::int AS r,
           ceil(5 * cume_dist() OVER (ORDER BY o.orders))::int AS f,
           ceil(5 * cume_dist() OVER (ORDER BY o.revenue))::int AS m
      FROM o
  )
  SELECT s.customer_id, s.recency_days, s.frequency, s.monetary, s.r, s.f, s.m, s.r::text || s.f || s.m,
         CASE
           WHEN s.r >= 4 AND s.f >= 4 AND s.m >= 4 THEN 'champions'
           WHEN s.r <= 1 AND s.f >= 4 AND s.m >= 4 THEN 'cant_lose'
           WHEN s.r <= 2 AND s.f >= 3 THEN 'at_risk'
           WHEN s.r >= 3 AND s.f >= 4 THEN 'loyal'
           WHEN s.r = 5 AND s.f <= 2 THEN 'new'
           WHEN s.r = 4 AND s.f <= 2 THEN 'promising'
           WHEN s.r >= 3 THEN 'potential_loyalist'
           WHEN s.r = 2 THEN 'hibernating'
           ELSE 'lost'
         END
    FROM s
   ORDER BY s.customer_id
$$;
COMMENT ON FUNCTION analytics.rfm(timestamptz, interval) IS
  'RFM scores of customers with a completed line in [p_as_of - p_window, p_as_of): recency (days since last purchase), '
  'frequency (orders), monetary (revenue); each scored 1-5 as ceil(5 * cume_dist) so ties share a score (5 = most '
  'recent / most orders / most revenue). Segments, first match: champions (R>=4,F>=4,M>=4), cant_lose (R=1,F>=4,M>=4), '
  'at_risk (R<=2,F>=3), loyal (R>=3,F>=4), new (R=5,F<=2), promising (R=4,F<=2), potential_loyalist (R=3), '
  'hibernating (R=2), lost';

CREATE FUNCTION analytics.customer_segments(p_as_of timestamptz DEFAULT now(), p_window interval DEFAULT interval '365 days')
RETURNS TABLE (segment text, customers bigint, customer_share_pct numeric, revenue numeric, revenue_share_pct numeric,
               avg_recency_days numeric, avg_frequency numeric, avg_monetary numeric)
LANGUAGE sql STABLE AS $$
  SELECT r.segment, count(*), round(100 * count(*)::numeric / sum(count(*)) OVER (), 2), sum(r.monetary),
         round(100 * sum(r.monetary) / nullif(sum(sum(r.monetary)) OVER (), 0), 2),
         round(avg(r.recency_days), 1), round(avg(r.frequency), 2), round(avg(r.monetary), 2)
    FROM analytics.rfm(p_as_of, p_window) r
   GROUP BY r.segment
   ORDER BY sum(r.monetary) DESC, r.segment
$$;
COMMENT ON FUNCTION analytics.customer_segments(timestamptz, interval) IS
  'RFM segments (see analytics.rfm) with their customer count, revenue and shares';

CREATE FUNCTION analytics.customer_lifetime_value(p_as_of timestamptz DEFAULT now(), p_limit integer DEFAULT NULL,
                                                  p_horizon_months integer DEFAULT 12)
RETURNS TABLE (customer_id bigint, first_purchase timestamptz, last_purchase timestamptz, orders bigint,
               historical_value numeric, avg_order_value numeric, orders_per_month numeric,
               active_probability numeric, predicted_value numeric, lifetime_value numeric)
LANGUAGE sql STABLE AS $$
  WITH o AS (SELECT * FROM analytics.customer_orders('-infinity', p_as_of)),
  x AS (
    SELECT o.*, o.revenue / o.orders AS aov,
           o.orders / greatest(extract(epoch FROM p_as_of - o.first_purchase) / (30 * 86400), 1)::numeric AS per_month,
           extract(epoch FROM p_as_of - o.last_purchase) / 86400 AS recency,
           CASE WHEN o.orders > 1 THEN extract(epoch FROM o.last_purchase - o.first_purchase) / 86400 / (o.orders - 1)
                ELSE 90 END AS gap
      FROM o
  ), y AS (
    SELECT x.*, exp(-x.recency / greatest(x.gap, 30))::numeric AS p_active FROM x
  )
  SELECT y.customer_id, y.first_purchase, y.last_purchase, y.orders, y.revenue, round(y.aov, 2), round(y.per_month, 3),
         round(y.p_active, 3), round(y.aov * y.per_month * p_horizon_months * y.p_active, 2),
         round(y.revenue + y.aov * y.per_month * p_horizon_months * y.p_active, 2)
    FROM y
   ORDER BY y.revenue + y.aov * y.per_month * p_horizon_months * y.p_active DESC, y.customer_id
   LIMIT p_limit
$$;
COMMENT ON FUNCTION analytics.customer_lifetime_value(timestamptz, integer, integer) IS
  'Customer lifetime value at p_as_of = historical value (revenue of completed lines) + predicted value over '
  'p_horizon_months: avg_order_value * orders_per_month (orders / months since the first purchase, at least 1) '
  '* horizon * active_probability, where active_probability = exp(-days since last purchase / max(average days '
  'between orders, 30)), 90 days assumed for one-order customers. A transparent heuristic, highest first';

-- ------------------------------------------------------------------ bi views over the functions
CREATE VIEW bi.customer_rfm AS
SELECT r.customer_id, c.name, c.country, r.recency_days, r.frequency, r.monetary, r.r_score, r.f_score, r.m_score,
       r.rfm_code, r.segment
  FROM analytics.rfm(now()) r JOIN bi.customers c ON c.id = r.customer_id;
COMMENT ON VIEW bi.customer_rfm IS 'RFM scores and segment of each customer with a purchase in the last 365 days (analytics.rfm)';
COMMENT ON COLUMN bi.customer_rfm.customer_id IS 'Customer id';
COMMENT ON COLUMN bi.customer_rfm.name IS 'Customer name';
COMMENT ON COLUMN bi.customer_rfm.country IS 'Customer country';
COMMENT ON COLUMN bi.customer_rfm.recency_days IS 'Days since the last completed purchase';
COMMENT ON COLUMN bi.customer_rfm.frequency IS 'Orders in the last 365 days';
COMMENT ON COLUMN bi.customer_rfm.monetary IS 'Revenue in the last 365 days';
COMMENT ON COLUMN bi.customer_rfm.r_score IS 'Recency score 1-5 (5 = most recent)';
COMMENT ON COLUMN bi.customer_rfm.f_score IS 'Frequency score 1-5';
COMMENT ON COLUMN bi.customer_rfm.m_score IS 'Monetary score 1-5';
COMMENT ON COLUMN bi.customer_rfm.rfm_code IS 'The three scores, e.g. 545';
COMMENT ON COLUMN bi.customer_rfm.segment IS 'champions, loyal, potential_loyalist, new, promising, at_risk, cant_lose, hibernating, lost';

CREATE VIEW bi.customer_segments AS SELECT * FROM analytics.customer_segments(now());
COMMENT ON VIEW bi.customer_segments IS 'RFM segments now: customers, revenue and shares (analytics.customer_segments)';
COMMENT ON COLUMN bi.customer_segments.segment IS 'Segment name';
COMMENT ON COLUMN bi.customer_segments.customers IS 'Customers in the segment';
COMMENT ON COLUMN bi.customer_segments.customer_share_pct IS 'Share of scored customers, %';
COMMENT ON COLUMN bi.customer_segments.revenue IS 'Revenue of the segment in the last 365 days';
COMMENT ON COLUMN bi.customer_segments.revenue_share_pct IS 'Share of revenue, %';
COMMENT ON COLUMN bi.customer_segments.avg_recency_days IS 'Average days since last purchase';
COMMENT ON COLUMN bi.customer_segments.avg_frequency IS 'Average orders';
COMMENT ON COLUMN bi.customer_segments.avg_monetary IS 'Average revenue per customer';

CREATE VIEW bi.customer_lifetime_value AS SELECT * FROM analytics.customer_lifetime_value(now());
COMMENT ON VIEW bi.customer_lifetime_value IS 'Customer lifetime value now, 12-month horizon (analytics.customer_lifetime_value)';
COMMENT ON COLUMN bi.customer_lifetime_value.customer_id IS 'Customer id';
COMMENT ON COLUMN bi.customer_lifetime_value.first_purchase IS 'First completed purchase';
COMMENT ON COLUMN bi.customer_lifetime_value.last_purchase IS 'Last completed purchase';
COMMENT ON COLUMN bi.customer_lifetime_value.orders IS 'Orders to date';
COMMENT ON COLUMN bi.customer_lifetime_value.historical_value IS 'Revenue to date';
COMMENT ON COLUMN bi.customer_lifetime_value.avg_order_value IS 'Revenue per order';
COMMENT ON COLUMN bi.customer_lifetime_value.orders_per_month IS 'Orders per 30 days since the first purchase';
COMMENT ON COLUMN bi.customer_lifetime_value.active_probability IS 'exp(-recency / max(average gap, 30 days))';
COMMENT ON COLUMN bi.customer_lifetime_value.predicted_value IS 'Expected revenue over the next 12 months';
COMMENT ON COLUMN bi.customer_lifetime_value.lifetime_value IS 'historical_value + predicted_value';

CREATE VIEW bi.low_stock AS SELECT * FROM analytics.low_stock(now());
COMMENT ON VIEW bi.low_stock IS 'Products low on stock now: under threshold or under 14 days of cover at the last 28 days'' velocity';
COMMENT ON COLUMN bi.low_stock.product_id IS 'Product id';
COMMENT ON COLUMN bi.low_stock.sku IS 'SKU';
COMMENT ON COLUMN bi.low_stock.name IS 'Product name';
COMMENT ON COLUMN bi.low_stock.category IS 'Category name';
COMMENT ON COLUMN bi.low_stock.supplier IS 'Supplier name';
COMMENT ON COLUMN bi.low_stock.supplier_reliability IS 'Supplier reliability 0..1';
COMMENT ON COLUMN bi.low_stock.stock IS 'Units in stock';
COMMENT ON COLUMN bi.low_stock.low_stock_threshold IS 'Low-stock threshold';
COMMENT ON COLUMN bi.low_stock.units_sold IS 'Units sold (completed) in the last 28 days';
COMMENT ON COLUMN bi.low_stock.daily_velocity IS 'units_sold / 28';
COMMENT ON COLUMN bi.low_stock.days_of_cover IS 'stock / daily_velocity (NULL when nothing sold)';
COMMENT ON COLUMN bi.low_stock.below_threshold IS 'stock <= low_stock_threshold';

-- ------------------------------------------------------------------ api (REST) wrappers
CREATE FUNCTION api.dashboard_overview(p_as_of timestamptz DEFAULT now())
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  tz      text := analytics.business_timezone();
  t_start timestamptz;
  y_start timestamptz;
  y_end   timestamptz;
  t       record;
  y       record;
  yf      record;
  t_cust  bigint;
  y_cust  bigint;
  t_alert bigint;
  y_alert bigint;
  open_a  bigint;
  low_now bigint;
  low_y   bigint;
BEGIN
  PERFORM analytics.raise_if(analytics.range_errors(p_as_of, p_as_of, NULL, 'as_of', 'as_of'), 'invalid overview');
  t_start := date_trunc('day', p_as_of AT TIME ZONE tz) AT TIME ZONE tz;
  y_start := (date_trunc('day', p_as_of AT TIME ZONE tz) - interval '1 day') AT TIME ZONE tz;
  y_end   := ((p_as_of AT TIME ZONE tz) - interval '1 day') AT TIME ZONE tz;
  SELECT * INTO t FROM analytics.sales_totals(t_start, p_as_of);
  SELECT * INTO y FROM analytics.sales_totals(y_start, y_end);
  SELECT * INTO yf FROM analytics.sales_totals(y_start, t_start);
  t_cust := analytics.active_customers(t_start, p_as_of);
  y_cust := analytics.active_customers(y_start, y_end);
  SELECT count(*) INTO t_alert FROM alerts a
   WHERE a.status IN ('open', 'acknowledged', 'resolved') AND a.created_at >= t_start AND a.created_at < p_as_of;
  SELECT count(*) INTO y_alert FROM alerts a
   WHERE a.status IN ('open', 'acknowledged', 'resolved') AND a.created_at >= y_start AND a.created_at < y_end;
  IF p_as_of >= now() THEN
    SELECT count(*) INTO open_a FROM alerts a WHERE a.status = 'open' AND a.created_at <= p_as_of;
  ELSE
    SELECT count(*) INTO open_a FROM alerts a
     WHERE a.created_at <= p_as_of AND coalesce(a.acknowledged_at, a.resolved_at, 'infinity') > p_as_of
       AND coalesce(a.resolved_at, 'infinity') > p_as_of;
  END IF;
  low_now := analytics.low_stock_count(p_as_of);
  low_y := analytics.low_stock_count(y_end);
  RETURN jsonb_build_object(
    'as_of', p_as_of, 'timezone', tz,
    'today', jsonb_build_object('from', t_start, 'to', p_as_of),
    'yesterday', jsonb_build_object('from', y_start, 'to', y_end),
    'revenue', analytics.metric_json(t.revenue, y.revenue),
    'orders', analytics.metric_json(t.orders, y.orders),
    'average_order_value', analytics.metric_json(round(t.revenue / nullif(t.orders, 0), 2),
                                                 round(y.revenue / nullif(y.orders, 0), 2)),
    'active_customers', analytics.metric_json(t_cust, y_cust),
    'transactions', analytics.metric_json(t.transactions, y.transactions),
    'units', analytics.metric_json(t.units, y.units),
    'suspicious_rate', analytics.metric_json(round(t.suspicious::numeric / nullif(t.transactions, 0), 4),
                                             round(y.suspicious::numeric / nullif(y.transactions, 0), 4)),
    'suspicious', analytics.metric_json(t.suspicious, y.suspicious),
    'refunded_amount', analytics.metric_json(t.refunded_amount, y.refunded_amount),
    'new_alerts', analytics.metric_json(t_alert, y_alert),
    'open_alerts', jsonb_build_object('value', open_a),
    'low_stock', analytics.metric_json(low_now, low_y),
    'yesterday_full_day', jsonb_build_object('revenue', yf.revenue, 'orders', yf.orders,
                                             'average_order_value', round(yf.revenue / nullif(yf.orders, 0), 2),
                                             'transactions', yf.transactions));
END $$;

CREATE FUNCTION analytics.metric_json(p_value numeric, p_previous numeric) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT jsonb_build_object('value', p_value, 'previous', p_previous, 'change', p_value - p_previous,
                            'change_pct', round(100 * (p_value - p_previous) / nullif(p_previous, 0), 2))
$$;
COMMENT ON FUNCTION analytics.metric_json(numeric, numeric) IS
  '{value, previous, change, change_pct} (change_pct NULL when previous is 0 or NULL)';

COMMENT ON FUNCTION api.dashboard_overview(timestamptz) IS
  'GET /api/v1/dashboard/overview?as_of=: today (business time zone) from midnight to as_of vs yesterday from '
  'midnight to the same local time of day (yesterday.to; 23 or 25 hours on DST days are respected by local time), '
  'each metric as {value, previous, change, change_pct}: revenue, orders, average_order_value, active_customers, '
  'transactions, units, suspicious_rate, suspicious, refunded_amount, new_alerts; open_alerts {value} at as_of; '
  'low_stock (products at or below threshold at as_of vs yesterday.to). Sales come from the rollups (whole hours) '
  'plus an index range scan of the partial hours; yesterday_full_day for reference';

CREATE FUNCTION api.hourly_sales(p_from timestamptz, p_to timestamptz, p_dimension text DEFAULT 'all', p_key text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  errs jsonb := analytics.range_errors(p_from, p_to, interval '366 days');
  v_items jsonb;
BEGIN
  IF p_dimension IS NULL OR p_dimension NOT IN ('all', 'product', 'category', 'country', 'platform', 'payment_method') THEN
    errs := errs || '[{"field":"dimension","message":"must be one of all, product, category, country, platform, payment_method"}]';
  ELSIF p_dimension <> 'all' AND p_key IS NULL THEN
    errs := errs || '[{"field":"key","message":"is required for a dimension other than all"}]';
  END IF;
  PERFORM analytics.raise_if(errs, 'invalid hourly sales query');
  SELECT coalesce(jsonb_agg(jsonb_build_object('hour', s.period_start, 'revenue', s.revenue, 'orders', s.orders,
                                               'units', s.units, 'transactions', s.transactions,
                                               'suspicious', s.suspicious, 'refunded_amount', s.refunded_amount)
                            ORDER BY s.period_start), '[]')
    INTO v_items
    FROM analytics.sales_series('hour', p_from, p_to, p_dimension,
                                CASE WHEN p_dimension = 'all' THEN '' ELSE p_key END) s;
  RETURN jsonb_build_object('from', p_from, 'to', p_to, 'dimension', p_dimension, 'key', p_key,
                            'items', v_items, 'count', jsonb_array_length(v_items));
END $$;
COMMENT ON FUNCTION api.hourly_sales(timestamptz, timestamptz, text, text) IS
  'GET /api/v1/dashboard/hourly-sales: one item per UTC hour overlapping [from, to) (zero-filled; at most 366 days), '
  'for the shop or one dimension value (dimension, key), from the rollups';

CREATE FUNCTION api.analytics_revenue(p_period text, p_from timestamptz, p_to timestamptz)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  errs jsonb := analytics.range_errors(p_from, p_to, interval '20 years');
  v_items jsonb;
BEGIN
  IF p_period IS NULL OR p_period NOT IN ('hour', 'day', 'week', 'month', 'year') THEN
    errs := errs || '[{"field":"period","message":"must be one of hour, day, week, month, year"}]';
  ELSIF p_period = 'hour' AND p_to - p_from > interval '366 days' THEN
    errs := errs || '[{"field":"to","message":"hourly series are limited to 366 days"}]';
  END IF;
  PERFORM analytics.raise_if(errs, 'invalid revenue query');
  SELECT coalesce(jsonb_agg(to_jsonb(s) ORDER BY s.period_start), '[]') INTO v_items
    FROM analytics.sales_series(p_period, p_from, p_to) s;
  RETURN jsonb_build_object('period', p_period, 'from', p_from, 'to', p_to, 'timezone', analytics.business_timezone(),
                            'items', v_items, 'count', jsonb_array_length(v_items));
END $$;
COMMENT ON FUNCTION api.analytics_revenue(text, timestamptz, timestamptz) IS
  'GET /api/v1/analytics/revenue?period=day|week|month|year|hour&from=&to=: analytics.sales_series as {items}';

CREATE FUNCTION api.analytics_growth(p_period text, p_from timestamptz, p_to timestamptz)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  errs jsonb := analytics.range_errors(p_from, p_to, interval '20 years');
  v_items jsonb;
BEGIN
  IF p_period IS NULL OR p_period NOT IN ('day', 'week', 'month', 'year') THEN
    errs := errs || '[{"field":"period","message":"must be one of day, week, month, year"}]';
  END IF;
  PERFORM analytics.raise_if(errs, 'invalid growth query');
  SELECT coalesce(jsonb_agg(to_jsonb(g) ORDER BY g.period_start), '[]') INTO v_items
    FROM analytics.revenue_growth(p_period, p_from, p_to) g;
  RETURN jsonb_build_object('period', p_period, 'from', p_from, 'to', p_to, 'timezone', analytics.business_timezone(),
                            'items', v_items, 'count', jsonb_array_length(v_items));
END $$;
COMMENT ON FUNCTION api.analytics_growth(text, timestamptz, timestamptz) IS
  'GET /api/v1/analytics/growth: analytics.revenue_growth as {items}';

CREATE FUNCTION api.analytics_compare(p_from timestamptz, p_to timestamptz,
                                      p_prev_from timestamptz DEFAULT NULL, p_prev_to timestamptz DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  errs jsonb := analytics.range_errors(p_from, p_to, interval '20 years');
  v_items jsonb;
BEGIN
  IF (p_prev_from IS NULL) <> (p_prev_to IS NULL) THEN
    errs := errs || '[{"field":"previous_from","message":"previous_from and previous_to go together"}]';
  END IF;
  PERFORM analytics.raise_if(errs, 'invalid comparison');
  IF p_prev_from IS NULL THEN  -- the period of the same length just before
    p_prev_to := p_from;
    p_prev_from := p_from - (p_to - p_from);
  END IF;
  PERFORM analytics.raise_if(analytics.range_errors(p_prev_from, p_prev_to, interval '20 years',
                                                    'previous_from', 'previous_to'), 'invalid comparison');
  SELECT jsonb_object_agg(c.metric, jsonb_build_object('value', c.current_value, 'previous', c.previous_value,
                                                       'change', c.change, 'change_pct', c.change_pct))
    INTO v_items FROM analytics.compare_periods(p_from, p_to, p_prev_from, p_prev_to) c;
  RETURN jsonb_build_object('current', jsonb_build_object('from', p_from, 'to', p_to),
                            'previous', jsonb_build_object('from', p_prev_from, 'to', p_prev_to),
                            'metrics', v_items);
END $$;
COMMENT ON FUNCTION api.analytics_compare(timestamptz, timestamptz, timestamptz, timestamptz) IS
  'GET /api/v1/analytics/compare?from=&to=[&previous_from=&previous_to=]: analytics.compare_periods; the previous '
  'period defaults to the one of the same length just before';

CREATE FUNCTION api.analytics_breakdown(p_dimension text, p_from timestamptz, p_to timestamptz, p_limit integer DEFAULT 50)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  errs jsonb := analytics.range_errors(p_from, p_to, interval '20 years');
  v_items jsonb;
BEGIN
  IF p_dimension IS NULL OR p_dimension NOT IN ('product', 'category', 'supplier', 'platform', 'payment_method', 'country') THEN
    errs := errs || '[{"field":"dimension","message":"must be one of product, category, supplier, platform, payment_method, country"}]';
  END IF;
  IF p_limit IS NULL OR p_limit < 1 OR p_limit > 1000 THEN
    errs := errs || '[{"field":"limit","message":"must be an integer between 1 and 1000"}]';
  END IF;
  PERFORM analytics.raise_if(errs, 'invalid breakdown');
  SELECT coalesce(jsonb_agg(to_jsonb(b)), '[]') INTO v_items
    FROM analytics.breakdown(p_dimension, p_from, p_to, p_limit) b;
  RETURN jsonb_build_object('dimension', p_dimension, 'from', p_from, 'to', p_to, 'items', v_items,
                            'count', jsonb_array_length(v_items), 'limit', p_limit);
END $$;
COMMENT ON FUNCTION api.analytics_breakdown(text, timestamptz, timestamptz, integer) IS
  'GET /api/v1/analytics/breakdown?dimension=&from=&to=&limit=: analytics.breakdown as {items}';

CREATE FUNCTION api.analytics_patterns(p_kind text, p_from timestamptz, p_to timestamptz)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  errs jsonb := analytics.range_errors(p_from, p_to, interval '20 years');
  v_items jsonb;
BEGIN
  IF p_kind IS NULL OR p_kind NOT IN ('hour_of_day', 'day_of_week') THEN
    errs := errs || '[{"field":"kind","message":"must be hour_of_day or day_of_week"}]';
  END IF;
  PERFORM analytics.raise_if(errs, 'invalid pattern query');
  IF p_kind = 'hour_of_day' THEN
    SELECT jsonb_agg(to_jsonb(h) ORDER BY h.hour_of_day) INTO v_items FROM analytics.hour_of_day_pattern(p_from, p_to) h;
  ELSE
    SELECT jsonb_agg(to_jsonb(d) ORDER BY d.iso_dow) INTO v_items FROM analytics.day_of_week_pattern(p_from, p_to) d;
  END IF;
  RETURN jsonb_build_object('kind', p_kind, 'from', p_from, 'to', p_to, 'timezone', analytics.business_timezone(),
                            'items', v_items);
END $$;
COMMENT ON FUNCTION api.analytics_patterns(text, timestamptz, timestamptz) IS
  'GET /api/v1/analytics/patterns?kind=hour_of_day|day_of_week&from=&to=';

CREATE FUNCTION api.analytics_top_products(p_from timestamptz, p_to timestamptz, p_limit integer DEFAULT 10,
                                           p_by text DEFAULT 'revenue')
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  errs jsonb := analytics.range_errors(p_from, p_to, interval '20 years');
  v_items jsonb;
BEGIN
  IF p_limit IS NULL OR p_limit < 1 OR p_limit > 1000 THEN
    errs := errs || '[{"field":"limit","message":"must be an integer between 1 and 1000"}]';
  END IF;
  IF p_by IS NULL OR p_by NOT IN ('revenue', 'units', 'orders') THEN
    errs := errs || '[{"field":"by","message":"must be revenue, units or orders"}]';
  END IF;
  PERFORM analytics.raise_if(errs, 'invalid top products query');
  SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t.rank), '[]') INTO v_items
    FROM analytics.top_products(p_from, p_to, p_limit, p_by) t;
  RETURN jsonb_build_object('from', p_from, 'to', p_to, 'by', p_by, 'items', v_items,
                            'count', jsonb_array_length(v_items), 'limit', p_limit);
END $$;
COMMENT ON FUNCTION api.analytics_top_products(timestamptz, timestamptz, integer, text) IS
  'GET /api/v1/analytics/top-products?from=&to=&limit=&by=revenue|units|orders';

CREATE FUNCTION api.customers_top(p_from timestamptz, p_to timestamptz, p_limit integer DEFAULT 10,
                                  p_by text DEFAULT 'revenue')
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  errs jsonb := analytics.range_errors(p_from, p_to, interval '20 years');
  v_items jsonb;
BEGIN
  IF p_limit IS NULL OR p_limit < 1 OR p_limit > 1000 THEN
    errs := errs || '[{"field":"limit","message":"must be an integer between 1 and 1000"}]';
  END IF;
  IF p_by IS NULL OR p_by NOT IN ('revenue', 'orders') THEN
    errs := errs || '[{"field":"by","message":"must be revenue or orders"}]';
  END IF;
  PERFORM analytics.raise_if(errs, 'invalid top customers query');
  SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t.rank), '[]') INTO v_items
    FROM analytics.top_customers(p_from, p_to, p_limit, p_by) t;
  RETURN jsonb_build_object('from', p_from, 'to', p_to, 'by', p_by, 'items', v_items,
                            'count', jsonb_array_length(v_items), 'limit', p_limit);
END $$;
COMMENT ON FUNCTION api.customers_top(timestamptz, timestamptz, integer, text) IS
  'GET /api/v1/customers/top?from=&to=&limit=&by=revenue|orders: analytics.top_customers';

CREATE FUNCTION api.customers_behavior(p_from timestamptz, p_to timestamptz, p_customer_id bigint DEFAULT NULL,
                                       p_limit integer DEFAULT 20)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  errs jsonb := analytics.range_errors(p_from, p_to, interval '20 years');
  v_items jsonb;
BEGIN
  IF p_limit IS NULL OR p_limit < 1 OR p_limit > 1000 THEN
    errs := errs || '[{"field":"limit","message":"must be an integer between 1 and 1000"}]';
  END IF;
  IF p_customer_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM customers WHERE id = p_customer_id) THEN
    errs := errs || jsonb_build_array(jsonb_build_object('field', 'customer_id', 'message', 'no customer with id ' || p_customer_id));
  END IF;
  PERFORM analytics.raise_if(errs, 'invalid customer behaviour query');
  SELECT coalesce(jsonb_agg(to_jsonb(b)), '[]') INTO v_items
    FROM analytics.customer_behavior(p_from, p_to, p_customer_id, p_limit) b;
  RETURN jsonb_build_object('from', p_from, 'to', p_to, 'customer_id', p_customer_id, 'timezone', analytics.business_timezone(),
                            'items', v_items, 'count', jsonb_array_length(v_items));
END $$;
COMMENT ON FUNCTION api.customers_behavior(timestamptz, timestamptz, bigint, integer) IS
  'GET /api/v1/customers/behavior?from=&to=[&customer_id=]&limit=: analytics.customer_behavior';

CREATE FUNCTION api.customers_segments(p_as_of timestamptz DEFAULT now())
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_items jsonb;
BEGIN
  PERFORM analytics.raise_if(analytics.range_errors(p_as_of, p_as_of, NULL, 'as_of', 'as_of'), 'invalid segments query');
  SELECT coalesce(jsonb_agg(to_jsonb(s)), '[]') INTO v_items FROM analytics.customer_segments(p_as_of) s;
  RETURN jsonb_build_object('as_of', p_as_of, 'window_days', 365, 'items', v_items);
END $$;
COMMENT ON FUNCTION api.customers_segments(timestamptz) IS
  'GET /api/v1/customers/segments?as_of=: RFM segments (analytics.customer_segments)';

CREATE FUNCTION api.customers_rfm(p_as_of timestamptz DEFAULT now(), p_segment text DEFAULT NULL, p_limit integer DEFAULT 100)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  errs jsonb := analytics.range_errors(p_as_of, p_as_of, NULL, 'as_of', 'as_of');
  v_items jsonb;
BEGIN
  IF p_limit IS NULL OR p_limit < 1 OR p_limit > 10000 THEN
    errs := errs || '[{"field":"limit","message":"must be an integer between 1 and 10000"}]';
  END IF;
  IF p_segment IS NOT NULL AND p_segment NOT IN ('champions', 'loyal', 'potential_loyalist', 'new', 'promising',
                                                 'at_risk', 'cant_lose', 'hibernating', 'lost') THEN
    errs := errs || '[{"field":"segment","message":"must be one of champions, loyal, potential_loyalist, new, promising, at_risk, cant_lose, hibernating, lost"}]';
  END IF;
  PERFORM analytics.raise_if(errs, 'invalid RFM query');
  SELECT coalesce(jsonb_agg(to_jsonb(r) ORDER BY r.monetary DESC, r.customer_id), '[]') INTO v_items
    FROM (SELECT * FROM analytics.rfm(p_as_of) r WHERE p_segment IS NULL OR r.segment = p_segment
           ORDER BY r.monetary DESC, r.customer_id LIMIT p_limit) r;
  RETURN jsonb_build_object('as_of', p_as_of, 'segment', p_segment, 'items', v_items,
                            'count', jsonb_array_length(v_items), 'limit', p_limit);
END $$;
COMMENT ON FUNCTION api.customers_rfm(timestamptz, text, integer) IS
  'GET /api/v1/customers/rfm?as_of=&segment=&limit=: RFM scores per customer (analytics.rfm), highest revenue first';

CREATE FUNCTION api.customers_lifetime_value(p_as_of timestamptz DEFAULT now(), p_limit integer DEFAULT 20,
                                             p_horizon_months integer DEFAULT 12)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  errs jsonb := analytics.range_errors(p_as_of, p_as_of, NULL, 'as_of', 'as_of');
  v_items jsonb;
BEGIN
  IF p_limit IS NULL OR p_limit < 1 OR p_limit > 1000 THEN
    errs := errs || '[{"field":"limit","message":"must be an integer between 1 and 1000"}]';
  END IF;
  IF p_horizon_months IS NULL OR p_horizon_months < 1 OR p_horizon_months > 120 THEN
    errs := errs || '[{"field":"horizon_months","message":"must be an integer between 1 and 120"}]';
  END IF;
  PERFORM analytics.raise_if(errs, 'invalid lifetime value query');
  SELECT coalesce(jsonb_agg(to_jsonb(c)), '[]') INTO v_items
    FROM analytics.customer_lifetime_value(p_as_of, p_limit, p_horizon_months) c;
  RETURN jsonb_build_object('as_of', p_as_of, 'horizon_months', p_horizon_months, 'items', v_items,
                            'count', jsonb_array_length(v_items), 'limit', p_limit);
END $$;
COMMENT ON FUNCTION api.customers_lifetime_value(timestamptz, integer, integer) IS
  'GET /api/v1/customers/lifetime-value?as_of=&limit=&horizon_months=: analytics.customer_lifetime_value';

CREATE FUNCTION api.inventory_low_stock(p_as_of timestamptz DEFAULT now(), p_velocity_days integer DEFAULT 28,
                                        p_cover_days numeric DEFAULT 14, p_limit integer DEFAULT 100)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  errs jsonb := analytics.range_errors(p_as_of, p_as_of, NULL, 'as_of', 'as_of');
  v_items jsonb;
BEGIN
  IF p_velocity_days IS NULL OR p_velocity_days < 1 OR p_velocity_days > 366 THEN
    errs := errs || '[{"field":"velocity_days","message":"must be an integer between 1 and 366"}]';
  END IF;
  IF p_cover_days IS NULL OR p_cover_days < 0 OR p_cover_days > 3650 THEN
    errs := errs || '[{"field":"cover_days","message":"must be a number between 0 and 3650"}]';
  END IF;
  IF p_limit IS NULL OR p_limit < 1 OR p_limit > 10000 THEN
    errs := errs || '[{"field":"limit","message":"must be an integer between 1 and 10000"}]';
  END IF;
  PERFORM analytics.raise_if(errs, 'invalid low stock query');
  SELECT coalesce(jsonb_agg(to_jsonb(l)), '[]') INTO v_items
    FROM analytics.low_stock(p_as_of, p_velocity_days, p_cover_days, p_limit) l;
  RETURN jsonb_build_object('as_of', p_as_of, 'velocity_days', p_velocity_days, 'cover_days', p_cover_days,
                            'items', v_items, 'count', jsonb_array_length(v_items), 'limit', p_limit);
END $$;
COMMENT ON FUNCTION api.inventory_low_stock(timestamptz, integer, numeric, integer) IS
  'GET /api/v1/inventory/low-stock?as_of=&velocity_days=&cover_days=&limit=: analytics.low_stock';

CREATE FUNCTION api.analytics_inventory_history(p_product_id bigint, p_from timestamptz, p_to timestamptz, p_limit integer DEFAULT 100)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  errs jsonb := analytics.range_errors(p_from, p_to, interval '20 years');
  v_items jsonb;
BEGIN
  IF p_limit IS NULL OR p_limit < 1 OR p_limit > 10000 THEN
    errs := errs || '[{"field":"limit","message":"must be an integer between 1 and 10000"}]';
  END IF;
  IF p_product_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM products WHERE id = p_product_id) THEN
    errs := errs || jsonb_build_array(jsonb_build_object('field', 'product_id', 'message', 'no product with id ' || p_product_id));
  END IF;
  PERFORM analytics.raise_if(errs, 'invalid inventory history query');
  SELECT coalesce(jsonb_agg(to_jsonb(h)), '[]') INTO v_items
    FROM analytics.inventory_history(p_product_id, p_from, p_to, p_limit) h;
  RETURN jsonb_build_object('product_id', p_product_id, 'from', p_from, 'to', p_to, 'items', v_items,
                            'count', jsonb_array_length(v_items), 'limit', p_limit);
END $$;
COMMENT ON FUNCTION api.analytics_inventory_history(bigint, timestamptz, timestamptz, integer) IS
  'GET /api/v1/inventory/history?product_id=&from=&to=&limit=: analytics.inventory_history, newest first';

-- ------------------------------------------------------------------ privileges
-- api: endpoint functions are for the REST service only (see api_auth)
REVOKE EXECUTE ON FUNCTION api.dashboard_overview(timestamptz), api.hourly_sales(timestamptz, timestamptz, text, text),
  api.analytics_revenue(text, timestamptz, timestamptz), api.analytics_growth(text, timestamptz, timestamptz),
  api.analytics_compare(timestamptz, timestamptz, timestamptz, timestamptz),
  api.analytics_breakdown(text, timestamptz, timestamptz, integer), api.analytics_patterns(text, timestamptz, timestamptz),
  api.analytics_top_products(timestamptz, timestamptz, integer, text),
  api.customers_top(timestamptz, timestamptz, integer, text), api.customers_behavior(timestamptz, timestamptz, bigint, integer),
  api.customers_segments(timestamptz), api.customers_rfm(timestamptz, text, integer),
  api.customers_lifetime_value(timestamptz, integer, integer),
  api.inventory_low_stock(timestamptz, integer, numeric, integer), api.analytics_inventory_history(bigint, timestamptz, timestamptz, integer)
  FROM PUBLIC;
DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'techmart_api') THEN
    GRANT EXECUTE ON FUNCTION api.dashboard_overview(timestamptz), api.hourly_sales(timestamptz, timestamptz, text, text),
      api.analytics_revenue(text, timestamptz, timestamptz), api.analytics_growth(text, timestamptz, timestamptz),
      api.analytics_compare(timestamptz, timestamptz, timestamptz, timestamptz),
      api.analytics_breakdown(text, timestamptz, timestamptz, integer), api.analytics_patterns(text, timestamptz, timestamptz),
      api.analytics_top_products(timestamptz, timestamptz, integer, text),
      api.customers_top(timestamptz, timestamptz, integer, text), api.customers_behavior(timestamptz, timestamptz, bigint, integer),
      api.customers_segments(timestamptz), api.customers_rfm(timestamptz, text, integer),
      api.customers_lifetime_value(timestamptz, integer, integer),
      api.inventory_low_stock(timestamptz, integer, numeric, integer), api.analytics_inventory_history(bigint, timestamptz, timestamptz, integer)
      TO techmart_api;
  END IF;
END $$;

-- techmart_bi: the bi views, the rollups and the analytics read functions; nothing of public, api or users
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'techmart_bi') THEN
    CREATE ROLE techmart_bi NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION;
  END IF;
END $$;
COMMENT ON ROLE techmart_bi IS
  'Read-only group role for BI tools: SELECT on the views of schema bi and the rollups, EXECUTE on analytics functions. '
  'Log in as a member: CREATE ROLE metabase LOGIN PASSWORD ''...'' IN ROLE techmart_bi';
GRANT USAGE ON SCHEMA bi, analytics TO techmart_bi;
GRANT SELECT ON ALL TABLES IN SCHEMA bi TO techmart_bi;
GRANT SELECT ON analytics.sales_hourly, analytics.sales_hourly_v, analytics.settings TO techmart_bi;
-- a BI login may run the read functions of analytics (they read bi views and rollups only)
REVOKE EXECUTE ON FUNCTION analytics.rollup_check(timestamptz, timestamptz),
  analytics.rollup_recompute(timestamptz, timestamptz) FROM PUBLIC;

COMMIT;

-- Load the seed CSVs of this folder into an empty database.
--   cd data && psql -X -1 -v ON_ERROR_STOP=1 -f load.sql
-- Runs in one transaction (-1): a failure leaves nothing loaded.
--
-- The generated history ends at the generator's --end (midnight UTC). Every time is
-- shifted by the same whole number of days so that the history ends at the start of
-- today (UTC): hour-of-day patterns stay as generated, and "yesterday" is the last
-- full generated day. Transactions go through the scoring trigger in time order, so
-- every seeded row is scored exactly as a live insert would have been.

SET client_min_messages = warning;
-- The seed's transactions are past sales and products.csv holds today's stock: the history must
-- not move it (change stock_sales: live inserts take their units from stock_quantity and write
-- inventory_history; a load of past transactions runs with this setting off).
SET techmart.track_stock = off;

\copy categories (id, name, description) FROM 'categories.csv' WITH (FORMAT csv, HEADER)
\copy suppliers (id, name, reliability_score, country, contact_email) FROM 'suppliers.csv' WITH (FORMAT csv, HEADER)
\copy products (id, sku, name, description, category_id, price, stock_quantity, low_stock_threshold, supplier_id) FROM 'products.csv' WITH (FORMAT csv, HEADER)

CREATE TEMP TABLE seed_customers (LIKE customers INCLUDING DEFAULTS) ON COMMIT DROP;
\copy seed_customers (id, email, name, country, city, home_lat, home_lon, registration_date) FROM 'customers.csv' WITH (FORMAT csv, HEADER)

CREATE TEMP TABLE seed_transactions (
  id bigint, customer_id bigint, product_id bigint, quantity integer, unit_price numeric,
  transaction_time timestamptz, status text, payment_method text, platform text, order_number text,
  country text, latitude float8, longitude float8, device_id text, ip_address inet,
  payment_fingerprint text, fraud_pattern text
) ON COMMIT DROP;
\copy seed_transactions FROM 'transactions.csv' WITH (FORMAT csv, HEADER)

-- whole days from the generated end (the day after the last transaction) to today
CREATE TEMP TABLE seed_shift ON COMMIT DROP AS
SELECT make_interval(days => (current_date - ((max(transaction_time) AT TIME ZONE 'UTC')::date + 1))) AS shift
  FROM seed_transactions;

INSERT INTO customers (id, email, name, country, city, home_lat, home_lon, registration_date)
SELECT c.id, c.email, c.name, c.country, c.city, c.home_lat, c.home_lon, c.registration_date + s.shift
  FROM seed_customers c, seed_shift s
 ORDER BY c.id;

-- The first quarter of the history is scored without shop priors (a new shop has none); then
-- techmart.refresh_priors() computes them from what has been sold so far -- as the nightly job of
-- docs/operations.md does in production -- and the rest is scored with them. No row is scored
-- with priors computed from its own future.
CREATE TEMP TABLE seed_warmup ON COMMIT DROP AS
SELECT min(transaction_time) + (max(transaction_time) - min(transaction_time)) / 4 AS until
  FROM seed_transactions;

INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, transaction_time, status,
                          payment_method, platform, order_number, country, latitude, longitude,
                          device_id, ip_address, payment_fingerprint, created_at)
SELECT t.id, t.customer_id, t.product_id, t.quantity, t.unit_price, t.transaction_time + s.shift, t.status,
       t.payment_method, t.platform, t.order_number, t.country, t.latitude, t.longitude,
       t.device_id, t.ip_address, t.payment_fingerprint, t.transaction_time + s.shift
  FROM seed_transactions t, seed_shift s, seed_warmup w
 WHERE t.transaction_time < w.until
 ORDER BY t.transaction_time, t.id;

DO $$ BEGIN PERFORM techmart.refresh_priors(); END $$;

INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, transaction_time, status,
                          payment_method, platform, order_number, country, latitude, longitude,
                          device_id, ip_address, payment_fingerprint, created_at)
SELECT t.id, t.customer_id, t.product_id, t.quantity, t.unit_price, t.transaction_time + s.shift, t.status,
       t.payment_method, t.platform, t.order_number, t.country, t.latitude, t.longitude,
       t.device_id, t.ip_address, t.payment_fingerprint, t.transaction_time + s.shift
  FROM seed_transactions t, seed_shift s, seed_warmup w
 WHERE t.transaction_time >= w.until
 ORDER BY t.transaction_time, t.id;

INSERT INTO planted_fraud (transaction_id, pattern)
SELECT id, fraud_pattern FROM seed_transactions WHERE coalesce(fraud_pattern, '') <> '';

-- customers' net spend: kept by the transactions triggers (change customers_spent); recomputed
-- here as after any bulk load (no-op when the triggers were on)
SELECT analytics.customers_spent_rebuild() AS customers_spent_fixed \gset
-- the per-customer monthly rollups (change customer_months): kept by their triggers too; rebuilt the same way
SELECT analytics.customer_months_rebuild() AS customer_months_rows \gset

-- identities continue after the explicit ids
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['categories', 'suppliers', 'products', 'customers', 'transactions'] LOOP
    EXECUTE format('SELECT setval(pg_get_serial_sequence(%L, ''id''), (SELECT coalesce(max(id), 0) + 1 FROM %I), false)', t, t);
  END LOOP;
END $$;

ANALYZE;

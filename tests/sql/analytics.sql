-- pgTAP: dashboard overview, hourly sales, analytics functions, bi views and the role techmart_bi
-- Known rows (ids 95xxxx) around the Central European DST change of 2021-03-28 (01:00 UTC),
-- far from the seed data; values checked against independent SQL over transactions.
BEGIN;
SELECT plan(44);

INSERT INTO categories (id, name) VALUES (952001, 'analytics cat A'), (952002, 'analytics cat B');
INSERT INTO suppliers (id, name, country, reliability_score) VALUES (952001, 'analytics supplier', 'DE', 0.8);
INSERT INTO products (id, sku, name, category_id, price, stock_quantity, low_stock_threshold, supplier_id) VALUES
  (952001, 'AN-1', 'analytics p1', 952001, 10, 2, 10, 952001),
  (952002, 'AN-2', 'analytics p2', 952002, 3.333, 500, 10, 952001);
INSERT INTO customers (id, email, name, country) VALUES
  (952001, 'an1@example.com', 'An One', 'DE'), (952002, 'an2@example.com', 'An Two', 'DE'), (952003, 'an3@example.com', 'An Three', 'AT');

-- a history loaded as of 2021 (change stock_sales): the products' stock is their stock now (952001: 2 units, low), which
-- the past sales must not move -- as data/load.sql loads the seed
SET LOCAL techmart.track_stock = off;
INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, transaction_time, status, payment_method,
                          platform, order_number, country) VALUES
  -- yesterday (Berlin 2021-03-28, a 23-hour day: 2021-03-27 23:00Z .. 2021-03-28 22:00Z)
  (952001, 952001, 952001, 1, 10, '2021-03-27 22:59:59Z', 'completed', 'paypal', 'web', 'AN-O1', 'DE'),   -- Saturday in Berlin
  (952002, 952001, 952001, 2, 10, '2021-03-27 23:00:00Z', 'completed', 'paypal', 'web', 'AN-O2', 'DE'),
  (952003, 952002, 952002, 3, 3.333, '2021-03-28 00:30:00Z', 'completed', 'credit_card', 'ios_app', NULL, 'DE'),
  (952004, 952002, 952001, 1, 10, '2021-03-28 10:29:59Z', 'completed', 'credit_card', 'ios_app', 'AN-O3', 'AT'),
  (952005, 952003, 952001, 5, 10, '2021-03-28 10:30:00Z', 'completed', 'paypal', 'web', 'AN-O4', 'AT'),  -- after the same time
  (952006, 952003, 952002, 1, 3.333, '2021-03-28 09:00:00Z', 'refunded', 'paypal', 'web', 'AN-O5', 'AT'),
  -- today (Berlin 2021-03-29 from 2021-03-28 22:00Z), as of 2021-03-29 10:30Z
  (952007, 952001, 952001, 1, 10, '2021-03-28 22:00:00Z', 'completed', 'paypal', 'web', 'AN-O6', 'DE'),
  (952008, 952001, 952002, 2, 3.333, '2021-03-28 22:00:00Z', 'completed', 'paypal', 'web', 'AN-O6', 'DE'),
  (952009, 952003, 952002, 1, 3.333, '2021-03-29 10:15:00Z', 'completed', 'gift_card', 'web', NULL, NULL),
  (952010, 952003, 952001, 1, 10, '2021-03-29 10:29:59.999Z', 'blocked', 'gift_card', 'web', NULL, NULL),
  (952011, 952002, 952001, 9, 10, '2021-03-29 10:30:00Z', 'completed', 'paypal', 'web', NULL, 'DE');   -- after as_of
RESET techmart.track_stock;

SET LOCAL analytics.business_timezone = 'Europe/Berlin';
SELECT is(analytics.business_timezone(), 'Europe/Berlin', 'the GUC sets the business time zone');

CREATE TEMP TABLE ov AS SELECT api.dashboard_overview('2021-03-29 10:30Z') AS j;
-- independent: completed amounts in the local-time ranges
CREATE FUNCTION pg_temp.rev(f timestamptz, t timestamptz) RETURNS numeric LANGUAGE sql AS $$
  SELECT coalesce(sum(amount), 0) FROM transactions WHERE status = 'completed' AND transaction_time >= f AND transaction_time < t $$;
CREATE FUNCTION pg_temp.ord(f timestamptz, t timestamptz) RETURNS numeric LANGUAGE sql AS $$
  SELECT count(DISTINCT coalesce(order_number, id::text)) FROM transactions
   WHERE status = 'completed' AND transaction_time >= f AND transaction_time < t $$;

SELECT is((SELECT (j->'today'->>'from')::timestamptz FROM ov), '2021-03-28 22:00Z'::timestamptz, 'today starts at Berlin midnight (CEST)');
SELECT is((SELECT (j->'yesterday'->>'from')::timestamptz FROM ov), '2021-03-27 23:00Z'::timestamptz, 'yesterday started at Berlin midnight (CET)');
SELECT is((SELECT (j->'yesterday'->>'to')::timestamptz FROM ov), '2021-03-28 10:30Z'::timestamptz,
          'yesterday up to the same local time of day (12:30 CEST), across the DST change');
SELECT is((SELECT (j->'revenue'->>'value')::numeric FROM ov), pg_temp.rev('2021-03-29 00:00+02', '2021-03-29 10:30Z'),
          'today''s revenue = completed amounts since local midnight (partial hour included, later rows not)');
SELECT is((SELECT (j->'revenue'->>'value')::numeric FROM ov), 19.999, 'today''s revenue by hand: 10 + 6.666 + 3.333');
SELECT is((SELECT (j->'revenue'->>'previous')::numeric FROM ov), pg_temp.rev('2021-03-28 00:00+01', '2021-03-28 12:30+02'),
          'yesterday''s revenue to the same time');
SELECT is((SELECT (j->'revenue'->>'previous')::numeric FROM ov), 39.999, 'yesterday''s revenue by hand: 20 + 9.999 + 10');
SELECT is((SELECT (j->'orders'->>'value')::numeric FROM ov), pg_temp.ord('2021-03-29 00:00+02', '2021-03-29 10:30Z'),
          'orders today: an order of two lines counts once');
SELECT is((SELECT (j->'orders'->>'previous')::int FROM ov), 3, 'orders yesterday');
SELECT is((SELECT (j->'average_order_value'->>'value')::numeric FROM ov), round(19.999 / 2, 2), 'average order value');
SELECT is((SELECT (j->'revenue'->>'change_pct')::numeric FROM ov), round(100 * (19.999 - 39.999) / 39.999, 2), 'revenue change %');
SELECT is((SELECT (j->'active_customers'->>'value')::int FROM ov),
          (SELECT count(DISTINCT customer_id)::int FROM transactions
            WHERE transaction_time >= '2021-03-29 00:00+02' AND transaction_time < '2021-03-29 10:30Z'),
          'active customers today (any status)');
SELECT is((SELECT (j->'transactions'->>'value')::int FROM ov), 4, 'transactions today include the blocked one');
SELECT is((SELECT (j->'yesterday_full_day'->>'revenue')::numeric FROM ov), pg_temp.rev('2021-03-28 00:00+01', '2021-03-29 00:00+02'),
          'yesterday''s full (23-hour) day');

-- UTC business day gives other boundaries
SET LOCAL analytics.business_timezone = 'UTC';
SELECT is((api.dashboard_overview('2021-03-29 10:30Z')->'revenue'->>'value')::numeric,
          pg_temp.rev('2021-03-29 00:00Z', '2021-03-29 10:30Z'), 'in UTC today starts at 00:00Z');
SET LOCAL analytics.business_timezone = 'Asia/Kolkata';  -- UTC+05:30: day boundaries inside an hour
SELECT is((SELECT revenue FROM analytics.sales_totals('2021-03-28 00:00+05:30', '2021-03-29 00:00+05:30')),
          pg_temp.rev('2021-03-28 00:00+05:30', '2021-03-29 00:00+05:30'), 'totals exact for a half-hour offset zone');
SET LOCAL analytics.business_timezone = 'Europe/Berlin';

-- exact totals, edge cases
SELECT is((SELECT revenue FROM analytics.sales_totals('2021-03-28 10:29:59Z', '2021-03-28 10:30:00Z')), 10.000::numeric,
          'a one-second range holding one row');
SELECT results_eq($$SELECT revenue, orders, transactions FROM analytics.sales_totals('2021-03-28 05:00Z', '2021-03-28 05:00Z')$$,
                  $$VALUES (0::numeric, 0::bigint, 0::bigint)$$, 'an empty range gives zeros');
SELECT is((SELECT revenue FROM analytics.sales_totals('2021-03-27 20:17Z', '2021-03-29 23:59Z', 'product', '952002')),
          (SELECT sum(amount) FROM transactions WHERE product_id = 952002 AND status = 'completed'), 'totals for one product');

-- hourly sales: zero-filled UTC hours
SELECT is((api.hourly_sales('2021-03-28 21:00Z', '2021-03-29 01:00Z')->>'count')::int, 4, 'hourly sales: one item per hour');
SELECT is((SELECT array_agg((i->>'revenue')::numeric ORDER BY i->>'hour')
             FROM jsonb_array_elements(api.hourly_sales('2021-03-28 21:00Z', '2021-03-29 01:00Z')->'items') i),
          ARRAY[0, 16.666, 0, 0]::numeric[], 'hourly sales: zero-filled, 22:00 holds the two-line order');
SELECT is((api.hourly_sales('2021-03-28 21:00Z', '2021-03-28 21:00Z')->>'count')::int, 0, 'hourly sales: empty range, no item');
SELECT throws_ok($$SELECT api.hourly_sales('2021-03-29', '2021-03-28')$$, '22023', NULL, 'to before from refused');
SELECT throws_ok($$SELECT api.hourly_sales('2021-03-28', '2021-03-29', 'product', NULL)$$, '22023', NULL, 'a dimension needs a key');

-- revenue by local day across the DST change
SELECT results_eq(
  $$SELECT label, revenue FROM analytics.sales_series('day', '2021-03-27 00:00+01', '2021-03-30 00:00+02')$$,
  $$VALUES ('2021-03-27', 10.000::numeric), ('2021-03-28', 89.999), ('2021-03-29', 109.999)$$,
  'daily revenue per Berlin day (23-hour day included)');
SELECT is((api.analytics_revenue('week', '2021-03-22 00:00+01', '2021-04-05 00:00+02')->'items'->0->>'label'), '2021-W12',
          'weekly labels are ISO weeks');
SELECT throws_ok($$SELECT api.analytics_revenue('fortnight', '2021-03-01', '2021-04-01')$$, '22023',
                 'invalid revenue query: period must be one of hour, day, week, month, year', 'unknown period refused');

-- compare, breakdown, patterns, top products
SELECT is((SELECT change FROM analytics.compare_periods('2021-03-29 00:00+02', '2021-03-29 10:30Z',
                                                       '2021-03-28 00:00+01', '2021-03-28 10:30Z') WHERE metric = 'revenue'),
          19.999 - 39.999, 'compare: absolute change of revenue');
SELECT is((api.analytics_compare('2021-03-29 00:00+02', '2021-03-29 10:30Z')->'previous'->>'from')::timestamptz,
          '2021-03-28 09:30Z'::timestamptz, 'compare: default previous period of the same length (12.5 hours before)');
SELECT is((SELECT sum(revenue) FROM analytics.breakdown('category', '2021-03-27', '2021-03-30')),
          pg_temp.rev('2021-03-27', '2021-03-30'), 'breakdown by category sums to the total');
SELECT is((SELECT revenue FROM analytics.breakdown('supplier', '2021-03-27', '2021-03-30') WHERE key = '952001'),
          pg_temp.rev('2021-03-27', '2021-03-30'), 'breakdown by supplier');
SELECT is((SELECT revenue FROM analytics.hour_of_day_pattern('2021-03-27', '2021-03-30') WHERE hour_of_day = 0),
          (SELECT sum(amount) FROM transactions WHERE id BETWEEN 952001 AND 952099 AND status = 'completed'
              AND extract(hour FROM transaction_time AT TIME ZONE 'Europe/Berlin') = 0), 'hour-of-day pattern in local time');
SELECT is((SELECT product_id FROM analytics.top_products('2021-03-27', '2021-03-30', 1)), 952001::bigint, 'top product by revenue');

-- customers and stock
SELECT is((SELECT customer_id FROM analytics.top_customers('2021-03-27', '2021-03-30', 1)),
          (SELECT customer_id FROM transactions WHERE id BETWEEN 952001 AND 952099 AND status = 'completed'
            GROUP BY 1 ORDER BY sum(amount) DESC LIMIT 1), 'top customer by revenue');
SELECT is((SELECT count(*)::int FROM analytics.rfm('2021-03-30') WHERE r_score BETWEEN 1 AND 5 AND f_score BETWEEN 1 AND 5),
          (SELECT count(DISTINCT customer_id)::int FROM transactions WHERE status = 'completed'
              AND transaction_time >= '2021-03-30'::timestamptz - interval '365 days' AND transaction_time < '2021-03-30'),
          'RFM scores every customer with a purchase in the window, 1-5');
SELECT is((SELECT historical_value FROM analytics.customer_lifetime_value('2021-03-30') WHERE customer_id = 952003),
          (SELECT sum(amount) FROM transactions WHERE customer_id = 952003 AND status = 'completed'
              AND transaction_time < '2021-03-30'), 'lifetime value starts from the historical revenue');
SELECT is((SELECT days_of_cover FROM analytics.low_stock('2021-03-30', 28, 14) WHERE product_id = 952001),
          round(2 / round((SELECT sum(quantity) FROM transactions WHERE product_id = 952001 AND status = 'completed'
                              AND transaction_time >= '2021-03-02' AND transaction_time < '2021-03-30')::numeric / 28, 3), 1),
          'days of cover = stock / (units sold in 28 days / 28)');

-- the BI views are documented and carry no personal data
SELECT is_empty($$SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'bi'::regnamespace AND c.relkind = 'v'
                    AND obj_description(c.oid, 'pg_class') IS NULL$$, 'every bi view has a COMMENT');
SELECT is_empty($$SELECT c.relname || '.' || a.attname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
                   WHERE c.relnamespace = 'bi'::regnamespace AND c.relkind = 'v' AND a.attnum > 0
                     AND col_description(c.oid, a.attnum) IS NULL$$, 'every bi view column has a COMMENT');
SELECT hasnt_column('bi', 'customers', 'email', 'bi.customers has no e-mail');
-- the BI role sees the bi views and nothing else
SET LOCAL ROLE techmart_bi;
SELECT lives_ok($$SELECT * FROM bi.sales_daily LIMIT 1$$, 'techmart_bi reads bi views');
SELECT throws_ok($$SELECT password_hash FROM users$$, '42501', NULL, 'techmart_bi cannot read users');
SELECT throws_ok($$SELECT ip_address FROM transactions$$, '42501', NULL, 'techmart_bi cannot read the transactions table');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;

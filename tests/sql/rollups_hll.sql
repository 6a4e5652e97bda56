-- pgTAP: distinct-customer sketches in the hourly rollups (migrations/deploy/rollups_hll.sql)
-- Rows with ids 97xxxx in hours of April 2020 (far from the seed). Each bucket's sketch (the union
-- over its slot rows) is compared byte for byte with a sketch computed here from transactions
-- (techmart.hll_add_agg is deterministic), after inserts, status updates, moves and deletes.
BEGIN;
SELECT plan(38);

-- independent references, not shared with the migration
CREATE FUNCTION pg_temp.expect(p_dim text, p_hour timestamptz, p_key text) RETURNS bytea
LANGUAGE sql AS $$
  SELECT techmart.hll_add_agg(t.customer_id)
    FROM transactions t JOIN products p ON p.id = t.product_id
   WHERE t.transaction_time >= p_hour AND t.transaction_time < p_hour + interval '1 hour'
     AND CASE p_dim WHEN 'all' THEN true WHEN 'product' THEN t.product_id::text = p_key
                    WHEN 'category' THEN coalesce(p.category_id::text, '') = p_key
                    WHEN 'country' THEN coalesce(t.country, '') = p_key
                    WHEN 'platform' THEN t.platform = p_key
                    WHEN 'minute' THEN to_char(t.transaction_time AT TIME ZONE 'UTC', 'MI') = p_key
                    ELSE t.payment_method = p_key END
$$;
CREATE FUNCTION pg_temp.got(p_dim text, p_hour timestamptz, p_key text) RETURNS bytea
LANGUAGE sql AS $$
  SELECT techmart.hll_union_agg(s.customers_hll) FROM analytics.sales_hourly s
   WHERE s.dim = p_dim AND s.hour = p_hour AND s.key = p_key
$$;
-- every bucket of the test hours: rollup sketch = reference sketch
CREATE FUNCTION pg_temp.mismatches() RETURNS bigint
LANGUAGE sql AS $$
  SELECT count(*) FROM (
    SELECT DISTINCT d.dim, date_bin('1 hour', t.transaction_time, '2000-01-01') AS hour, d.key
      FROM transactions t JOIN products p ON p.id = t.product_id
     CROSS JOIN LATERAL (VALUES ('all', ''), ('product', t.product_id::text), ('category', coalesce(p.category_id::text, '')),
                                ('country', coalesce(t.country, '')), ('platform', t.platform),
                                ('payment_method', t.payment_method),
                                ('minute', to_char(t.transaction_time AT TIME ZONE 'UTC', 'MI'))) d(dim, key)
     WHERE t.transaction_time >= '2020-04-01' AND t.transaction_time < '2020-04-02'
    UNION
    SELECT s.dim, s.hour, s.key FROM analytics.sales_hourly s
     WHERE s.hour >= '2020-04-01' AND s.hour < '2020-04-02') b
   WHERE pg_temp.got(b.dim, b.hour, b.key) IS DISTINCT FROM pg_temp.expect(b.dim, b.hour, b.key)
$$;
CREATE FUNCTION pg_temp.distinct_customers(p_from timestamptz, p_to timestamptz) RETURNS bigint
LANGUAGE sql AS $$
  SELECT count(DISTINCT customer_id) FROM transactions WHERE transaction_time >= p_from AND transaction_time < p_to
$$;

SELECT has_function('analytics', 'rollup_recompute_hll', ARRAY['timestamp with time zone', 'timestamp with time zone'],
                    'recomputation of the sketches');
SELECT has_function('analytics', 'active_customers_exact', ARRAY['timestamp with time zone', 'timestamp with time zone'],
                    'exact active customers');
SELECT is((SELECT count(*)::int FROM analytics.sales_hourly_v v
            WHERE v.transactions > 0
              AND NOT EXISTS (SELECT 1 FROM analytics.sales_hourly s WHERE (s.dim, s.hour, s.key) = (v.dim, v.hour, v.key)
                                                                       AND s.customers_hll IS NOT NULL)),
          0, 'seed data: every bucket with lines has a sketch');
SELECT is_empty($$SELECT * FROM analytics.rollup_check() WHERE metric = 'customers_hll'$$,
                'seed data: the sketches equal the recomputation (byte for byte)');

-- fixtures
INSERT INTO categories (id, name) VALUES (970001, 'hll cat A'), (970002, 'hll cat B');
INSERT INTO products (id, sku, name, category_id, price, stock_quantity)
SELECT 970000 + i, 'HLL-' || i, 'hll product ' || i, 970001 + i % 2, 5, 1000 FROM generate_series(1, 3) i;
INSERT INTO customers (id, email, name, country)
SELECT 970000 + i, 'hll' || i || '@example.com', 'HLL ' || i, 'DE' FROM generate_series(1, 60) i;

-- 1. inserts: one statement of 120 lines (60 customers, 3 products, 2 hours), then single lines
INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, transaction_time, status, payment_method,
                          platform, country)
SELECT 970000 + i, 970001 + i % 60, 970001 + i % 3, 1, 5, '2020-04-01 10:00Z'::timestamptz + (i % 2) * interval '1 hour'
       + i * interval '10 seconds', 'completed', CASE WHEN i % 4 = 0 THEN 'paypal' ELSE 'credit_card' END, 'web',
       CASE WHEN i % 5 = 0 THEN NULL ELSE 'DE' END
  FROM generate_series(1, 120) i;
INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, transaction_time, status, payment_method, platform, country)
VALUES (970201, 970001, 970002, 1, 5, '2020-04-01 10:59Z', 'pending', 'paypal', 'ios_app', 'FR');
INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, transaction_time, status, payment_method, platform, country)
VALUES (970202, 970060, 970003, 1, 5, '2020-04-01 12:00Z', 'failed', 'paypal', 'ios_app', 'FR');
SELECT is(pg_temp.mismatches(), 0::bigint, 'inserts: every bucket''s sketch equals the recomputation');
SELECT isnt(pg_temp.got('all', '2020-04-01 10:00Z', ''), NULL, 'inserts: the hour has a sketch');
SELECT is(round(techmart.hll_cardinality(pg_temp.got('all', '2020-04-01 10:00Z', '')))::bigint,
          pg_temp.distinct_customers('2020-04-01 10:00Z', '2020-04-01 11:00Z'),
          'inserts: the estimate of a small set is exact (30 customers)');
SELECT is(round(techmart.hll_cardinality(pg_temp.got('product', '2020-04-01 10:00Z', '970002')))::bigint,
          (SELECT count(DISTINCT customer_id) FROM transactions
            WHERE product_id = 970002 AND transaction_time >= '2020-04-01 10:00Z' AND transaction_time < '2020-04-01 11:00Z'),
          'inserts: product bucket estimate');
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2020-04-01', '2020-04-02')$$, 'inserts: rollup_check is empty');

-- 2. status updates: the lines stay in their buckets (any status counts), the sketch does not change
CREATE TEMP TABLE before_status AS SELECT pg_temp.got('all', '2020-04-01 10:00Z', '') AS s;
UPDATE transactions SET status = 'refunded' WHERE id BETWEEN 970001 AND 970040 AND id % 3 = 0;
UPDATE transactions SET status = 'blocked' WHERE id = 970201;
SELECT is(pg_temp.mismatches(), 0::bigint, 'status updates: sketches equal the recomputation');
SELECT is(pg_temp.got('all', '2020-04-01 10:00Z', ''), (SELECT s FROM before_status),
          'status updates: the hour''s sketch is unchanged');
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2020-04-01', '2020-04-02')$$, 'status updates: rollup_check is empty');

-- 3. an UPDATE of customer_id: the old customer leaves the buckets (recomputed)
UPDATE transactions SET customer_id = 970060 WHERE id IN (970002, 970062);  -- customer 970003's only lines
SELECT is(pg_temp.mismatches(), 0::bigint, 'customer change: sketches equal the recomputation');
SELECT is(round(techmart.hll_cardinality(pg_temp.got('all', '2020-04-01 10:00Z', '')))::bigint,
          pg_temp.distinct_customers('2020-04-01 10:00Z', '2020-04-01 11:00Z'),
          'customer change: the estimate follows (one customer fewer)');

-- 4. moves: to another hour, another product, another country
UPDATE transactions SET transaction_time = '2020-04-01 13:30Z' WHERE id IN (970004, 970005);
UPDATE transactions SET product_id = 970003 WHERE id = 970007;
UPDATE transactions SET country = 'AT', payment_method = 'gift_card' WHERE id = 970009;
SELECT is(pg_temp.mismatches(), 0::bigint, 'moves (hour, product, country, payment method): sketches equal the recomputation');
SELECT isnt(pg_temp.got('all', '2020-04-01 13:00Z', ''), NULL, 'moves: the new hour has a sketch');

-- 5. deletes: single lines, a bulk delete, every line of an hour
DELETE FROM transactions WHERE id = 970010;
SELECT is(pg_temp.mismatches(), 0::bigint, 'single delete: sketches equal the recomputation');
DELETE FROM transactions WHERE id BETWEEN 970011 AND 970100 AND id % 2 = 1;  -- 45 lines of hour 11
SELECT is(pg_temp.mismatches(), 0::bigint, 'bulk delete: sketches equal the recomputation');
SELECT is(round(techmart.hll_cardinality(pg_temp.got('all', '2020-04-01 11:00Z', '')))::bigint,
          pg_temp.distinct_customers('2020-04-01 11:00Z', '2020-04-01 12:00Z'),
          'bulk delete: the estimate follows');
DELETE FROM transactions WHERE transaction_time >= '2020-04-01 13:00Z' AND transaction_time < '2020-04-01 14:00Z';
SELECT is((SELECT count(*)::int FROM analytics.sales_hourly
            WHERE hour = '2020-04-01 13:00Z' AND customers_hll IS NOT NULL), 0,
          'an hour emptied by deletes has no sketch left');
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2020-04-01', '2020-04-02')$$, 'deletes: rollup_check is empty');

-- 6. several slots: this backend's rows moved to another slot (as if written by another backend),
--    then more lines and a delete: the delete recomputes into this slot and clears the other
UPDATE analytics.sales_hourly SET slot = (pg_backend_pid() % 8 + 1) % 8
 WHERE hour = '2020-04-01 10:00Z' AND slot = pg_backend_pid() % 8;
INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, transaction_time, status, payment_method, platform, country)
VALUES (970203, 970050, 970001, 1, 5, '2020-04-01 10:30Z', 'completed', 'credit_card', 'web', 'DE');
SELECT is((SELECT count(*)::int FROM analytics.sales_hourly
            WHERE dim = 'all' AND hour = '2020-04-01 10:00Z' AND customers_hll IS NOT NULL), 2,
          'two slots hold sketches of the hour');
SELECT is(pg_temp.mismatches(), 0::bigint, 'two slots: the union equals the recomputation');
DELETE FROM transactions WHERE id = 970012;
SELECT is(pg_temp.mismatches(), 0::bigint, 'delete beside another slot: the union equals the recomputation');
SELECT is((SELECT slot FROM analytics.sales_hourly
            WHERE dim = 'all' AND hour = '2020-04-01 10:00Z' AND customers_hll IS NOT NULL),
          (pg_backend_pid() % 8)::smallint, 'the recomputed sketch sits in this backend''s slot, the other is cleared');

-- 7. a product changing category recomputes the category rows with their sketches
UPDATE products SET category_id = 970001 WHERE id = 970002;
SELECT is(pg_temp.mismatches(), 0::bigint, 'category move: sketches equal the recomputation');

-- 8. rollup_check reports a wrong sketch; rollup_rebuild repairs it
UPDATE analytics.sales_hourly SET customers_hll = techmart.hll_add(customers_hll, 1)
 WHERE dim = 'all' AND hour = '2020-04-01 10:00Z' AND customers_hll IS NOT NULL;
SELECT results_eq($$SELECT metric, recomputed + 1 = rollup FROM analytics.rollup_check('2020-04-01', '2020-04-02')$$,
                  $$VALUES ('customers_hll', true)$$, 'rollup_check reports an extra customer in a sketch');
SELECT ok(analytics.rollup_rebuild('2020-04-01', '2020-04-02') > 0, 'rollup_rebuild of the day');
SELECT is(pg_temp.mismatches(), 0::bigint, 'after rollup_rebuild the sketches equal the recomputation');
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2020-04-01', '2020-04-02')$$, 'after rollup_rebuild: rollup_check is empty');

-- 9. active customers from the sketches
SELECT is(analytics.active_customers('2020-04-01 10:20Z', '2020-04-01 12:30Z'),
          round(techmart.hll_cardinality((SELECT techmart.hll_add_agg(customer_id) FROM transactions
                                           WHERE transaction_time >= '2020-04-01 10:20Z'
                                             AND transaction_time < '2020-04-01 12:30Z')))::bigint,
          'partial hours at both ends: the merged sketches estimate what one sketch of the range estimates');
SELECT is(analytics.active_customers('2020-04-01 10:20Z', '2020-04-01 10:40Z'),
          pg_temp.distinct_customers('2020-04-01 10:20Z', '2020-04-01 10:40Z'), 'within one hour');
SELECT is(analytics.active_customers('2020-04-01 12:00Z', '2020-04-01 12:00Z'), 0::bigint, 'empty range: 0');
SELECT is(analytics.active_customers_exact('2020-04-01 10:20Z', '2020-04-01 12:30Z'),
          pg_temp.distinct_customers('2020-04-01 10:20Z', '2020-04-01 12:30Z'), 'active_customers_exact');

-- on the seed: within 3 standard errors (3 x 1.04/sqrt(16384)) of the exact count
SELECT ok(abs(analytics.active_customers(min(transaction_time), max(transaction_time))
              - pg_temp.distinct_customers(min(transaction_time), max(transaction_time)))
          <= 3 * 1.04 / sqrt(16384) * pg_temp.distinct_customers(min(transaction_time), max(transaction_time)),
          'seed: active customers of the whole history within the error bound')
  FROM transactions WHERE transaction_time < '2020-01-01' OR transaction_time >= '2021-01-01';
SELECT ok(bool_and(abs((o->'active_customers'->>'value')::numeric - pg_temp.distinct_customers(
                         (o->'today'->>'from')::timestamptz, (o->'today'->>'to')::timestamptz))
                   <= 3 * 1.04 / sqrt(16384) * pg_temp.distinct_customers((o->'today'->>'from')::timestamptz,
                                                                         (o->'today'->>'to')::timestamptz)
                   AND abs((o->'active_customers'->>'previous')::numeric - pg_temp.distinct_customers(
                         (o->'yesterday'->>'from')::timestamptz, (o->'yesterday'->>'to')::timestamptz))
                   <= 3 * 1.04 / sqrt(16384) * pg_temp.distinct_customers((o->'yesterday'->>'from')::timestamptz,
                                                                         (o->'yesterday'->>'to')::timestamptz)),
          'seed: the overview''s active customers (today, yesterday) within the bound of the exact count on 10 days')
  FROM (SELECT api.dashboard_overview(d) AS o
          FROM generate_series((SELECT max(transaction_time) FROM transactions WHERE transaction_time < '2030-01-01')
                                 - interval '9 days 7 hours', (SELECT max(transaction_time) FROM transactions
                                                                WHERE transaction_time < '2030-01-01'), interval '1 day') d) x;
SELECT is((SELECT current_value FROM analytics.compare_periods('2020-04-01 10:20Z', '2020-04-01 12:30Z',
                                                               '2020-04-01 10:20Z', '2020-04-01 10:40Z')
            WHERE metric = 'active_customers'),
          analytics.active_customers('2020-04-01 10:20Z', '2020-04-01 12:30Z')::numeric,
          'compare_periods reads active customers from the sketches');
SELECT is_empty($$SELECT * FROM analytics.rollup_check()$$, 'in the end: rollup_check over everything is empty');

SELECT * FROM finish();
ROLLBACK;

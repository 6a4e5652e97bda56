-- pgTAP: the scoring trigger reads amounts and prices as doubles without printing them
-- (numeric_to_float8: numeric_send's base-10000 digits, one IEEE operation), the double strtod
-- gives for the numeric's text. The state's last_amount is written back from that double, so it
-- equals the row's amount exactly across magnitudes and scales, and the amount-vs-list rule sees the
-- prices themselves. Ids 986001+; rolled back.
BEGIN;
SELECT plan(4);

DELETE FROM techmart.settings;
INSERT INTO techmart.settings (name, value) VALUES ('reason_min_contribution', 0);
CREATE TEMP TABLE conv_amounts (i int PRIMARY KEY, amount numeric) ON COMMIT DROP;
INSERT INTO conv_amounts VALUES (1, 0), (2, 0.001), (3, 0.05), (4, 0.007), (5, 1), (6, 19.99), (7, 100),
  (8, 1234.5), (9, 99999.999), (10, 123456789.123), (11, 98765432109.876), (12, 10000), (13, 0.1),
  (14, 3.3), (15, 7.125), (16, 50000000000);
INSERT INTO customers (id, email, name, country, registration_date)
SELECT 986000 + i, 'conversion-' || i || '@example.com', 'Conversion ' || i, 'DE', '2020-01-01' FROM conv_amounts;
INSERT INTO products (id, sku, name, price, stock_quantity) VALUES (986001, 'CONVERSION-1', 'Conversion product', 0.3, 1000000);
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, amount, payment_method, country, transaction_time)
SELECT 986000 + i, 986001, 1, amount, amount, 'credit_card', 'DE', '2031-03-01 12:00Z' FROM conv_amounts;

SELECT is((SELECT count(*) FROM conv_amounts c JOIN techmart.customer_state s ON s.customer_id = 986000 + c.i
            WHERE s.last_amount = c.amount),
          16::bigint, 'last_amount equals the amount for every magnitude and scale (the double read is exact)');
SELECT is((SELECT count(*) FROM conv_amounts c JOIN techmart.customer_state s ON s.customer_id = 986000 + c.i
            WHERE s.recent_a[cardinality(s.recent_a)] IS DISTINCT FROM c.amount::float8),
          0::bigint, 'the recent amount kept is the double of the amount''s text');
-- unit price vs the list price 0.3: the reason's detail prints both as read
SELECT is((SELECT e.detail FROM transactions t, techmart.explain(t.id) e
            WHERE t.customer_id = 986007 AND e.rule = 'amount_vs_list'),
          'unit price 100.00 vs list price 0.30', 'the amount-vs-list rule sees the unit and list prices');
SELECT is((SELECT count(*) FROM transactions WHERE customer_id BETWEEN 986001 AND 986016 AND fraud_score IS NULL),
          0::bigint, 'every row was scored');

SELECT * FROM finish();
ROLLBACK;

-- pgTAP: CALL techmart.rescore(from, to, batch_size) — not inside a transaction block (it
-- commits each batch), so this file commits its own rows (ids 940001+, year 2032) and deletes
-- them at the end. It runs in batches of batch_size customers, reports rows rescored, scores
-- changed, newly / no longer suspicious, and repairs stored verdicts that differ from the rules.
\set ON_ERROR_STOP 0
SELECT plan(9);

DELETE FROM alerts WHERE customer_id BETWEEN 940001 AND 940006;
DELETE FROM transactions WHERE customer_id BETWEEN 940001 AND 940006;
DELETE FROM techmart.customer_state WHERE customer_id BETWEEN 940001 AND 940006;
DELETE FROM customers WHERE id BETWEEN 940001 AND 940006;
DELETE FROM products WHERE id = 940001;
INSERT INTO customers (id, email, name, country, registration_date)
SELECT i, 'fraud-rescore-' || i || '@example.com', 'Fraud rescore ' || i, 'DE', '2020-01-01' FROM generate_series(940001, 940006) i;
INSERT INTO products (id, sku, name, price, stock_quantity) VALUES (940001, 'FRAUD-RESCORE-1', 'Fraud rescore product', 40, 1000000);
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country, transaction_time)
SELECT c, 940001, 1, 38 + d % 5, 'credit_card', 'DE', '2032-01-01 14:00Z'::timestamptz + d * interval '1 day' + (c % 30) * interval '1 minute'
  FROM generate_series(940001, 940006) c, generate_series(1, 5) d ORDER BY d, c;
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country, transaction_time)
SELECT c, 940001, 1, 4000, 'crypto', 'KP', '2032-01-10 14:00Z' FROM generate_series(940001, 940006) c;

SELECT is((SELECT count(*) FROM transactions WHERE customer_id BETWEEN 940001 AND 940006 AND is_suspicious), 6::bigint,
          'setup: the six odd purchases are suspicious');

CALL techmart.rescore('2032-01-01', '2033-01-01', 2) \gset r1_
SELECT is(:r1_rescored::bigint, 36::bigint, 'rescore: every row of the range rescored');
SELECT is(:r1_changed::bigint, 0::bigint, 'rescore with unchanged rules: nothing changed');
SELECT is(:r1_batches::int, 3, 'rescore: 6 customers in batches of 2 = 3 committed batches');

-- stored verdicts that no longer match the rules (as after a rule change)
UPDATE transactions SET fraud_score = 1.80, is_suspicious = false
 WHERE customer_id BETWEEN 940001 AND 940003 AND is_suspicious;
UPDATE transactions SET fraud_score = 99.00, is_suspicious = true
 WHERE customer_id = 940004 AND transaction_time < '2032-01-03';
CALL techmart.rescore('2032-01-01', '2033-01-01', 4) \gset r2_
SELECT is(:r2_changed::bigint, 4::bigint, 'rescore reports the 4 changed scores');
SELECT is(:r2_newly_suspicious::bigint, 3::bigint, '... 3 newly suspicious');
SELECT is(:r2_no_longer_suspicious::bigint, 1::bigint, '... 1 no longer suspicious');
SELECT is(:r2_batches::int, 2, '... in 2 batches of at most 4 customers');
SELECT is((SELECT count(*) FROM transactions WHERE customer_id BETWEEN 940001 AND 940006 AND is_suspicious), 6::bigint,
          'the stored verdicts follow the rules again');

SELECT * FROM finish();
DELETE FROM alerts WHERE customer_id BETWEEN 940001 AND 940006;
DELETE FROM transactions WHERE customer_id BETWEEN 940001 AND 940006;
DELETE FROM techmart.customer_state WHERE customer_id BETWEEN 940001 AND 940006;
DELETE FROM customers WHERE id BETWEEN 940001 AND 940006;
DELETE FROM products WHERE id = 940001;

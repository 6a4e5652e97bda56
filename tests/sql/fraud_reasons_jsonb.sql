-- pgTAP: fraud_reasons as the scoring trigger writes it (reasons_jsonb() in
-- extension/pg/fraud_glue.cpp writes the Jsonb bytes directly) is the very jsonb that parsing its
-- text gives -- the same value, the same text, the same size and the same bytes -- for rows with
-- no reason, one reason and many (every rule listed), JSON null numbers (a contribution that is
-- not a number), numbers beyond the writer's fast path (huge weights, large negative
-- thresholds), -0 and details with quotes, backslashes, control characters and non-ASCII (a
-- device id named by entity_device's detail). Ids 987001+; rolled back.
BEGIN;
SELECT plan(15);

DELETE FROM techmart.settings;
INSERT INTO techmart.settings (name, value) VALUES ('suspicious_threshold', 70), ('reason_min_contribution', 0), ('bias', -4);
UPDATE techmart.rule_config SET enabled = true WHERE rule NOT LIKE 'entity\_%';
UPDATE techmart.entity_kind SET enabled = true, weight = 1, threshold = 0 WHERE kind = 'device';
INSERT INTO customers (id, email, name, country, registration_date)
SELECT i, 'reasons-jsonb-' || i || '@example.com', 'Reasons ' || i, 'DE', '2020-01-01' FROM generate_series(987001, 987006) i;
INSERT INTO products (id, sku, name, price, stock_quantity) VALUES (987001, 'REASONS-JSONB-1', 'Reasons product', 40, 1000000);

CREATE TEMP TABLE rc AS SELECT rule, weight, threshold FROM techmart.rule_config;
CREATE FUNCTION pg_temp.restore_rules() RETURNS void LANGUAGE sql AS $$
  UPDATE techmart.rule_config r SET weight = rc.weight, threshold = rc.threshold FROM rc
   WHERE rc.rule = r.rule AND (r.weight, r.threshold) IS DISTINCT FROM (rc.weight, rc.threshold) $$;

-- a normal history of two customers, then a burst of odd purchases with every threshold at -1:
-- every rule that has something to say is listed (many reasons)
INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, payment_method, country, transaction_time)
SELECT 987000 + 2 * d + c - 987001, c, 987001, 1, 38 + d % 5, 'credit_card', 'DE', now() - interval '20 days' + d * interval '1 day'
  FROM generate_series(987001, 987002) c, generate_series(1, 10) d ORDER BY d, c;
INSERT INTO techmart.risk_list (kind, value) VALUES ('country', 'KP') ON CONFLICT DO NOTHING;
UPDATE techmart.rule_config SET threshold = -1 WHERE rule NOT LIKE 'entity\_%';
INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, payment_method, country, latitude, longitude, transaction_time)
SELECT 987100 + g, 987001, 987001, 1, CASE WHEN g % 2 = 0 THEN 2 ELSE 900 + g END, 'crypto', 'KP',
       CASE WHEN g % 2 = 0 THEN -20 ELSE 39 END, CASE WHEN g % 2 = 0 THEN -40 ELSE 125 END,
       now() - interval '10 minutes' + g * interval '1 minute'
  FROM generate_series(1, 4) g;
SELECT pg_temp.restore_rules();

-- huge weights: a contribution of inf / inf (not a number: JSON null) and a weight of 309 digits
UPDATE techmart.rule_config SET weight = 1e308, threshold = 0 WHERE rule IN ('high_risk_method', 'amount_vs_list');
INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, payment_method, country, transaction_time)
VALUES (987200, 987002, 987001, 1, 99999, 'crypto', 'KP', now() - interval '5 minutes');
SELECT pg_temp.restore_rules();
-- thresholds negative, beyond 1e5 (numeric_in's path) and a tiny negative one printed as 0
UPDATE techmart.rule_config SET threshold = -1234567.89 WHERE rule = 'foreign_country';
UPDATE techmart.rule_config SET threshold = -12345.6789 WHERE rule = 'high_risk_country';
INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, payment_method, country, transaction_time)
VALUES (987201, 987002, 987001, 1, 50, 'debit_card', 'KP', now() - interval '4 minutes');
SELECT pg_temp.restore_rules();
UPDATE techmart.rule_config SET threshold = -0.00001 WHERE rule = 'new_payment_method';
INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, payment_method, country, transaction_time)
VALUES (987202, 987002, 987001, 1, 50, 'apple_pay', 'DE', now() - interval '3 minutes');
SELECT pg_temp.restore_rules();

-- entity_device names the device in its detail: a fraud confirmed on it by another customer
INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, payment_method, country, device_id, transaction_time)
VALUES (987300, 987003, 987001, 1, 40, 'credit_card', 'DE', E'dev "q" \\b\\ \t\n ü € 😀', now() - interval '2 days');
SELECT techmart.label(987300, 'fraud');
INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, payment_method, country, device_id, transaction_time)
VALUES (987301, 987004, 987001, 1, 40, 'credit_card', 'DE', E'dev "q" \\b\\ \t\n ü € 😀', now() - interval '1 minute');

-- one reason: one rule enabled
UPDATE techmart.rule_config SET enabled = (rule = 'high_risk_method');
INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, payment_method, country, transaction_time)
VALUES (987400, 987005, 987001, 1, 40, 'crypto', 'DE', now() - interval '1 minute');
-- no reason: none listed
UPDATE techmart.settings SET value = 100 WHERE name = 'reason_min_contribution';
INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, payment_method, country, transaction_time)
VALUES (987500, 987006, 987001, 1, 40, 'crypto', 'DE', now() - interval '1 minute');

CREATE TEMP VIEW rows_here AS
  SELECT id, fraud_reasons, jsonb_array_length(fraud_reasons) AS n FROM transactions WHERE customer_id BETWEEN 987001 AND 987006;

-- the cases are there
SELECT is((SELECT fraud_reasons::text FROM rows_here WHERE id = 987500), '[]', 'a row with no reason: []');
SELECT is((SELECT n FROM rows_here WHERE id = 987400), 1, 'a row with one reason');
SELECT cmp_ok((SELECT n FROM rows_here WHERE id = 987104), '>=', 10, 'a row with many reasons');
SELECT ok((SELECT fraud_reasons @> '[{"rule": "amount_vs_list", "contribution": null}]'
                  AND fraud_reasons @> '[{"rule": "high_risk_method", "contribution": null}]'
             FROM rows_here WHERE id = 987200), 'a contribution that is not a number is JSON null');
SELECT ok((SELECT fraud_reasons @> '[{"rule": "foreign_country", "threshold": -1234567.89}]'
                  AND fraud_reasons @> '[{"rule": "high_risk_country", "threshold": -12345.6789}]'
             FROM rows_here WHERE id = 987201)
          AND (SELECT fraud_reasons @> '[{"rule": "new_payment_method", "threshold": 0}]' FROM rows_here WHERE id = 987202),
          'negative and negative-zero numbers as printed');
SELECT is((SELECT length(r ->> 'weight') || ' ' || ((r ->> 'weight')::float8 = 1e308) FROM rows_here, jsonb_array_elements(fraud_reasons) r
            WHERE id = 987200 AND r ->> 'rule' = 'amount_vs_list'), '309 true', 'a weight of 309 digits');
SELECT is((SELECT r ->> 'detail' FROM rows_here, jsonb_array_elements(fraud_reasons) r
            WHERE id = 987301 AND r ->> 'rule' = 'entity_device') LIKE E'device dev "q" \\\\b\\\\ \t\n ü € 😀: 1 confirmed fraud %',
          true, 'a detail with quotes, backslashes, control characters and non-ASCII');

-- the same jsonb as parsing the text: value, text, size (of the decompressed value: jsonb || '[]'
-- returns its left operand itself) and bytes
SELECT is((SELECT count(*) FROM rows_here), 31::bigint, 'all 31 rows scored');
SELECT is((SELECT count(*) FROM rows_here WHERE fraud_reasons IS DISTINCT FROM fraud_reasons::text::jsonb), 0::bigint,
          'fraud_reasons = fraud_reasons::text::jsonb (value)');
SELECT is((SELECT count(*) FROM rows_here WHERE fraud_reasons::text IS DISTINCT FROM fraud_reasons::text::jsonb::text), 0::bigint,
          'fraud_reasons::text = fraud_reasons::text::jsonb::text');
SELECT is((SELECT count(*) FROM rows_here
            WHERE pg_column_size(fraud_reasons || '[]'::jsonb) IS DISTINCT FROM pg_column_size(fraud_reasons::text::jsonb)), 0::bigint,
          'the same size as fraud_reasons::text::jsonb');

-- bytes: both values, decompressed and stored plainly, read back from the pages (pageinspect)
CREATE EXTENSION IF NOT EXISTS pageinspect;
CREATE FUNCTION pg_temp.raw_pairs(rel regclass) RETURNS TABLE (written bytea, parsed bytea) LANGUAGE sql AS $$
  SELECT a.t_attrs[1], a.t_attrs[2]
    FROM generate_series(0, (pg_relation_size(rel) / current_setting('block_size')::int - 1)::int) b,
         heap_page_item_attrs(get_raw_page(rel::text, b), rel) a
   WHERE a.t_attrs IS NOT NULL $$;
CREATE TEMP TABLE reasons_bytes (written jsonb, parsed jsonb);
ALTER TABLE reasons_bytes ALTER COLUMN written SET STORAGE PLAIN, ALTER COLUMN parsed SET STORAGE PLAIN;
INSERT INTO reasons_bytes SELECT fraud_reasons || '[]'::jsonb, fraud_reasons::text::jsonb FROM rows_here;
SELECT is((SELECT count(*) FROM pg_temp.raw_pairs('reasons_bytes')), 31::bigint, 'every row read back from the pages');
SELECT is((SELECT count(*) FROM pg_temp.raw_pairs('reasons_bytes') WHERE written IS DISTINCT FROM parsed), 0::bigint,
          'the same bytes as fraud_reasons::text::jsonb');
SELECT cmp_ok((SELECT max(length(written)) FROM pg_temp.raw_pairs('reasons_bytes')), '>', 1000,
              'bytes of the longest value compared whole');

-- analytics.hourly_sales_items writes its bytes with the same writer (hourly_sales_c.sql compares
-- values, text and sizes): its bytes too, on the seed data
CREATE TEMP TABLE items_bytes (written jsonb, parsed jsonb);
ALTER TABLE items_bytes ALTER COLUMN written SET STORAGE PLAIN, ALTER COLUMN parsed SET STORAGE PLAIN;
INSERT INTO items_bytes
SELECT i, i::text::jsonb
  FROM (SELECT analytics.hourly_sales_items(max(transaction_time) - interval '6 hours', max(transaction_time) + interval '1 hour',
                                            'all', '', 'Europe/Berlin') i FROM transactions WHERE id < 900000) x;
SELECT is((SELECT count(*) FILTER (WHERE written IS DISTINCT FROM parsed) || '/' || count(*) FROM pg_temp.raw_pairs('items_bytes')),
          '0/1', 'hourly_sales_items: the same bytes as its text parsed');

SELECT * FROM finish();
ROLLBACK;

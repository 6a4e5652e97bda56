-- pgTAP: what the scoring trigger writes is compressed in line (lz4) when large enough, and reads
-- back as the same values: fraud_reasons of a row with several reasons, the state's arrays;
-- small values stay plain; fraud_score keeps scale 2; a statement over many rows, explain, rebuild_state and a DBA's UPDATE
-- of the state see the values, not the storage. Ids 985001+; rolled back.
BEGIN;
SELECT plan(15);

DELETE FROM techmart.settings;
INSERT INTO techmart.settings (name, value) VALUES ('suspicious_threshold', 70), ('reason_min_contribution', 0);
UPDATE techmart.rule_config SET enabled = true;
INSERT INTO customers (id, email, name, country, registration_date)
SELECT i, 'compressed-' || i || '@example.com', 'Compressed ' || i, 'DE', '2020-01-01' FROM generate_series(985001, 985003) i;
INSERT INTO products (id, sku, name, price, stock_quantity) VALUES (985001, 'COMPRESSED-1', 'Compressed product', 40, 1000000);
-- a normal history, then a burst of odd purchases (several reasons each)
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country, transaction_time)
SELECT c, 985001, 1, 38 + d % 5, 'credit_card', 'DE', '2031-02-01 14:00Z'::timestamptz + d * interval '1 day'
  FROM generate_series(985001, 985002) c, generate_series(1, 10) d ORDER BY d, c;
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country, transaction_time)
SELECT 985001, 985001, 1, 900 + g, 'crypto', 'KP', '2031-02-12 03:00Z'::timestamptz + g * interval '1 minute'
  FROM generate_series(1, 6) g;

SELECT is((SELECT pg_column_compression(fraud_reasons) FROM transactions
            WHERE customer_id = 985001 ORDER BY transaction_time DESC LIMIT 1), 'lz4',
          'fraud_reasons of a row with several reasons is stored compressed (lz4)');
SELECT ok((SELECT pg_column_size(fraud_reasons) < octet_length(fraud_reasons::text) FROM transactions
            WHERE customer_id = 985001 ORDER BY transaction_time DESC LIMIT 1),
          'the compressed fraud_reasons takes fewer bytes than its text');
SELECT is((SELECT fraud_reasons FROM transactions WHERE customer_id = 985001 ORDER BY transaction_time DESC LIMIT 1),
          (SELECT fraud_reasons::text::jsonb FROM transactions WHERE customer_id = 985001 ORDER BY transaction_time DESC LIMIT 1),
          'it reads back as the same jsonb value');
SELECT ok((SELECT bool_and(pg_column_compression(fraud_reasons) IS NULL) FROM transactions
            WHERE customer_id = 985001 AND fraud_reasons = '[]'),
          'an empty reasons list stays plain (too small to compress)');
SELECT is((SELECT count(*) FROM transactions t, techmart.explain(t.id) e
            WHERE t.customer_id = 985001 AND t.transaction_time = '2031-02-12 03:06Z'),
          (SELECT jsonb_array_length(fraud_reasons)::bigint + 1 FROM transactions
            WHERE customer_id = 985001 AND transaction_time = '2031-02-12 03:06Z'),
          'explain reads the compressed reasons: one line per stored reason, then the total');

SELECT is((SELECT pg_column_compression(amount_hist) FROM techmart.customer_state WHERE customer_id = 985001), 'lz4',
          'the state''s histogram (64 counts, mostly 0) is stored compressed');
SELECT is((SELECT cardinality(amount_hist) || '/' || (SELECT sum(x) FROM unnest(amount_hist) x) || '/' || n
             FROM techmart.customer_state WHERE customer_id = 985001), '64/16/16',
          'and reads back as 64 bins counting the 16 transactions');
SELECT is((SELECT pg_column_compression(recent_t) FROM techmart.customer_state WHERE customer_id = 985001), NULL,
          'recent_t (epoch seconds, which LZ4 hardly shrinks) is stored plain');
SELECT is((SELECT cardinality(recent_t) || '/' || cardinality(recent_a) || '/' || cardinality(hour_profile)
             FROM techmart.customer_state WHERE customer_id = 985001), '16/16/24',
          'the recent transactions and the hour profile read back whole');

-- a DBA's UPDATE rewrites the arrays plainly; the next scored row reads them and compresses again
UPDATE techmart.customer_state SET amount_hist = amount_hist WHERE customer_id = 985002;
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country, transaction_time)
VALUES (985002, 985001, 1, 41, 'credit_card', 'DE', '2031-02-12 14:00Z');
SELECT is((SELECT n || '/' || pg_column_compression(amount_hist) FROM techmart.customer_state WHERE customer_id = 985002), '11/lz4',
          'a state written by an UPDATE is read and written back compressed by the next row');

-- fraud_score is built from the integer score * 100 (not printed and parsed): the same numeric, scale 2
SELECT is((SELECT count(*) FROM transactions WHERE customer_id BETWEEN 985001 AND 985002 AND fraud_score::text !~ '^[0-9]+\.[0-9][0-9]$'),
          0::bigint, 'every fraud_score is written with two decimals, as numeric(5,2) reads its text');

-- fraud_reasons is built as a jsonb value tree (keys in jsonb's order): the same jsonb as jsonb_in
SELECT is((SELECT count(*) FROM transactions WHERE customer_id BETWEEN 985001 AND 985002
            AND (fraud_reasons::text <> fraud_reasons::text::jsonb::text
                 OR (jsonb_array_length(fraud_reasons) > 0 AND fraud_reasons -> 0 ->> 'rule' IS NULL))),
          0::bigint, 'fraud_reasons prints and looks up keys as the parsed text does');
-- last_amount is built from the integer amount * 1000: the numeric float8_numeric makes
SELECT is((SELECT count(*) FROM techmart.customer_state WHERE customer_id BETWEEN 985001 AND 985002
            AND last_amount::text IS DISTINCT FROM (last_amount::float8)::numeric::text), 0::bigint,
          'last_amount is the numeric of its float8, as float8_numeric writes it (scale included)');

-- rebuild_state recomputes the same values
CREATE TEMP TABLE live AS SELECT * FROM techmart.customer_state WHERE customer_id IN (985001, 985002);
SELECT ok(techmart.rebuild_state() > 0, 'rebuild_state() runs');
SELECT is((SELECT count(*) FROM (
             SELECT customer_id, n, mean, m2, amount_hist, recent_t, recent_a, hour_profile, profile_time,
                    last_transaction_time, last_amount, last_country, methods, risk, risk_time FROM live
             EXCEPT
             SELECT customer_id, n, mean, m2, amount_hist, recent_t, recent_a, hour_profile, profile_time,
                    last_transaction_time, last_amount, last_country, methods, risk, risk_time
               FROM techmart.customer_state WHERE customer_id IN (985001, 985002)) d), 0::bigint,
          'the compressed live states equal the recomputation by rebuild_state()');

SELECT * FROM finish();
ROLLBACK;

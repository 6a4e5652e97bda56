-- pgTAP: the Online Retail import (migrations/deploy/import_online_retail.sql, refunds.sql).
-- A small hand-made file staged with INSERT (physical order = file order), dates in June 2009
-- (far from the seed), CustomerIDs 999xx, SKUs TAP*: cancellation booking, guests, country
-- aliases, non-product and zero-price lines, UK summer time, product rules, idempotence, and
-- invalid files reported with line numbers and nothing imported.
BEGIN;
SELECT plan(54);
SET client_min_messages = warning;  -- the import's progress notices

SELECT has_function('import', 'online_retail', ARRAY['text'], 'import.online_retail(file_name)');
SELECT has_table('import', 'online_retail_raw', 'staging table');
SELECT has_column('public', 'transactions', 'kind', 'transactions.kind');

TRUNCATE import.online_retail_raw;
INSERT INTO import.online_retail_raw VALUES
  ('990001', 'TAP001', 'RED MUG', '10', '2009-06-01 10:00:00', '2.5', '99901.0', 'EIRE'),                -- line 2
  ('990001', 'TAP002', 'CANDLE LIGHT, "LARGE"', '4', '2009-06-01 10:00:00', '1.25', '99901.0', 'EIRE'), -- 3
  ('C990002', 'TAP001', 'RED MUG', '-3', '2009-06-02 11:00:00', '2.5', '99901.0', 'EIRE'),              -- 4 refund
  ('990003', 'TAP001', 'RED MUG', '2', '2009-06-03 12:00:00', '2.4', NULL, 'RSA'),                      -- 5 guest ZA
  ('990003', 'POST', 'POSTAGE', '1', '2009-06-03 12:00:00', '18', NULL, 'RSA'),                         -- 6 non-product
  ('990004', 'TAP003', 'FREE GIFT', '1', '2009-06-03 13:00:00', '0', '99902.0', 'USA'),                 -- 7 zero price
  ('990005', 'TAP001', 'RED MUG', '1', '2009-06-04 09:00:00', '2.5', '99902.0', 'Channel Islands'),     -- 8
  ('990006', 'TAP001', 'RED MUG', '1', '2009-06-04 09:30:00', '2.5', '99903.0', 'European Community'),  -- 9
  ('990007', 'TAP001', 'RED MUG', '1', '2009-06-04 09:45:00', '2.5', NULL, 'Unspecified'),              -- 10 guest ZZ
  ('990008', 'TAP004', 'damaged', '-5', '2009-06-04 10:00:00', '0', NULL, 'United Kingdom');            -- 11 adjustment

CREATE TEMP TABLE s1 AS SELECT * FROM import.online_retail('tap.csv');
SELECT is((SELECT lines FROM s1 WHERE section = 'read'), 10::bigint, 'summary: 10 lines read');
SELECT is_empty($$SELECT * FROM analytics.customer_months_check()$$,
                'per-customer monthly rollups exact after the import (change customer_months)');
SELECT set_eq($$SELECT section, reason, lines FROM s1 WHERE section IN ('imported', 'set_aside')$$,
              $$VALUES ('imported', 'sale', 6::bigint), ('imported', 'refund', 1), ('set_aside', 'non_product:postage', 1),
                       ('set_aside', 'zero_price', 2)$$,
              'summary: sales, refund, set aside by reason');

SELECT is((SELECT row(t.kind, t.status, t.quantity, t.unit_price, t.amount)::text FROM transactions t WHERE t.order_number = 'C990002'),
          row('refund', 'refunded', 3, 2.5::numeric(14,3), 7.5::numeric(14,3))::text,
          'cancellation: a refund row, positive quantity and amount, status refunded');
SELECT is((SELECT c.email FROM transactions t JOIN customers c ON c.id = t.customer_id WHERE t.order_number = 'C990002'),
          'c99901@online-retail.example', 'refund linked to its customer');
SELECT is((SELECT p.sku FROM transactions t JOIN products p ON p.id = t.product_id WHERE t.order_number = 'C990002'),
          'TAP001', 'refund linked to its product');
SELECT is((SELECT revenue FROM analytics.sales_totals('2009-06-01', '2009-07-01')), 34.8::numeric,
          'net revenue: sales 42.30 minus the refund 7.50 (rollups)');
SELECT is((SELECT revenue FROM analytics.sales_totals('2009-06-02 10:00+00', '2009-06-02 10:30+00')), -7.5::numeric,
          'the refund is booked at its own time');
SELECT is((SELECT revenue FROM analytics.top_customers('2009-06-01', '2009-07-01', 100) t JOIN customers c ON c.id = t.customer_id
            WHERE c.email = 'c99901@online-retail.example'), 22.5::numeric, 'customer revenue net of the refund');
SELECT is((SELECT total_spent FROM customers WHERE email = 'c99901@online-retail.example'), 22.5::numeric(16,3),
          'customers.total_spent is net spend');
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2009-06-01', '2009-07-01')$$, 'rollups exact after the import');

SELECT is((SELECT row(c.name, c.country)::text FROM customers c WHERE c.email = 'guest-za@online-retail.example'),
          row('Online Retail guest (ZA)', 'ZA')::text, 'a line without CustomerID goes to the guest of its country');
SELECT is((SELECT count(*)::int FROM transactions t JOIN customers c ON c.id = t.customer_id
            WHERE c.email LIKE 'guest-%@online-retail.example' AND t.order_number IN ('990003', '990007')), 2,
          'guest lines imported (RSA, Unspecified)');
SELECT is((SELECT array_agg(t.country::text ORDER BY t.order_number) FROM transactions t
            WHERE t.order_number IN ('990001', '990003', '990005', '990006', '990007') AND t.product_id =
                  (SELECT id FROM products WHERE sku = 'TAP001')),
          ARRAY['IE', 'ZA', 'XC', 'EU', 'ZZ'], 'country aliases: EIRE IE, RSA ZA, Channel Islands XC, European Community EU, Unspecified ZZ');
SELECT is((SELECT code::text FROM import.country WHERE name = 'USA'), 'US', 'USA is US');
SELECT is((SELECT country::text FROM customers WHERE email = 'c99902@online-retail.example'), 'XC',
          'home country: the country of most invoices');

SELECT is((SELECT transaction_time FROM transactions WHERE order_number = '990001' LIMIT 1), '2009-06-01 09:00+00'::timestamptz,
          'UK summer time (BST) converted to UTC');
SELECT is((SELECT price::numeric FROM products WHERE sku = 'TAP001'), 2.500, 'list price: the most frequent unit price');
SELECT is((SELECT row(p.name, c.name)::text FROM products p JOIN categories c ON c.id = p.category_id WHERE p.sku = 'TAP002'),
          row('CANDLE LIGHT, "LARGE"', 'Lighting')::text, 'product name = description (quotes, commas), category by rule');
SELECT is(import.category_of('SOMETHING ELSE'), 'Gifts & Other', 'category fallback');
SELECT is((SELECT count(*)::int FROM products WHERE sku IN ('POST', 'TAP003', 'TAP004')), 0,
          'non-product and zero-price lines create no product');
SELECT is((SELECT count(*)::int FROM transactions WHERE order_number LIKE '%99000%' AND fraud_score IS NOT NULL), 0,
          'history loaded with scoring off');

-- idempotence
CREATE TEMP TABLE snap AS SELECT id, kind, status, amount, customer_id, product_id FROM transactions;
CREATE TEMP TABLE s2 AS SELECT * FROM import.online_retail('tap.csv');
SELECT is((SELECT lines FROM s2 WHERE reason = 'already_imported'), 10::bigint, 'second import: every line already imported');
SELECT set_eq($$SELECT id, kind, status, amount, customer_id, product_id FROM transactions$$,
              $$SELECT * FROM snap$$, 'second import changes nothing');
SELECT is((SELECT lines FROM s2 WHERE section = 'imported'), NULL, 'second import imports nothing');

-- the bulk path (more than 50 transactions, superuser): same results, rollups exact, no scoring,
-- and it is not taken when the table has an INSERT trigger it does not know (never bypassed)
TRUNCATE import.online_retail_raw;
INSERT INTO import.online_retail_raw
SELECT '9902' || lpad(g::text, 2, '0'), 'TAP00' || (1 + g % 3)::text, 'RED MUG', (1 + g % 4)::text,
       format('2009-07-%s 10:%s:00', lpad((1 + g % 20)::text, 2, '0'), lpad(g::text, 2, '0')), '2.5', '99904.0', 'France'
  FROM generate_series(1, 59) g ORDER BY g;
INSERT INTO import.online_retail_raw VALUES ('C990299', 'TAP001', 'RED MUG', '-2', '2009-07-25 10:00:00', '2.5', '99904.0', 'France');
-- (change import_state_incremental) the fraud state of the customers outside the import: where each row is now
CREATE TEMP TABLE state_others AS
SELECT s.customer_id, s.ctid::text AS row_tid FROM techmart.customer_state s
 WHERE s.customer_id NOT IN (SELECT c.id FROM customers c WHERE c.email = 'c99904@online-retail.example');
CREATE TEMP TABLE s3 AS SELECT * FROM import.online_retail('bulk.csv');
SELECT set_eq($$SELECT section, reason, lines FROM s3 WHERE section = 'imported'$$,
              $$VALUES ('imported', 'sale', 59::bigint), ('imported', 'refund', 1)$$, 'bulk path: 59 sales and a refund');
SELECT is((SELECT revenue FROM analytics.sales_totals('2009-07-01', '2009-08-01')),
          (SELECT sum((1 + g % 4) * 2.5) - 5 FROM generate_series(1, 59) g), 'bulk path: net revenue to the penny (rollups)');
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2009-07-01', '2009-08-01')$$, 'bulk path: rollups exact');
SELECT is_empty($$SELECT * FROM analytics.customer_months_check()$$, 'bulk path: per-customer monthly rollups exact');
SELECT is((SELECT count(*)::int FROM transactions WHERE order_number LIKE '%9902%' AND (fraud_score IS NOT NULL OR is_suspicious)), 0,
          'bulk path: loaded with scoring off');
-- the fraud state rebuilt for the customers of the import only: the others' rows not rewritten, the imported
-- customer's state and risk score = what rebuild_state() of every customer gives
SELECT cmp_ok((SELECT count(*) FROM state_others), '>', 0::bigint, 'customers outside the import have a fraud state');
SELECT set_eq($$SELECT s.customer_id, s.ctid::text AS row_tid FROM techmart.customer_state s
                 WHERE s.customer_id IN (SELECT customer_id FROM state_others)$$,
              $$SELECT customer_id, row_tid FROM state_others$$,
              'import: the fraud state of customers outside the import is left as it is (rows not rewritten)');
CREATE TEMP TABLE state_imp AS
SELECT to_jsonb(s) - 'updated_at' AS state, c.risk_score FROM techmart.customer_state s JOIN customers c ON c.id = s.customer_id
 WHERE c.email = 'c99904@online-retail.example';
SELECT is((SELECT count(*) FROM state_imp), 1::bigint, 'import: the imported customer has a fraud state');
SELECT techmart.rebuild_state();
SELECT set_eq($$SELECT to_jsonb(s) - 'updated_at', c.risk_score FROM techmart.customer_state s
                 JOIN customers c ON c.id = s.customer_id WHERE c.email = 'c99904@online-retail.example'$$,
              $$SELECT state, risk_score FROM state_imp$$,
              'import: the imported customer''s fraud state and risk score = rebuild_state() of every customer');
-- techmart.rebuild_state_for's bad input: a clear error, nothing rebuilt; no customer: nothing written
SELECT throws_ok($$SELECT techmart.rebuild_state_for(NULL::bigint[])$$, '22004',
                 'rebuild_state_for: the customers and the source are required', 'rebuild_state_for(NULL): 22004');
SELECT throws_ok($$SELECT techmart.rebuild_state_for(ARRAY[1]::bigint[], NULL)$$, '22004',
                 'rebuild_state_for: the customers and the source are required', 'rebuild_state_for(.., NULL source): 22004');
SELECT is(techmart.rebuild_state_for('{}'::bigint[]), 0::bigint, 'rebuild_state_for of no customer writes none');

CREATE TABLE pg_temp.seen (n int NOT NULL);
INSERT INTO pg_temp.seen VALUES (0);
CREATE FUNCTION pg_temp.count_seen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN UPDATE pg_temp.seen SET n = n + 1; RETURN NULL; END $$;
CREATE TRIGGER transactions_tap_seen AFTER INSERT ON transactions FOR EACH ROW EXECUTE FUNCTION pg_temp.count_seen();
UPDATE import.online_retail_raw SET invoice_no = replace(invoice_no, '9902', '9903'),
                                    invoice_date = replace(invoice_date, '2009-07', '2009-08');
CREATE TEMP TABLE s4 AS SELECT * FROM import.online_retail('bulk2.csv');
SELECT is((SELECT n FROM pg_temp.seen), 60, 'an INSERT trigger the import does not know fires for every line (no bulk bypass)');
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2009-08-01', '2009-09-01')$$, 'rollups exact on the trigger path too');
SELECT is_empty($$SELECT * FROM analytics.customer_months_check()$$, 'per-customer monthly rollups exact on the trigger path too');
DROP TRIGGER transactions_tap_seen ON transactions;

-- invalid files: every error with its line, nothing imported
TRUNCATE import.online_retail_raw;
INSERT INTO import.online_retail_raw VALUES
  ('990101', 'TAP001', 'RED MUG', '1', '2009-06-31 10:00:00', '2.5', '99901.0', 'EIRE'),  -- line 2: no 31 June
  ('990102', 'TAP001', 'RED MUG', NULL, '2009-06-30 10:00:00', '2.5', '99901.0', NULL),   -- line 3: missing fields
  ('990103', 'TAP001', 'RED MUG', '1', '2009-06-30 10:00:00', '2.5', '99901.0', 'EIRE'),  -- line 4: fine
  ('990104', 'TAP001', 'RED MUG', '1', '2009-06-30 10:00:00', '2,5', '99901.0', 'Mars');  -- line 5
SELECT throws_ok($$SELECT * FROM import.online_retail('bad.csv')$$, '22023', NULL, 'invalid file: SQLSTATE 22023');
SELECT results_eq($$SELECT line, split_part(message, ':', 1) FROM import.online_retail_errors()$$,
                  $$VALUES (2::bigint, 'InvoiceDate'), (3, 'Quantity'), (3, 'Country'), (5, 'UnitPrice'), (5, 'Country')$$,
                  'every invalid field with its line number');
SELECT is((SELECT count(*)::int FROM transactions WHERE order_number IN ('990101', '990102', '990103', '990104')), 0,
          'nothing imported from an invalid file (not even its valid lines)');

-- the C parser (change import_online_retail_c) against the view's SQL rules, line by line, on
-- lines that probe every rule: spaces and other white space, signs, scales, NULL fields, dates at
-- the edges, non-ASCII text, unknown names
TRUNCATE import.online_retail_raw;
INSERT INTO import.online_retail_raw VALUES
  (' c990201 ', ' TAP001 ', '  RED MUG  ', E' -3\t', '2009-06-01T10:00', ' +.5 ', ' 99901. ', ' EIRE '),
  ('990202', 'gift_0001_10', NULL, '+7', '2009-06-01 10:00:59', '2.500', E'\t99902.000\t', 'RSA'),
  ('990203', 'post', '', '0', '2008-02-29 00:00', '0', '', 'Channel Islands'),
  ('990203', 'TAP002', 'ıx', '999999999', '2009-10-25 01:30:00', '99999999999.999', '   ', 'USA'),
  ('ı990204', 'TAP003', 'x', '1', '2009-03-29 01:30', '-1', '1', 'Unspecified'),
  ('990205', '', 'x', '1000000000', '2009-02-29 00:00', '1.2345', '1.5', 'Atlantis'),
  (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  ('990206', 'TAP001', 'x', '1.0', '1899-12-31 23:59', '.', E'\t', ''),
  ('C', 'TAP001', 'x', '- 1', '2009-06-01 24:00', '1,5', '-5', 'Eire'),
  ('990207', 'TAP001', 'x', '2', '2009-06-01 09:59:60', '3.', '123456789012345', 'United Kingdom'),
  ('990203', 'TAP002', 'x', '-2', '2009-06-01 09:00', '1', '', 'United Kingdom');
CREATE TEMP TABLE c_parsed AS
SELECT o.*
  FROM (SELECT array_agg(name ORDER BY name) AS n, array_agg(code::text ORDER BY name) AS c FROM import.country) co,
       (SELECT array_agg(pattern ORDER BY length(pattern) DESC, pattern) AS pp,
               array_agg(reason ORDER BY length(pattern) DESC, pattern) AS rr FROM import.special_code) sc,
       LATERAL import.online_retail_parse('import.online_retail_raw'::regclass, co.n, co.c, sc.pp, sc.rr)
         WITH ORDINALITY o;
SELECT is((SELECT count(*)::int FROM c_parsed), 11, 'online_retail_parse: one row per staged line');
SELECT is_empty($$
  SELECT v.line FROM import.online_retail_parsed v JOIN c_parsed p ON p.line = v.line
   WHERE (p.outcome = 'invalid') <> (cardinality(v.errors) > 0)
      OR row(p.inv, p.sku, p.descr, p.qty, p.ts, p.price::text, p.cust, p.cc)::text
         IS DISTINCT FROM row(coalesce(v.inv, ''), coalesce(v.sku, ''), v.descr, v.qty, v.ts, v.price::text, v.cust, v.cc)::text
  $$, 'online_retail_parse: the values and the validity of import.online_retail_parsed, line by line');
SELECT results_eq($$SELECT line FROM c_parsed WHERE outcome <> 'invalid' ORDER BY line$$,
                  $$VALUES (2::bigint), (3), (4), (5), (6), (12)$$, 'online_retail_parse: the valid lines');
SELECT results_eq($$SELECT line, outcome, email FROM c_parsed WHERE outcome <> 'invalid' ORDER BY line$$,
                  $$VALUES (2::bigint, 'refund', 'c99901@online-retail.example'),
                           (3, 'non_product:gift_voucher', 'c99902@online-retail.example'),
                           (4, 'non_product:postage', 'guest-xc@online-retail.example'),
                           (5, 'sale', 'guest-us@online-retail.example'),
                           (6, 'negative_price', 'c1@online-retail.example'),
                           (12, 'negative_quantity', 'guest-gb@online-retail.example')$$,
                  'online_retail_parse: outcome and e-mail of each valid line');
SELECT is((SELECT array_agg(line_no ORDER BY line) FROM c_parsed WHERE inv = '990203'), ARRAY[1, 2, 3],
          'online_retail_parse: lines numbered within their invoice in file order');
SELECT is((SELECT array_agg(line ORDER BY ordinality) FROM c_parsed),
          (SELECT array_agg(line ORDER BY ts, line) FROM c_parsed), 'online_retail_parse: rows in (time, line) order');
SELECT is((SELECT array_agg(raw_hash ORDER BY line) FROM c_parsed),
          (SELECT array_agg(hashtextextended(concat_ws(E'\x1f', r.invoice_no, r.stock_code, r.description, r.quantity,
                                                       r.invoice_date, r.unit_price, r.customer_id, r.country), 0)
                            ORDER BY r.line)
             FROM (SELECT row_number() OVER (ORDER BY ctid) + 1 AS line, * FROM import.online_retail_raw) r),
          'online_retail_parse: raw_hash = hashtextextended of the fields joined by \x1f');
CREATE TEMP TABLE c_target (a int);
CREATE INDEX ON c_target (a);
SELECT throws_ok($$SELECT * FROM import.online_retail_stage('import.online_retail_raw', 'c_target', 'transactions_id_seq',
                                                            '{}', '{}', '{}', '{}')$$,
                 '42809', NULL, 'online_retail_stage: refuses a target that is not a bare table of the rows');

SELECT * FROM finish();
ROLLBACK;

-- pgTAP: operating the fraud engine from SQL (issue 3): techmart.label keeps the history,
-- techmart.fit_weights is deterministic, shows before/after precision and recall and writes the
-- weights only with apply => true; rescore_customers (one batch of CALL techmart.rescore) reports
-- what changed; the cached configuration follows a rolled-back change. Ids 930001+; rolled back.
BEGIN;
SELECT plan(21);

DELETE FROM techmart.settings;
INSERT INTO techmart.settings (name, value) VALUES ('suspicious_threshold', 70), ('reason_min_contribution', 0), ('bias', -4);
UPDATE techmart.rule_config SET enabled = true;
DELETE FROM techmart.risk_list;
INSERT INTO techmart.risk_list (kind, value) VALUES ('country', 'KP'), ('payment_method', 'crypto');
-- only this test's rows are labelled
UPDATE transactions SET label = 'unknown', labelled_at = NULL WHERE label <> 'unknown';
INSERT INTO customers (id, email, name, country, registration_date)
SELECT i, 'fraud-ops-' || i || '@example.com', 'Fraud ops ' || i, 'DE', '2020-01-01' FROM generate_series(930001, 930012) i;
INSERT INTO products (id, sku, name, price, stock_quantity) VALUES (930001, 'FRAUD-OPS-1', 'Fraud ops product', 40, 1000000);
-- a normal history, then per customer one odd purchase: crypto from KP at 20x the list price
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country, transaction_time)
SELECT c, 930001, 1, 38 + d % 5, 'credit_card', 'DE', '2031-01-01 14:00Z'::timestamptz + d * interval '1 day' + (c % 30) * interval '1 minute'
  FROM generate_series(930001, 930012) c, generate_series(1, 8) d ORDER BY d, c;
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country, transaction_time)
SELECT c, 930001, 1, CASE WHEN c % 2 = 0 THEN 800 ELSE 45 END, CASE WHEN c % 3 = 0 THEN 'crypto' ELSE 'credit_card' END,
       CASE WHEN c % 4 = 0 THEN 'KP' ELSE 'DE' END, '2031-01-10 14:00Z'::timestamptz + (c % 30) * interval '1 minute'
  FROM generate_series(930001, 930012) c;

-- ---------------------------------- the cached configuration follows a rolled-back change
CREATE FUNCTION pg_temp.fired(rule text) RETURNS boolean LANGUAGE sql AS $$
  SELECT EXISTS (SELECT 1 FROM transactions t, jsonb_array_elements(t.fraud_reasons) r
                  WHERE t.id = (SELECT max(id) FROM transactions WHERE customer_id = 930012) AND r ->> 'rule' = rule) $$;
SAVEPOINT cfg;
UPDATE techmart.rule_config SET threshold = 1000 WHERE rule = 'high_risk_country';
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country, transaction_time)
VALUES (930012, 930001, 1, 40, 'credit_card', 'KP', '2031-01-11 14:00Z');
SELECT ok(NOT pg_temp.fired('high_risk_country'), 'a changed threshold applies at the next statement');
ROLLBACK TO SAVEPOINT cfg;
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country, transaction_time)
VALUES (930012, 930001, 1, 40, 'credit_card', 'KP', '2031-01-11 14:00Z');
SELECT ok(pg_temp.fired('high_risk_country'), 'after ROLLBACK TO SAVEPOINT the cached rules are rebuilt from the configuration as it is');

-- ------------------------------------------------------------------------ label
CREATE TEMP TABLE odd AS SELECT id, customer_id, is_suspicious FROM transactions
 WHERE customer_id BETWEEN 930001 AND 930012 AND transaction_time >= '2031-01-10' AND transaction_time < '2031-01-11';
SELECT lives_ok($$SELECT techmart.label(id, 'legitimate', 'first look') FROM odd$$, 'label() accepts a verdict');
SELECT lives_ok($$SELECT techmart.label(id, CASE WHEN customer_id % 2 = 0 OR customer_id % 4 = 0 THEN 'fraud' ELSE 'legitimate' END, 'confirmed')
                    FROM odd$$, 'label() changes a verdict');
SELECT is((SELECT count(*) FROM transaction_labels l WHERE l.transaction_id IN (SELECT id FROM odd)), 24::bigint,
          'the history keeps both verdicts of each transaction');
SELECT is((SELECT array_agg(l.label || ':' || l.note ORDER BY l.id) FROM transaction_labels l WHERE l.transaction_id = (SELECT min(id) FROM odd)),
          ARRAY['legitimate:first look', (SELECT t.label FROM transactions t WHERE t.id = (SELECT min(id) FROM odd)) || ':confirmed'],
          'in order, with notes; transactions.label is the latest');
SELECT ok((SELECT bool_and(labelled_at IS NOT NULL) FROM transactions WHERE id IN (SELECT id FROM odd)), 'labelled_at is set');
SELECT lives_ok($$SELECT techmart.label((SELECT min(id) FROM odd), 'unknown')$$, 'unknown clears the verdict');
SELECT is((SELECT labelled_at FROM transactions WHERE id = (SELECT min(id) FROM odd)), NULL, '... and labelled_at');
SELECT throws_ok($$SELECT techmart.label((SELECT min(id) FROM odd), 'maybe')$$, '22023', NULL, 'an unknown label: 22023');
SELECT throws_ok($$SELECT techmart.label(-1, 'fraud')$$, 'P0002', NULL, 'an unknown transaction: P0002');
SELECT techmart.label((SELECT min(id) FROM odd), 'legitimate');
-- the normal history is legitimate
CREATE TEMP TABLE history_labelled AS SELECT count(*) FROM (SELECT techmart.label(id, 'legitimate') FROM transactions
                       WHERE customer_id BETWEEN 930001 AND 930012 AND transaction_time < '2031-01-10' AND transaction_time < '2031-01-11' AND id % 3 = 0) x;

-- ------------------------------------------------------------------- fit_weights
CREATE TEMP TABLE w_before AS SELECT rule, weight FROM techmart.rule_config;
CREATE TEMP TABLE fit1 AS SELECT * FROM techmart.fit_weights(1.0);
CREATE TEMP TABLE fit2 AS SELECT * FROM techmart.fit_weights(1.0);
SELECT is((SELECT array_agg((item, before, after)::text ORDER BY item) FROM fit1),
          (SELECT array_agg((item, before, after)::text ORDER BY item) FROM fit2), 'fit_weights() is deterministic');
SELECT is((SELECT count(*) FROM techmart.rule_config c JOIN w_before b USING (rule) WHERE c.weight IS DISTINCT FROM b.weight), 0::bigint,
          'without apply the weights are not written');
SELECT ok((SELECT bool_and(before BETWEEN 0 AND 1 AND after BETWEEN 0 AND 1) FROM fit1 WHERE item IN ('precision', 'recall'))
          AND (SELECT count(*) = 2 FROM fit1 WHERE item IN ('precision', 'recall')),
          'precision and recall before and after, in [0, 1]');
SELECT is((SELECT after FROM fit1 WHERE item = 'labelled_fraud'), (SELECT count(*)::float8 FROM transactions WHERE label = 'fraud'),
          'the labelled counts are shown');
SELECT ok((SELECT bool_and(after >= 0) FROM fit1 WHERE item LIKE 'weight:%'), 'fitted weights are >= 0');
CREATE TEMP TABLE fit3 AS SELECT * FROM techmart.fit_weights(1.0, apply => true);
SELECT is((SELECT count(*) FROM fit3 f JOIN techmart.rule_config c ON 'weight:' || c.rule = f.item WHERE c.weight <> f.after), 0::bigint,
          'with apply => true rule_config holds the fitted weights');
SELECT is((SELECT value FROM techmart.settings WHERE name = 'bias'), (SELECT greatest(-50, least(50, after)) FROM fit3 WHERE item = 'bias'),
          '... and settings the fitted bias');

-- ------------------------------------------------------ rescore (one batch) reports changes
CREATE TEMP TABLE r1 AS SELECT * FROM techmart.rescore_customers(ARRAY(SELECT generate_series(930001::bigint, 930012)),
                                                                 '2031-01-01', '2032-01-01');
SELECT is((SELECT rescored FROM r1), 109::bigint, 'rescore_customers rescored every row of the range');
SELECT ok((SELECT changed > 0 FROM r1), 'with the fitted weights scores changed, and it says so');
SELECT is((SELECT (changed, newly_suspicious, no_longer_suspicious)::text FROM techmart.rescore_customers(
             ARRAY(SELECT generate_series(930001::bigint, 930012)), '2031-01-01', '2032-01-01')), '(0,0,0)',
          'rescoring again with the same rules changes nothing');

SELECT * FROM finish();
ROLLBACK;

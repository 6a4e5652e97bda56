-- transactions.label/labelled_at = the latest verdict, however it was written (migration labels_current)
BEGIN;
SELECT plan(12);

INSERT INTO customers (id, email, name, country, registration_date)
VALUES (940001, 'labels-current@example.com', 'Labels Current', 'DE', '2020-01-01');
INSERT INTO products (id, sku, name, price, stock_quantity) VALUES (940001, 'LABELS-CURRENT', 'Labels product', 10, 1000000);
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country, transaction_time)
SELECT 940001, 940001, 1, 10, 'credit_card', 'DE', now() - interval '2 days' + k * interval '1 minute' FROM generate_series(1, 3) k;
CREATE TEMP TABLE tx AS SELECT array_agg(id ORDER BY id) AS ids FROM transactions WHERE customer_id = 940001;

-- a DBA's own INSERT (not techmart.label): the copy follows
INSERT INTO transaction_labels (transaction_id, label, labelled_at, note)
SELECT ids[1], 'fraud', now() - interval '1 day', 'direct' FROM tx;
SELECT is((SELECT label || '|' || (labelled_at = now() - interval '1 day') FROM transactions WHERE id = (SELECT ids[1] FROM tx)),
          'fraud|true', 'a verdict INSERTed into transaction_labels becomes transactions.label/labelled_at');

-- a backdated verdict is not the current one
INSERT INTO transaction_labels (transaction_id, label, labelled_at)
SELECT ids[1], 'legitimate', now() - interval '36 hours' FROM tx;
SELECT is((SELECT label FROM transactions WHERE id = (SELECT ids[1] FROM tx)), 'fraud', 'an older (backdated) verdict does not replace the latest');

-- a multi-row statement over several transactions, one of them twice
INSERT INTO transaction_labels (transaction_id, label, labelled_at)
SELECT ids[2], 'legitimate', now() - interval '20 hours' FROM tx
UNION ALL SELECT ids[2], 'fraud', now() - interval '10 hours' FROM tx
UNION ALL SELECT ids[3], 'legitimate', now() - interval '5 hours' FROM tx;
SELECT is((SELECT array_agg(label ORDER BY id) FROM transactions WHERE customer_id = 940001),
          ARRAY['fraud', 'fraud', 'legitimate'], 'one multi-row INSERT: every touched transaction gets its latest verdict');

-- UPDATE of a verdict, and of its transaction_id (both transactions follow)
UPDATE transaction_labels SET label = 'legitimate'
 WHERE transaction_id = (SELECT ids[2] FROM tx) AND label = 'fraud';
SELECT is((SELECT label FROM transactions WHERE id = (SELECT ids[2] FROM tx)), 'legitimate', 'UPDATE of the latest verdict is followed');
UPDATE transaction_labels SET transaction_id = (SELECT ids[2] FROM tx), labelled_at = now() - interval '1 hour'
 WHERE transaction_id = (SELECT ids[3] FROM tx);
SELECT is((SELECT array_agg(label || '|' || coalesce(labelled_at::text, '-') ORDER BY id) FROM transactions WHERE id <> (SELECT ids[1] FROM tx) AND customer_id = 940001),
          ARRAY['legitimate|' || (now() - interval '1 hour')::text, 'unknown|-'],
          'moving a verdict to another transaction updates both (the old one is unknown again)');

-- DELETE of the latest verdict: the previous one is current again; of all: unknown
DELETE FROM transaction_labels WHERE transaction_id = (SELECT ids[1] FROM tx) AND label = 'fraud';
SELECT is((SELECT label FROM transactions WHERE id = (SELECT ids[1] FROM tx)), 'legitimate', 'DELETE of the latest verdict: the one before is current');
DELETE FROM transaction_labels WHERE transaction_id = (SELECT ids[1] FROM tx);
SELECT is((SELECT label || '|' || coalesce(labelled_at::text, 'NULL') FROM transactions WHERE id = (SELECT ids[1] FROM tx)), 'unknown|NULL',
          'DELETE of every verdict: unknown, labelled_at NULL');

-- the SQL and REST paths keep working through the same copy
SELECT techmart.label((SELECT ids[3] FROM tx), 'fraud', 'via techmart.label');
SELECT is((SELECT label FROM transactions WHERE id = (SELECT ids[3] FROM tx)), 'fraud', 'techmart.label() sets the current verdict');
SELECT is(api.update_transaction((SELECT ids[3] FROM tx), '{"label": "legitimate"}', 'tester')->>'label', 'legitimate',
          'api.update_transaction sets the current verdict');

-- the learner sees a verdict written directly
SELECT is((SELECT count(*)::int FROM transactions WHERE customer_id = 940001 AND label <> 'unknown'),
          (SELECT count(DISTINCT transaction_id)::int FROM transaction_labels l JOIN transactions t ON t.id = l.transaction_id
            WHERE t.customer_id = 940001 AND l.label <> 'unknown'),
          'labelled transactions = transactions with a verdict');

-- TRUNCATE (in a subtransaction: other tests' labels come back)
SAVEPOINT trunc;
TRUNCATE transaction_labels;
SELECT is((SELECT count(*)::int FROM transactions WHERE label <> 'unknown'), 0, 'TRUNCATE transaction_labels: every transaction unknown');
ROLLBACK TO SAVEPOINT trunc;
SELECT is((SELECT count(*)::int FROM transactions WHERE customer_id = 940001 AND label = 'legitimate'), 2, 'rolled back with the TRUNCATE');

SELECT * FROM finish();
ROLLBACK;

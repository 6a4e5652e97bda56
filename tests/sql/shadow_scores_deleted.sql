-- pgTAP: techmart.shadow_scores rows go with their transaction (extension 0.6, fragment
-- 20-shadow-scores-deleted; sqitch change shadow_scores_deleted). Before: a deleted transaction's
-- shadow scores stayed (orphans). DELETE (one row, several rows, through the partitioned parent in
-- suite partitioned), TRUNCATE, and — on a partitioned table — the retention
-- techmart_ops.drop_transactions_before(). Nothing is added on the insert path (no foreign key, no
-- row trigger). Ids 988001+; rolled back.
BEGIN;
SELECT plan(11);

INSERT INTO customers (id, email, name, country, registration_date)
SELECT i, 'shadow-del-' || i || '@example.com', 'Shadow delete ' || i, 'DE', '2020-01-01' FROM generate_series(988001, 988003) i;
INSERT INTO products (id, sku, name, price, stock_quantity) VALUES (988001, 'SHADOW-DEL-1', 'Shadow delete product', 40, 1000000);
INSERT INTO techmart.shadow_config (name, config) VALUES ('shadow_del_a', '{"settings": {"suspicious_threshold": 1}}'),
                                                          ('shadow_del_b', '{"settings": {"bias": -3}}');
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country, transaction_time)
SELECT c, 988001, 1, 40, 'credit_card', 'DE', '2026-11-20 12:00Z'::timestamptz + d * interval '1 hour'
  FROM generate_series(988001, 988003) c, generate_series(1, 4) d ORDER BY d, c;
CREATE TEMP TABLE mine AS SELECT id, customer_id FROM transactions WHERE customer_id BETWEEN 988001 AND 988003;

SELECT is((SELECT count(*) FROM techmart.shadow_scores s JOIN mine m ON m.id = s.transaction_id), 24::bigint,
          'setup: two shadow scores per inserted transaction');
SELECT is((SELECT count(*) FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
            WHERE t.tgrelid = 'transactions'::regclass AND NOT t.tgisinternal
              AND p.proname IN ('shadow_scores_deleted', 'shadow_scores_truncated') AND (t.tgtype & 1) = 0),
          2::bigint, 'the cleanup is two statement triggers (none per row)');
SELECT is_empty($$SELECT 1 FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
                   WHERE t.tgrelid = 'transactions'::regclass AND (t.tgtype & 4) <> 0 AND p.proname LIKE 'shadow%'$$,
                'and none on INSERT');

DELETE FROM transactions WHERE id = (SELECT min(id) FROM mine);
SELECT is_empty($$SELECT 1 FROM techmart.shadow_scores WHERE transaction_id = (SELECT min(id) FROM mine)$$,
                'DELETE of one transaction deletes its shadow scores');
SELECT is((SELECT count(*) FROM techmart.shadow_scores s JOIN mine m ON m.id = s.transaction_id), 22::bigint,
          'the others are kept');
DELETE FROM transactions WHERE customer_id = 988002;
SELECT is((SELECT count(*) FROM techmart.shadow_scores s JOIN mine m ON m.id = s.transaction_id WHERE m.customer_id = 988002),
          0::bigint, 'a multi-row DELETE deletes all their shadow scores');
SELECT is((SELECT count(*) FROM techmart.shadow_scores s JOIN mine m ON m.id = s.transaction_id), 14::bigint,
          'the other customers'' are kept');
SELECT is_empty($$SELECT 1 FROM techmart.shadow_scores s WHERE NOT EXISTS (SELECT FROM transactions t WHERE t.id = s.transaction_id)$$,
                'no orphan shadow score');

-- retention of a partitioned table: whole months are detached and dropped (no trigger fires)
SAVEPOINT retention;
DO $$ BEGIN
  IF (SELECT relkind FROM pg_class WHERE oid = 'transactions'::regclass) = 'r' THEN
    PERFORM * FROM techmart_ops.partition_transactions();
  END IF;
END $$;
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country, transaction_time)
VALUES (988003, 988001, 1, 41, 'credit_card', 'DE', techmart_ops.month_start(now()) - interval '1 day');
SELECT is((SELECT count(*) FROM techmart.shadow_scores s JOIN transactions t ON t.id = s.transaction_id
            WHERE t.customer_id = 988003 AND t.transaction_time < techmart_ops.month_start(now())), 10::bigint,
          'partitioned: the shadow scores of last month''s rows exist');
SELECT * FROM techmart_ops.drop_transactions_before(techmart_ops.month_start(now())) \g /dev/null
SELECT is_empty($$SELECT 1 FROM techmart.shadow_scores s WHERE NOT EXISTS (SELECT FROM transactions t WHERE t.id = s.transaction_id)$$,
                'drop_transactions_before deletes the shadow scores of the partitions it drops');
ROLLBACK TO SAVEPOINT retention;

TRUNCATE transactions CASCADE;
SELECT is_empty($$SELECT 1 FROM techmart.shadow_scores$$, 'TRUNCATE transactions deletes every shadow score');

SELECT * FROM finish();
ROLLBACK;

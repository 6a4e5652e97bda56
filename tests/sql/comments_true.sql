-- pgTAP: what \d+ / \dv+ and a BI tool show (migrations/deploy/comments_true.sql,
-- sql/upgrades/0.4--0.5/20-comments.sql): every relation and every column the BI role techmart_bi may
-- read in schemas bi, analytics and techmart_ops has a comment, and the comments corrected by the
-- audit say what the code does: the reasons carry a weight, a rule below its threshold adds nothing
-- and a change applies from the next statement, total_spent is kept by inserts (change customers_spent).
BEGIN;
SELECT plan(6);

SELECT is((SELECT coalesce(array_agg(c.oid::regclass::text || '.' || a.attname ORDER BY c.oid::regclass::text, a.attname), '{}')
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            WHERE n.nspname IN ('bi', 'analytics', 'techmart_ops') AND c.relkind IN ('r', 'v', 'm', 'p')
              AND has_table_privilege('techmart_bi', c.oid, 'SELECT') AND col_description(c.oid, a.attnum) IS NULL),
          '{}'::text[], 'every column techmart_bi may read has a comment');
SELECT is((SELECT coalesce(array_agg(c.oid::regclass::text ORDER BY c.oid::regclass::text), '{}')
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname IN ('bi', 'analytics', 'techmart_ops') AND c.relkind IN ('r', 'v', 'm', 'p')
              AND has_table_privilege('techmart_bi', c.oid, 'SELECT') AND obj_description(c.oid, 'pg_class') IS NULL),
          '{}'::text[], 'and every such relation');
-- the reasons' keys as the trigger writes them are the ones the comment lists
SELECT ok((SELECT bool_and(col_description('public.transactions'::regclass,
                                           (SELECT attnum FROM pg_attribute WHERE attrelid = 'public.transactions'::regclass
                                                                            AND attname = 'fraud_reasons')) LIKE '%' || k || '%')
             FROM (SELECT DISTINCT jsonb_object_keys(r) k
                     FROM (SELECT jsonb_array_elements(fraud_reasons) r FROM transactions
                            WHERE jsonb_array_length(fraud_reasons) > 0 LIMIT 50) x) y),
          'transactions.fraud_reasons'' comment names every key of the stored reasons');
SELECT ok(obj_description('techmart.rule_config'::regclass, 'pg_class') LIKE '%max(0, observed - threshold)%'
          AND obj_description('techmart.rule_config'::regclass, 'pg_class') LIKE '%bias%'
          AND obj_description('techmart.rule_config'::regclass, 'pg_class') LIKE '%next statement%',
          'rule_config''s comment: bias, max(0, observed - threshold), from the next statement');
-- total_spent: inserting a completed sale adds its amount, and the comment says it is kept
SELECT ok(col_description('bi.customers'::regclass, 6) LIKE '%kept current by every write to transactions%',
          'bi.customers.total_spent says it is kept by writes');
CREATE TEMP TABLE before AS SELECT total_spent FROM customers WHERE id = (SELECT min(id) FROM customers);
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, transaction_time)
VALUES ((SELECT min(id) FROM customers), (SELECT min(id) FROM products), 1, 10, 'credit_card', '2026-11-30 12:00Z');
SELECT is((SELECT total_spent FROM customers WHERE id = (SELECT min(id) FROM customers)), (SELECT total_spent + 10 FROM before),
          '(as it is: a new completed sale of 10 adds 10 to total_spent)');

SELECT * FROM finish();
ROLLBACK;

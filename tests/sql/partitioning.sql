-- pgTAP: monthly partitioning of transactions (sqitch change transactions_partitioning,
-- docs/scaling.md section 2). On an unpartitioned database the file converts it inside its own
-- transaction (techmart_ops.partition_transactions()) and rolls back; on the partitioned test
-- database (./techmart test, suite partitioned) it checks the converted one.
-- Ids 930001+ (customers, product); rolled back.
BEGIN;
SELECT plan(57);

CREATE TEMP TABLE before_conv AS
SELECT (SELECT count(*) FROM transactions) AS n,
       (SELECT md5(string_agg(t::text, '|' ORDER BY t.id)) FROM transactions t) AS rows_md5,
       (SELECT md5(string_agg(s::text, '|' ORDER BY s.customer_id)) FROM techmart.customer_state s) AS state_md5,
       (SELECT md5(string_agg(h::text, '|' ORDER BY h.dim, h.hour, h.key, h.slot)) FROM analytics.sales_hourly h) AS rollup_md5,
       (SELECT relkind FROM pg_class WHERE oid = 'transactions'::regclass) AS relkind,
       (SELECT array_agg(indexrelid::regclass::text ORDER BY indexrelid::regclass::text) FROM pg_index WHERE indrelid = 'transactions'::regclass) AS idx,
       (SELECT array_agg(tgname::text ORDER BY tgname::text) FROM pg_trigger WHERE tgrelid = 'transactions'::regclass AND NOT tgisinternal) AS trg,
       (SELECT last_value FROM transactions_id_seq) AS seq,
       (SELECT relacl::text FROM pg_class WHERE oid = 'transactions'::regclass) AS acl;
DO $$ BEGIN
  IF (SELECT relkind FROM before_conv) = 'r' THEN PERFORM * FROM techmart_ops.partition_transactions(); END IF;
END $$;

-- 1. the conversion
SELECT is((SELECT relkind::text FROM pg_class WHERE oid = 'transactions'::regclass), 'p', 'transactions is partitioned');
SELECT is((SELECT pg_get_partkeydef('transactions'::regclass)), 'RANGE (transaction_time)', 'by range of transaction_time');
SELECT is((SELECT count(*) FROM transactions), (SELECT n FROM before_conv), 'every row is kept');
SELECT ok((SELECT relkind = 'p' FROM before_conv)
          OR (SELECT md5(string_agg(t::text, '|' ORDER BY t.id)) FROM transactions t) = (SELECT rows_md5 FROM before_conv),
          'every row is kept unchanged (scores, reasons, labels: no trigger fired again)');
SELECT ok((SELECT relkind = 'p' FROM before_conv)
          OR ((SELECT md5(string_agg(s::text, '|' ORDER BY s.customer_id)) FROM techmart.customer_state s) = (SELECT state_md5 FROM before_conv)
              AND (SELECT md5(string_agg(h::text, '|' ORDER BY h.dim, h.hour, h.key, h.slot)) FROM analytics.sales_hourly h) = (SELECT rollup_md5 FROM before_conv)),
          'scoring state and rollups unchanged by the conversion');
SELECT is_empty($$SELECT * FROM analytics.rollup_check()$$, 'rollups equal the recomputation from the partitioned table');
SELECT throws_ok($$SELECT * FROM techmart_ops.partition_transactions()$$, '55000', 'transactions is already partitioned',
                 'converting twice is refused (55000)');
SELECT is((SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'transactions'::regclass AND contype = 'p'),
          'PRIMARY KEY (id, transaction_time)', 'primary key (id, transaction_time)');
SELECT ok((SELECT relkind = 'p' FROM before_conv)
          OR (SELECT array_agg(indexrelid::regclass::text ORDER BY indexrelid::regclass::text) FROM pg_index WHERE indrelid = 'transactions'::regclass) = (SELECT idx FROM before_conv),
          'the same indexes, by name, on the parent');
SELECT ok((SELECT relkind = 'p' FROM before_conv)
          OR (SELECT array_agg(tgname::text ORDER BY tgname::text) FROM pg_trigger WHERE tgrelid = 'transactions'::regclass AND NOT tgisinternal
               AND tgname NOT LIKE 'transactions_refs_%') = (SELECT trg FROM before_conv),
          'the same triggers on the parent');
SELECT has_trigger('transactions', t) FROM unnest(ARRAY['transactions_score', 'transactions_score_flush', 'transactions_rollup_ins',
                                                         'transactions_notify', 'transactions_refs_del', 'transactions_refs_trunc']) t;
SELECT ok((SELECT relkind = 'p' FROM before_conv) OR (SELECT last_value FROM transactions_id_seq) = (SELECT seq FROM before_conv),
          'the identity continues where it was');
SELECT is((SELECT count(*)::int FROM pg_inherits i WHERE i.inhparent = 'transactions'::regclass
            AND pg_get_expr((SELECT relpartbound FROM pg_class WHERE oid = i.inhrelid), i.inhrelid) = 'DEFAULT'),
          1, 'a DEFAULT partition');
SELECT is((SELECT count(*)::int FROM pg_inherits i
            WHERE i.inhparent = 'transactions'::regclass
              AND NOT EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = i.inhrelid AND g.tgname = 'transactions_score_flush')),
          0, 'every partition carries the engine''s flush trigger');
SELECT ok((SELECT relkind = 'p' FROM before_conv)
          OR (SELECT relacl::text FROM pg_class WHERE oid = 'transactions'::regclass) IS NOT DISTINCT FROM (SELECT acl FROM before_conv),
          'the table''s grants are kept');
GRANT SELECT ON before_conv TO techmart_bi;
SET LOCAL ROLE techmart_bi;
SELECT is((SELECT count(*) FROM bi.transactions), (SELECT n FROM before_conv), 'techmart_bi reads the new table through the view bi.transactions');
RESET ROLE;
CREATE ROLE partitioning_nobody;
SET LOCAL ROLE partitioning_nobody;
SELECT lives_ok('CREATE TEMP TABLE partitioning_tmp (x int); ALTER TABLE partitioning_tmp ADD COLUMN y int',
                'the event trigger lets any role create and alter its tables');
RESET ROLE;
ALTER TABLE transactions DISABLE TRIGGER transactions_score_flush;
SELECT is((SELECT count(*)::int FROM pg_inherits i JOIN pg_trigger g ON g.tgrelid = i.inhrelid AND g.tgname = 'transactions_score_flush'
            WHERE i.inhparent = 'transactions'::regclass AND g.tgenabled <> 'D'), 0,
          'DISABLE TRIGGER transactions_score_flush on the parent disables the partitions'' copies (write-through mode)');
ALTER TABLE transactions ENABLE TRIGGER transactions_score_flush;
SELECT ok((SELECT condeferrable FROM pg_constraint WHERE conname = 'alerts_transaction_id_fkey' AND conrelid = 'alerts'::regclass),
          'alerts_transaction_id_fkey is a deferrable constraint trigger (SET CONSTRAINTS keeps working)');

-- 2. a row per month lands in its partition, scored, alerted, rolled up
DELETE FROM techmart.settings;
INSERT INTO techmart.settings (name, value) VALUES ('suspicious_threshold', 70), ('reason_min_contribution', 0.5), ('bias', -4);
UPDATE techmart.rule_config SET enabled = true;
DELETE FROM techmart.risk_list;
INSERT INTO techmart.risk_list (kind, value) VALUES ('country', 'KP'), ('payment_method', 'crypto');
INSERT INTO customers (id, email, name, country, registration_date)
SELECT i, 'partitioning-' || i || '@example.com', 'Partitioning ' || i, 'DE', '2020-01-01' FROM generate_series(930001, 930010) i;
INSERT INTO products (id, sku, name, price, stock_quantity) VALUES (930001, 'PARTITIONING-1', 'Partitioning product', 40, 1000000);
DO $$ BEGIN PERFORM * FROM techmart_ops.ensure_partitions(2); END $$;
CREATE TEMP TABLE months AS
SELECT techmart_ops.month_start(now()) + make_interval(months => k) + interval '3 days 10 hours' AS t, k
  FROM generate_series(0, 2) k;
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country, transaction_time)
SELECT 930001, 930001, 1, 4000, 'crypto', 'KP', t FROM months;
SELECT is((SELECT count(DISTINCT tableoid)::int FROM transactions WHERE customer_id = 930001), 3, 'three months, three partitions');
SELECT is((SELECT count(*)::int FROM transactions t
            WHERE customer_id = 930001 AND tableoid::regclass::text = techmart_ops.partition_name(techmart_ops.month_start(t.transaction_time))),
          3, 'each row in the partition of its month');
SELECT is((SELECT count(*)::int FROM transactions WHERE customer_id = 930001 AND is_suspicious AND fraud_score IS NOT NULL), 3,
          'scored by the trigger on the partitions');
SELECT is((SELECT count(*)::int FROM alerts a JOIN transactions t ON t.id = a.transaction_id WHERE t.customer_id = 930001), 3,
          'one alert per suspicious row (engine on partitions)');
SELECT is((SELECT n FROM techmart.customer_state WHERE customer_id = 930001), 3::bigint, 'scoring state written once per row');
SELECT is_empty($$SELECT * FROM analytics.rollup_check(now() - interval '1 month', 'infinity')$$, 'rollups follow the inserts');
SELECT is((api.get_transaction((SELECT max(id) FROM transactions WHERE customer_id = 930001)))->>'customer_id', '930001',
          'api.get_transaction by id across partitions');

-- 3. retention: the oldest month of data is dropped; state and rollups are kept
CREATE TEMP TABLE ret AS
SELECT m AS month, m + interval '1 month' AS boundary,
       (SELECT count(*) FROM transactions WHERE transaction_time >= m AND transaction_time < m + interval '1 month') AS n_month,
       (SELECT count(*) FROM transactions) AS n_all,
       (SELECT count(*) FROM alerts) AS n_alerts,
       (SELECT count(*) FROM transaction_labels l JOIN transactions t ON t.id = l.transaction_id
         WHERE t.transaction_time >= m + interval '1 month') AS n_labels_kept,
       (SELECT md5(string_agg(s::text, '|' ORDER BY s.customer_id)) FROM techmart.customer_state s) AS state_md5,
       (SELECT md5(string_agg(h::text, '|' ORDER BY h.dim, h.hour, h.key, h.slot)) FROM analytics.sales_hourly h) AS rollup_md5
  FROM (SELECT techmart_ops.month_start(min(transaction_time)) AS m FROM transactions) x;
CREATE TEMP TABLE dropped AS SELECT * FROM techmart_ops.drop_transactions_before((SELECT boundary FROM ret));
SELECT is((SELECT count(*)::int FROM dropped), 1, 'retention removes exactly one month');
SELECT is((SELECT partition FROM dropped), (SELECT techmart_ops.partition_name(month) FROM ret), 'the oldest month''s partition');
SELECT is((SELECT transactions FROM dropped), (SELECT n_month FROM ret), 'it reports the rows it removed');
SELECT is((SELECT count(*) FROM transactions), (SELECT n_all - n_month FROM ret), 'those rows, and only those, are gone');
SELECT is((SELECT count(*) FROM alerts), (SELECT n_alerts FROM ret), 'alerts are kept (their transaction_id cleared)');
SELECT is((SELECT count(*) FROM transaction_labels), (SELECT n_labels_kept FROM ret), 'the labels of the kept months stay, the others are gone');
SELECT ok((SELECT md5(string_agg(s::text, '|' ORDER BY s.customer_id)) FROM techmart.customer_state s) = (SELECT state_md5 FROM ret)
          AND (SELECT md5(string_agg(h::text, '|' ORDER BY h.dim, h.hour, h.key, h.slot)) FROM analytics.sales_hourly h) = (SELECT rollup_md5 FROM ret),
          'scoring state and rollups are kept as they were');
SELECT is_empty(format('SELECT * FROM analytics.rollup_check(%L, %L)', (SELECT boundary FROM ret), 'infinity'),
                'rollup_check() of the kept months stays clean');
SELECT is_empty(format('SELECT * FROM techmart.entity_check() WHERE day >= %L::date', (SELECT boundary FROM ret)),
                'entity_check() of the kept months stays clean');
SELECT throws_ok($$SELECT * FROM techmart_ops.drop_transactions_before('2026-10-15')$$, '22023', NULL,
                 'a retention boundary that is not a month start is refused (22023)');

-- 4. COPY across months (dates relative to today: the months ensure_partitions(2) made above, so the
--    test means the same on any day; COPY … FROM PROGRAM is the same COPY path as FROM STDIN)
CREATE TEMP TABLE copy_months AS SELECT techmart_ops.month_start(now()) AS m;
DO $$
DECLARE
  m timestamptz := (SELECT m FROM copy_months);
  rows text := (SELECT string_agg(format(E'930002\t930001\t%s\t40\tcredit_card\tDE\t%s', q, t), E'\n')
                  FROM (VALUES (1, m + interval '1 month' - interval '1 second'), (2, m + interval '1 month'),
                               (1, m + interval '1 month 14 days 12 hours'), (1, timestamptz '2019-06-01 08:00:00+00')) v(q, t));
BEGIN
  EXECUTE format('COPY transactions (customer_id, product_id, quantity, unit_price, payment_method, country, transaction_time) FROM PROGRAM %L',
                 format($f$printf '%%s\n' '%s'$f$, rows));
END $$;
SELECT is((SELECT count(DISTINCT tableoid)::int FROM transactions WHERE customer_id = 930002), 3, 'COPY of rows in three months: three partitions');
SELECT is((SELECT tableoid::regclass::text FROM transactions WHERE customer_id = 930002 AND transaction_time < '2020-01-01'),
          'transactions_default', 'a month without partition goes to DEFAULT');
SELECT is((SELECT count(*)::int FROM transactions WHERE customer_id = 930002 AND fraud_score IS NOT NULL), 4, 'COPY rows scored');
SELECT is((SELECT n FROM techmart.customer_state WHERE customer_id = 930002), 4::bigint, 'COPY: state of four rows');
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2019-06-01', '2019-07-01')$$, 'rollups follow the COPY (DEFAULT partition)');
SELECT is_empty(format('SELECT * FROM analytics.rollup_check(%L, %L)', (SELECT boundary FROM ret), 'infinity'), 'rollups follow the COPY (months)');

-- 5. pruning: a one-day query reads one partition
CREATE FUNCTION pg_temp.plan_relations(q text) RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE p json;
BEGIN
  EXECUTE 'EXPLAIN (FORMAT JSON) ' || q INTO p;
  RETURN ARRAY(SELECT DISTINCT m[1] FROM regexp_matches(p::text, '"Relation Name": "([^"]+)"', 'g') m ORDER BY 1);
END $$;
SELECT is(pg_temp.plan_relations(format($$SELECT count(*), sum(amount) FROM transactions
                                          WHERE transaction_time >= %L AND transaction_time < %L$$,
                                         (SELECT m + interval '13 days' FROM copy_months), (SELECT m + interval '14 days' FROM copy_months))),
          ARRAY[(SELECT techmart_ops.partition_name(m) FROM copy_months)], 'EXPLAIN of a one-day query touches one partition');

-- 6. ensure_partitions: idempotent; moves rows out of DEFAULT into a new month
SELECT is((SELECT count(*)::int FROM techmart_ops.ensure_partitions(2) WHERE created), 1,
          'ensure_partitions creates the month of the DEFAULT row only');
SELECT is((SELECT tableoid::regclass::text FROM transactions WHERE customer_id = 930002 AND transaction_time < '2020-01-01'),
          'transactions_2019_06', 'the row moved out of DEFAULT into its month');
SELECT is((SELECT count(*)::int FROM techmart_ops.ensure_partitions(2) WHERE created), 0, 'a second call creates nothing');
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2019-06-01', '2019-07-01')$$, 'rollups untouched by the move');
SELECT throws_ok($$SELECT * FROM techmart_ops.ensure_partitions(-1)$$, '22023', NULL, 'months_ahead < 0 is refused (22023)');

-- 7. the references (triggers in place of the foreign keys)
SELECT throws_ok($$INSERT INTO transaction_labels (transaction_id, label) VALUES (-5, 'fraud')$$, '23503', NULL,
                 'a label of a missing transaction is refused (23503)');
SELECT techmart.label((SELECT min(id) FROM transactions WHERE customer_id = 930002), 'legitimate', 'partitioning test');
DELETE FROM transactions WHERE id = (SELECT min(id) FROM transactions WHERE customer_id = 930002);
SELECT is((SELECT count(*)::int FROM transaction_labels WHERE note = 'partitioning test'), 0, 'ON DELETE CASCADE: the label went with its row');
SELECT is((SELECT count(*)::int FROM alerts a WHERE a.customer_id = 930001 AND a.transaction_id IS NULL), 0, 'other alerts untouched');
DELETE FROM transactions WHERE customer_id = 930001 AND transaction_time = (SELECT min(t) FROM months);
SELECT is((SELECT count(*)::int FROM alerts a WHERE a.customer_id = 930001 AND a.transaction_id IS NULL), 1,
          'ON DELETE SET NULL: the alert stays, without its transaction');

SELECT * FROM finish();
ROLLBACK;

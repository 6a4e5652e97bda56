-- pgTAP: the application schema of SPEC §1 (migrations)
BEGIN;
SELECT plan(48);

SELECT has_table(t) FROM unnest(ARRAY['suppliers', 'categories', 'products', 'inventory_history', 'customers',
                                      'transactions', 'transaction_labels', 'alerts', 'users', 'planted_fraud']) t;

SELECT col_type_is('transactions', 'unit_price', 'money_amount', 'money is numeric with three decimals');
SELECT col_type_is('transactions', 'amount', 'money_amount');
SELECT col_type_is('transactions', 'transaction_time', 'timestamp with time zone');
SELECT col_type_is('transactions', 'fraud_reasons', 'jsonb');
SELECT col_type_is('transactions', 'ip_address', 'inet');
SELECT col_type_is('products', 'price', 'money_amount');
SELECT is((SELECT numeric_scale FROM information_schema.domains WHERE domain_name = 'money_amount')::int, 3,
          'money_amount keeps three decimals');

SELECT fk_ok('transactions', 'customer_id', 'customers', 'id');
SELECT fk_ok('transactions', 'product_id', 'products', 'id');
SELECT fk_ok('products', 'category_id', 'categories', 'id');
SELECT fk_ok('products', 'supplier_id', 'suppliers', 'id');
SELECT fk_ok('inventory_history', 'product_id', 'products', 'id');
SELECT fk_ok('alerts', 'transaction_id', 'transactions', 'id');
SELECT fk_ok('transaction_labels', 'transaction_id', 'transactions', 'id');

SELECT has_index('transactions', 'transactions_customer_time_idx', ARRAY['customer_id', 'transaction_time']);
SELECT has_index('transactions', 'transactions_time_idx', 'transaction_time');
SELECT has_trigger('transactions', 'transactions_score');
SELECT trigger_is('public', 'transactions', 'transactions_score', 'techmart', 'score_transaction');

-- constraints refuse bad rows with the right SQLSTATE
INSERT INTO categories (id, name) VALUES (990001, 'pgTAP category');
INSERT INTO suppliers (id, name, country) VALUES (990001, 'pgTAP supplier', 'GB');
INSERT INTO products (id, sku, name, category_id, price, stock_quantity, supplier_id)
VALUES (990001, 'PGTAP-1', 'pgTAP product', 990001, 10, 5, 990001);
INSERT INTO customers (id, email, name, country) VALUES (990001, 'pgtap@example.com', 'pg Tap', 'GB');

SELECT throws_ok($$INSERT INTO suppliers (name, country, reliability_score) VALUES ('x1', 'GB', 1.5)$$,
                 '23514', NULL, 'reliability above 1 refused');
SELECT throws_ok($$INSERT INTO suppliers (name, country) VALUES ('x2', 'gb')$$, '23514', NULL,
                 'lower-case country refused by the domain');
SELECT throws_ok($$INSERT INTO products (sku, name, price) VALUES ('PGTAP-2', 'p', -1)$$, '23514', NULL,
                 'negative price refused');
SELECT throws_ok($$INSERT INTO products (sku, name, price) VALUES ('PGTAP-1', 'p', 1)$$, '23505', NULL,
                 'duplicate SKU refused');
SELECT throws_ok($$UPDATE products SET stock_quantity = -1 WHERE id = 990001$$, '23514', NULL,
                 'negative stock refused');
SELECT throws_ok($$INSERT INTO customers (email, name, country) VALUES ('PGTAP@example.com', 'x', 'GB')$$,
                 '23505', NULL, 'e-mail unique regardless of case');
SELECT throws_ok($$INSERT INTO customers (email, name, country) VALUES ('not-an-email', 'x', 'GB')$$,
                 '23514', NULL, 'malformed e-mail refused');
SELECT throws_ok($$INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, status)
                   VALUES (990001, 990001, 1, 10, 'credit_card', 'shipped')$$, '23514', NULL, 'unknown status refused');
SELECT throws_ok($$INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method)
                   VALUES (990001, 990001, 1, 10, 'barter')$$, '23514', NULL, 'unknown payment method refused');
SELECT throws_ok($$INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method)
                   VALUES (990001, 424242424, 1, 10, 'paypal')$$, '23503', NULL, 'unknown product refused');
SELECT throws_ok($$INSERT INTO alerts (type, severity, message) VALUES ('fraud', 'apocalyptic', 'x')$$,
                 '23514', NULL, 'unknown alert severity refused');
SELECT throws_ok($$INSERT INTO alerts (type, severity, message, status) VALUES ('fraud', 'low', 'x', 'resolved')$$,
                 '23514', NULL, 'a resolved alert needs resolved_at');
SELECT throws_ok($$INSERT INTO users (email, username, password_hash) VALUES ('u@example.com', 'user1', 'plain')$$,
                 '23514', NULL, 'only bcrypt hashes are stored as passwords');
SELECT throws_ok($$INSERT INTO inventory_history (product_id, previous_quantity, new_quantity, reason)
                   VALUES (990001, 5, 3, 'theft')$$, '23514', NULL, 'unknown stock-change reason refused');

-- platform and payment_fingerprint: the CHECKs (change transactions_checks_cheaper: length + btrim, no regular
-- expression) accept exactly what the regular expressions of the schema accept: ~6,000 strings from an alphabet of
-- allowed and neighbouring characters (upper case, '-', ' ', newline, 'é', 'g'), lengths 0..130 around the bounds
CREATE TEMP TABLE chk_cand ON COMMIT DROP AS
SELECT s FROM (VALUES (''), ('web'), ('Web'), ('web '), (' web'), (E'web\n'), ('mobile_app'), ('ios-app'), ('wéb'),
                      ('_'), ('0'), (repeat('a', 40)), (repeat('a', 41)), (repeat('0', 15)), (repeat('0', 16)),
                      (repeat('f', 128)), (repeat('f', 129)), ('0123456789abcdef'), ('0123456789ABCDEF'),
                      ('0123456789abcdeg'), (E'0123456789abcdef\n')) v(s)
UNION ALL
SELECT coalesce((SELECT string_agg(substr('abcdefz09_A-Z é' || E'\n' || 'g', 1 + floor(random() * 18)::int + 0 * g.i, 1), '')
                   FROM generate_series(1, n.len) g(i)), '')
  FROM (SELECT k, (ARRAY[0, 1, 2, 3, 15, 16, 17, 39, 40, 41, 127, 128, 129])[1 + k % 13] AS len
          FROM generate_series(1, 3000) k) n
UNION ALL
SELECT (SELECT string_agg(substr('0123456789abcdefABCg', 1 + floor(random() * (CASE WHEN n.k % 2 = 0 THEN 16 ELSE 20 END))::int + 0 * g.i, 1), '')
          FROM generate_series(1, n.len) g(i))
  FROM (SELECT k, (ARRAY[15, 16, 17, 64, 127, 128, 129])[1 + k % 7] AS len FROM generate_series(1, 3000) k) n;
CREATE FUNCTION pg_temp.check_differs(p_con text, p_col text, p_regex text) RETURNS bigint LANGUAGE plpgsql AS $f$
DECLARE n bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM (SELECT s AS %I FROM chk_cand) c WHERE (%I ~ %L) IS DISTINCT FROM (%s)',
                 p_col, p_col, p_regex,
                 (SELECT pg_get_expr(k.conbin, k.conrelid) FROM pg_constraint k
                   WHERE k.conrelid = 'public.transactions'::regclass AND k.conname = p_con))
     INTO n;
  RETURN n;
END $f$;
SELECT is(pg_temp.check_differs('transactions_platform_check', 'platform', '^[a-z0-9_]{1,40}$'), 0::bigint,
          'transactions_platform_check accepts exactly ^[a-z0-9_]{1,40}$');
SELECT is(pg_temp.check_differs('transactions_payment_fingerprint_check', 'payment_fingerprint', '^[0-9a-f]{16,128}$'),
          0::bigint, 'transactions_payment_fingerprint_check accepts exactly ^[0-9a-f]{16,128}$ (NULL passes both)');
SELECT throws_ok($$INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, platform)
                   VALUES (990001, 990001, 1, 10, 'paypal', 'Web')$$, '23514', NULL, 'upper-case platform refused');

INSERT INTO inventory_history (product_id, previous_quantity, new_quantity, reason) VALUES (990001, 5, 3, 'sale');
SELECT is((SELECT change FROM inventory_history WHERE product_id = 990001), -2, 'stock change is derived');

-- a valid insert keeps the given three-decimal price exactly and fills the amount
INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, payment_method)
VALUES (990001, 990001, 990001, 3, 2.555, 'paypal');
SELECT is((SELECT amount::numeric FROM transactions WHERE id = 990001), 7.665::numeric, 'amount = quantity * unit_price, exact');
SELECT ok((SELECT fraud_score IS NOT NULL FROM transactions WHERE id = 990001), 'the trigger scored the row');

SELECT * FROM finish();
ROLLBACK;

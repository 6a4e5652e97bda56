-- pgTAP: the application schema of SPEC §1 (migrations)
BEGIN;
SELECT plan(45);

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

INSERT INTO inventory_history (product_id, previous_quantity, new_quantity, reason) VALUES (990001, 5, 3, 'sale');
SELECT is((SELECT change FROM inventory_history WHERE product_id = 990001), -2, 'stock change is derived');

-- a valid insert keeps the given three-decimal price exactly and fills the amount
INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, payment_method)
VALUES (990001, 990001, 990001, 3, 2.555, 'paypal');
SELECT is((SELECT amount::numeric FROM transactions WHERE id = 990001), 7.665::numeric, 'amount = quantity * unit_price, exact');
SELECT ok((SELECT fraud_score IS NOT NULL FROM transactions WHERE id = 990001), 'the trigger scored the row');

SELECT * FROM finish();
ROLLBACK;

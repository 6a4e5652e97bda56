-- pgTAP: POST /transactions' functions name the API's user in inventory_history.changed_by (sqitch change
-- api_transaction_actor): api.create_transaction(p, p_actor), api.create_transaction_idempotent(scope, key,
-- p, p_actor). Customer 970501, product 970501.
BEGIN;
SELECT plan(7);

INSERT INTO products (id, sku, name, price, stock_quantity) VALUES (970501, 'ACTOR-1', 'actor', 5, 100);
INSERT INTO customers (id, email, name, country) VALUES (970501, 'actor@example.com', 'Actor', 'GB');
CREATE FUNCTION pg_temp.last_by() RETURNS text LANGUAGE sql AS $$
  SELECT changed_by FROM inventory_history WHERE product_id = 970501 ORDER BY id DESC LIMIT 1
$$;

SELECT ok(has_function_privilege('techmart_api', 'api.create_transaction(jsonb, text)', 'EXECUTE')
          AND has_function_privilege('techmart_api', 'api.create_transaction_idempotent(text, text, jsonb, text)', 'EXECUTE'),
          'techmart_api may run both');
SELECT ok(NOT has_function_privilege('public', 'api.create_transaction(jsonb, text)', 'EXECUTE'), 'PUBLIC may not');

-- without an actor (psql): the session's user, as before
SELECT api.create_transaction('{"customer_id": 970501, "product_id": 970501, "quantity": 1, "payment_method": "paypal"}');
SELECT is(pg_temp.last_by(), current_user::text, 'api.create_transaction(p): the session''s user');

SELECT is((api.create_transaction('{"customer_id": 970501, "product_id": 970501, "quantity": 2, "payment_method": "paypal"}',
                                  'user:77:clerk@example.com') ->> 'quantity')::int, 2, 'with an actor: the same answer');
SELECT is(pg_temp.last_by(), 'user:77:clerk@example.com', 'api.create_transaction(p, actor): changed_by is the actor');
SELECT is((api.create_transaction_idempotent('77', 'actor-key-1',
             '{"customer_id": 970501, "product_id": 970501, "quantity": 3, "payment_method": "paypal"}',
             'user:78:other@example.com') ->> 'status')::int, 201, 'idempotent with an actor: 201');
SELECT is(pg_temp.last_by(), 'user:78:other@example.com', 'api.create_transaction_idempotent(..., actor): changed_by is the actor');

SELECT * FROM finish();
ROLLBACK;

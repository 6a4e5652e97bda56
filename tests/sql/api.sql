-- pgTAP: the api schema (one JSON function per REST endpoint)
BEGIN;
SELECT plan(20);

INSERT INTO categories (id, name) VALUES (990101, 'pgTAP api category');
INSERT INTO products (id, sku, name, category_id, price, stock_quantity) VALUES (990101, 'PGTAP-API-1', 'p', 990101, 19.99, 50);
INSERT INTO customers (id, email, name, country, registration_date)
VALUES (990101, 'pgtap-api@example.com', 'Api Tester', 'DE', now() - interval '400 days');

SELECT is(api.health()->>'database', 'up', 'health reports the database up');
SELECT is(api.health()->>'extension_version', (SELECT extversion FROM pg_extension WHERE extname = 'techmart'),
          'health reports the extension version');

-- a valid transaction: stored, scored, returned
SELECT lives_ok($$SELECT set_config('pgtap.created',
  api.create_transaction('{"customer_id":990101,"product_id":990101,"quantity":2,"payment_method":"paypal","country":"DE",
                           "ip_address":"192.0.2.10","transaction_time":"2026-01-15T10:00:00Z"}')::text, true)$$,
  'create_transaction accepts a valid body');
SELECT is((current_setting('pgtap.created')::jsonb->>'unit_price')::numeric, 19.99, 'unit_price defaults to the list price');
SELECT is((current_setting('pgtap.created')::jsonb->>'amount')::numeric, 39.98, 'amount computed');
SELECT is(current_setting('pgtap.created')::jsonb->>'ip_address', '192.0.2.10', 'ip address echoed');
SELECT ok((current_setting('pgtap.created')::jsonb->>'fraud_score') IS NOT NULL, 'returned row carries its score');
SELECT is(jsonb_typeof(current_setting('pgtap.created')::jsonb->'fraud_reasons'), 'array', 'reasons are an array');
SELECT is(api.get_transaction((current_setting('pgtap.created')::jsonb->>'id')::bigint) - 'explanation',
          current_setting('pgtap.created')::jsonb, 'get_transaction returns the same row (plus its explanation)');
SELECT is(api.get_transaction(-1), NULL, 'get_transaction of a missing id is NULL');

-- validation: SQLSTATE 22023 with field errors in DETAIL
SELECT throws_ok($$SELECT api.create_transaction('{"customer_id":990101,"product_id":990101,"quantity":0,"payment_method":"paypal"}')$$,
                 '22023', NULL, 'zero quantity refused');
SELECT throws_ok($$SELECT api.create_transaction('{"customer_id":990101,"product_id":990101,"quantity":-3,"payment_method":"paypal"}')$$,
                 '22023', NULL, 'negative quantity refused');
SELECT throws_ok($$SELECT api.create_transaction('{"customer_id":424242424,"product_id":990101,"quantity":1,"payment_method":"paypal"}')$$,
                 '22023', 'invalid transaction: customer_id no customer with id 424242424', 'unknown customer named');
SELECT throws_ok($$SELECT api.create_transaction('{"customer_id":"1","product_id":990101,"quantity":1.5,"payment_method":"paypal"}')$$,
                 '22023', NULL, 'wrong types refused');
SELECT throws_ok($$SELECT api.create_transaction('{"customer_id":990101,"product_id":990101,"quantity":1,"payment_method":"paypal","colour":"red"}')$$,
                 '22023', 'invalid transaction: colour is not a known field', 'unknown fields refused');
SELECT throws_ok($$SELECT api.create_transaction('[1,2]')$$, '22023', NULL, 'non-object body refused');
SELECT throws_ok($$SELECT api.create_transaction('{"customer_id":990101,"product_id":990101,"quantity":1,"payment_method":"paypal","unit_price":1.2345}')$$,
                 '22023', NULL, 'more than three decimals refused');

-- all field errors at once, as JSON in DETAIL
CREATE FUNCTION pg_temp.detail_of(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE d text;
BEGIN
  PERFORM api.create_transaction(p);
  RETURN NULL;
EXCEPTION WHEN invalid_parameter_value THEN
  GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
  RETURN d::jsonb;
END $$;
SELECT is((SELECT array_agg(e->>'field' ORDER BY e->>'field')
             FROM jsonb_array_elements(pg_temp.detail_of('{"quantity":"x","transaction_time":"yesterday","country":"Germany"}')->'errors') e),
          ARRAY['country', 'customer_id', 'payment_method', 'product_id', 'quantity', 'transaction_time'],
          'every invalid field is reported at once');

SELECT is((api.recent_transactions(1)->'items'->0->>'id')::bigint,
          (SELECT id FROM transactions ORDER BY transaction_time DESC, id DESC LIMIT 1), 'recent returns the newest first');
SELECT throws_ok($$SELECT api.recent_transactions(0)$$, '22023', NULL, 'limit below 1 refused');

SELECT * FROM finish();
ROLLBACK;

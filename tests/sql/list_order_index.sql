-- pgTAP: the generic lists and GET /users order with api._order_by(..., rel) (sqitch change list_order_index): a
-- descending sort of a NOT NULL column gets no NULLS LAST, so an index serves it (bench/RESULTS.md: GET
-- /customers?sort=-id 73 -> 9 ms at 100,000 customers); the pages are the same as before.
BEGIN;
SELECT plan(6);

SELECT ok(strpos(prosrc, 'api._order_by(p, p_default_sort, ''r.'', p_table)') > 0, 'api._list orders with its table')
  FROM pg_proc WHERE oid = 'api._list(regclass,jsonb,text,text[],text,text[])'::regprocedure;
SELECT ok(strpos(prosrc, 'api._order_by(p, ''id'', ''u.'', ''users'')') > 0, 'api.list_users orders with users')
  FROM pg_proc WHERE oid = 'api.list_users(jsonb)'::regprocedure;

SELECT is(ARRAY(SELECT (e->>'id')::bigint FROM jsonb_array_elements(api.list_customers('{"sort": "-id", "limit": 20}')->'items') e),
          ARRAY(SELECT id FROM customers ORDER BY id DESC LIMIT 20), 'customers sort=-id: the 20 highest ids, highest first');
SELECT is(ARRAY(SELECT (e->>'id')::bigint FROM jsonb_array_elements(api.list_products('{"sort": "-price", "limit": 20}')->'items') e),
          ARRAY(SELECT id FROM products ORDER BY price DESC, id DESC LIMIT 20), 'products sort=-price: by price, then id, descending');
UPDATE products SET category_id = NULL WHERE id IN (SELECT id FROM products ORDER BY id LIMIT 3);
SELECT is(ARRAY(SELECT (e->>'id')::bigint FROM jsonb_array_elements(api.list_products('{"sort": "-category_id", "limit": 1000}')->'items') e),
          ARRAY(SELECT id FROM products ORDER BY category_id DESC NULLS LAST, id DESC LIMIT 1000),
          'products sort=-category_id (may be NULL): NULLs still last');
SELECT is(ARRAY(SELECT (e->>'id')::bigint FROM jsonb_array_elements(api.list_users('{"sort": "-id"}')->'items') e),
          ARRAY(SELECT id FROM users ORDER BY id DESC LIMIT 50), 'users sort=-id');

SELECT * FROM finish();
ROLLBACK;

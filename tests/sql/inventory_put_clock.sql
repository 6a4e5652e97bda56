-- pgTAP: PUT /inventory's history row is stamped with the clock once the product is locked, like a sale's (sqitch
-- change inventory_put_clock): in one product's history, ordered by time, every row's previous quantity is the
-- quantity of the row before it — also when a sale and a PUT happen in the same transaction.
BEGIN;
SELECT plan(3);

CREATE TEMP TABLE pr ON COMMIT DROP AS SELECT id FROM products WHERE stock_quantity >= 5 ORDER BY id LIMIT 1;
-- a sale (its history row: the clock), then a PUT (before: now(), the transaction's start, so earlier than the sale)
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, transaction_time, status, payment_method, platform)
SELECT (SELECT min(id) FROM customers), pr.id, 2, 10, now(), 'completed', 'paypal', 'web' FROM pr;
SELECT pg_sleep(0.01);
SELECT ok(api.update_inventory((SELECT id FROM pr), '{"quantity": 77, "reason": "restock"}', 'tester') IS NOT NULL,
          'PUT /inventory of the product');

SELECT is((SELECT reason FROM inventory_history WHERE product_id = (SELECT id FROM pr)
            ORDER BY changed_at DESC, id DESC LIMIT 1), 'restock', 'by time, the PUT is the product''s last change');
SELECT is((SELECT count(*) FROM (
             SELECT previous_quantity, lag(new_quantity) OVER (ORDER BY changed_at, id) AS before
               FROM inventory_history WHERE product_id = (SELECT id FROM pr)) c
            WHERE c.before IS NOT NULL AND c.previous_quantity <> c.before), 0::bigint,
          'by time, each change starts from the quantity the one before left');

SELECT * FROM finish();
ROLLBACK;

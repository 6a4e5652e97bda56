-- pgTAP: the customer analytics check their arguments (migrations/deploy/analytics_args_customers.sql):
-- a window <= 0 for analytics.rfm / customer_segments and a negative horizon for
-- analytics.customer_lifetime_value are 22023 instead of no rows / negative predictions; an infinite
-- as-of is 22023 in all three; valid and NULL arguments answer as before.
BEGIN;
SELECT plan(12);

SELECT throws_ok($$SELECT * FROM analytics.rfm(now(), interval '0')$$, '22023', 'window must be positive, got 00:00:00',
                 'rfm with a zero window: 22023 (before: no rows)');
SELECT throws_ok($$SELECT * FROM analytics.rfm(now(), interval '-30 days')$$, '22023', NULL,
                 'rfm with a negative window: 22023');
SELECT throws_ok($$SELECT * FROM analytics.customer_segments(now(), interval '-1 day')$$, '22023', NULL,
                 'customer_segments with a negative window: 22023 (before: no segments)');
SELECT throws_ok($$SELECT * FROM analytics.rfm('infinity', interval '30 days')$$, '22023',
                 'as-of must be a finite time, got infinity', 'rfm as of infinity: 22023');
SELECT throws_ok($$SELECT * FROM analytics.customer_lifetime_value(now(), 5, -12)$$, '22023',
                 'horizon months must be >= 0, got -12',
                 'customer_lifetime_value with a negative horizon: 22023 (before: negative predicted values)');
SELECT throws_ok($$SELECT * FROM analytics.customer_lifetime_value('infinity', 5)$$, '22023', NULL,
                 'customer_lifetime_value as of infinity: 22023 (before: cannot subtract infinite timestamps)');
PREPARE w(interval) AS SELECT count(*) FROM analytics.rfm(now(), $1);
SELECT throws_ok($$EXECUTE w('-1 hour')$$, '22023', NULL, 'rfm with the window as a parameter: 22023');

-- valid arguments answer as before: one row per customer with a completed line in the window
SELECT ok((SELECT count(*) FROM analytics.rfm(now(), interval '365 days')) > 0,
          'the test data has customers with completed lines in the year');
SELECT is((SELECT count(*) FROM analytics.rfm(now(), interval '365 days')),
          (SELECT count(DISTINCT customer_id) FROM transactions
            WHERE status = 'completed' AND transaction_time >= now() - interval '365 days' AND transaction_time < now()),
          'a valid window: one row per customer with a completed line in it (equals a scan)');
SELECT is((SELECT count(*) FROM analytics.rfm(now(), NULL)), 0::bigint, 'a NULL window still answers no rows');
SELECT ok((SELECT count(*) > 0 AND bool_and(predicted_value = 0)
             FROM analytics.customer_lifetime_value(now(), 50, 0)), 'a zero horizon is valid: customers, nothing predicted');
SELECT is((SELECT count(*) FROM analytics.customer_lifetime_value('1900-01-01Z', 5)), 0::bigint,
          'an as-of before any sale answers no rows');

SELECT * FROM finish();
ROLLBACK;

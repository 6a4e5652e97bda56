-- pgTAP: the analytics functions check the arguments a BI user types (migrations/deploy/analytics_args.sql):
-- an unknown dimension is 22023 naming the allowed ones instead of no rows / zero revenue, a velocity
-- window under one day is 22023 instead of "division by zero" or negative velocities; the valid and
-- NULL arguments answer as before.
BEGIN;
SELECT plan(10);

SELECT throws_ok($$SELECT * FROM analytics.breakdown('categroy', '2026-11-01Z', '2026-12-01Z')$$, '22023',
                 'dimension must be product, category, supplier, country, platform or payment_method, got categroy',
                 'breakdown: a mistyped dimension is 22023 (before: no rows)');
SELECT throws_ok($$SELECT * FROM analytics.sales_totals('2026-11-01Z', '2026-12-01Z', 'categroy', '1')$$, '22023',
                 'dimension must be all, product, category, country, platform or payment_method, got categroy',
                 'sales_totals: a mistyped dimension is 22023 (before: zero revenue)');
SELECT throws_ok($$SELECT * FROM analytics.sales_totals('2026-11-01Z', '2026-11-01 00:30Z', 'supplier', '1')$$, '22023', NULL,
                 'sales_totals: supplier (not a rollup dimension) within one hour too');
SELECT throws_ok($$SELECT * FROM analytics.low_stock('2026-12-01Z', 0)$$, '22023', 'velocity days must be >= 1, got 0',
                 'low_stock with a 0-day velocity window: 22023 (before: division by zero)');
SELECT throws_ok($$SELECT * FROM analytics.low_stock('2026-12-01Z', -5)$$, '22023', NULL,
                 'low_stock with a negative window: 22023 (before: negative velocities)');
PREPARE bd(text) AS SELECT count(*) FROM analytics.breakdown($1, '2026-11-01Z', '2026-12-01Z');
SELECT throws_ok($$EXECUTE bd('nope')$$, '22023', NULL, 'breakdown with a parameter: 22023');
SELECT lives_ok($$EXECUTE bd('category')$$, 'breakdown by category answers');
SELECT lives_ok($$SELECT * FROM analytics.breakdown('supplier', '2026-11-01Z', '2026-12-01Z')$$, 'and by supplier');
SELECT is((SELECT revenue FROM analytics.sales_totals('2026-11-01Z', '2026-12-01Z')),
          (SELECT coalesce(sum(amount), 0) FROM transactions WHERE status = 'completed' AND kind = 'sale'
              AND transaction_time >= '2026-11-01Z' AND transaction_time < '2026-12-01Z')
          - (SELECT coalesce(sum(amount), 0) FROM transactions WHERE kind = 'refund'
              AND transaction_time >= '2026-11-01Z' AND transaction_time < '2026-12-01Z'),
          'sales_totals of the shop unchanged (equals a scan)');
SELECT is((SELECT count(*) FROM analytics.breakdown(NULL, '2026-11-01Z', '2026-12-01Z')), 0::bigint,
          'a NULL dimension: no rows, as before');

SELECT * FROM finish();
ROLLBACK;

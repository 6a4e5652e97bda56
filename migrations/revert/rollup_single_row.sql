-- Revert techmart:rollup_single_row from pg
BEGIN;

LOCK TABLE analytics.sales_hourly, analytics.order_registry IN EXCLUSIVE MODE;

DELETE FROM analytics.rollup_sql WHERE step = 'apply_lone';
UPDATE analytics.rollup_sql
   SET sql = replace(sql, 'customers_hll = analytics.rollup_hll_union(s.customers_hll, excluded.customers_hll)',
                          'customers_hll = techmart.hll_union(s.customers_hll, excluded.customers_hll)')
 WHERE step = 'apply';

-- the three trigger functions regenerated from the templates as change rollup_apply_lines left them
\ir ../lib/rollup_triggers.sql

DROP FUNCTION analytics.rollup_hll_union(bytea, bytea);

COMMIT;

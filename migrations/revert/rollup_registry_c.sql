-- Revert techmart:rollup_registry_c from pg
BEGIN;

LOCK TABLE analytics.sales_hourly, analytics.order_registry IN EXCLUSIVE MODE;

DELETE FROM analytics.rollup_sql WHERE step IN ('registry_c', 'apply_c_orders');
UPDATE analytics.rollup_sql
   SET sql = replace(sql, E'     GROUP BY l.order_number ORDER BY l.order_number COLLATE "C"\n',
                          E'     GROUP BY l.order_number ORDER BY l.order_number\n')
 WHERE step = 'registry';

-- the three trigger functions regenerated from the templates as change rollup_registry_probe left them
\ir ../lib/rollup_triggers.sql

DROP FUNCTION analytics.rollup_registry_add(text[]);

COMMIT;

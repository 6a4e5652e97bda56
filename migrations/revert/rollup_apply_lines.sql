-- Revert techmart:rollup_apply_lines from pg
BEGIN;

LOCK TABLE analytics.sales_hourly, analytics.order_registry IN EXCLUSIVE MODE;

DELETE FROM analytics.rollup_sql WHERE step = 'lines_c';

-- the three trigger functions regenerated from the templates as change rollup_registry_c left them
\ir ../lib/rollup_triggers.sql

DROP FUNCTION analytics.rollup_apply(smallint, refcursor);

COMMIT;

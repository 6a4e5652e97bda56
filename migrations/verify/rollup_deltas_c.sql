-- Verify techmart:rollup_deltas_c
SELECT 1/count(*) FROM analytics.rollup_sql WHERE step = 'apply' AND sql LIKE '%analytics.rollup_deltas(%';
SELECT 1/count(*) FROM analytics.rollup_sql WHERE step = 'apply_sql_aggregate';
SELECT 1/count(*) FROM pg_proc WHERE oid = 'analytics.rollup_insert_trigger()'::regprocedure AND prosrc LIKE '%analytics.rollup_deltas(%';
SELECT 1/count(*) FROM pg_proc WHERE oid = 'analytics.rollup_delete_trigger()'::regprocedure AND prosrc LIKE '%analytics.rollup_deltas(%';
SELECT 1/(count(*) = 1)::int FROM analytics.rollup_deltas('{1}', '{1}', '{o}', '{2020-01-01 10:30+00}', '{completed}', '{2.5}',
                                                         '{2}', '{f}', '{sale}', '{7}', '{NULL}', '{GB}', '{web}', '{card}', '{3}')
 WHERE dim = 'minute' AND key = '30' AND revenue = 2.5 AND orders = 1 AND units = 2;

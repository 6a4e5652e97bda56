-- Verify techmart:observability on pg
SELECT metric, labels, value, help, type FROM techmart_ops.metrics WHERE false;
SELECT 'techmart_ops.prometheus()'::regprocedure;
SELECT 1 / (CASE WHEN techmart_ops.prometheus() LIKE '%# TYPE techmart_database_bytes gauge%' THEN 1 ELSE 0 END);

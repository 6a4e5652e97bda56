-- Verify techmart:observability_latency on pg
SELECT scope, le_us, count, cumulative FROM techmart_ops.scoring_latency WHERE false;
SELECT 1 / (CASE WHEN techmart_ops.prometheus() LIKE '%# TYPE techmart_scoring_latency_seconds histogram%' THEN 1 ELSE 0 END);

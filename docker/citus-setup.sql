-- Run on the coordinator after the migrations (docs/scaling.md, section 3). Not run here.
-- Prerequisite schema changes (docs/scaling.md "Schema changes Citus needs"): transactions PK
-- (customer_id, id); customer_id in transaction_labels / planted_fraud / fraud alerts.
\set ON_ERROR_STOP on
CREATE EXTENSION IF NOT EXISTS citus;
SELECT citus_set_coordinator_host('coordinator', 5432);
SELECT citus_add_node('worker1', 5432);
SELECT citus_add_node('worker2', 5432);

-- reference tables: read by every shard's scoring trigger, replicated to every node
SELECT create_reference_table('categories');
SELECT create_reference_table('suppliers');
SELECT create_reference_table('products');
SELECT create_reference_table('techmart.rule_config');
SELECT create_reference_table('techmart.settings');
SELECT create_reference_table(t) FROM unnest(ARRAY['techmart.risk_list', 'techmart.amount_prior', 'techmart.hour_prior']) t
 WHERE to_regclass(t) IS NOT NULL;

-- per-customer data, co-located by customer id: scoring is shard-local
SELECT create_distributed_table('customers', 'id');
SELECT create_distributed_table('techmart.customer_state', 'customer_id', colocate_with => 'customers');
SELECT create_distributed_table('transactions', 'customer_id', colocate_with => 'customers');
SELECT create_distributed_table('transaction_labels', 'customer_id', colocate_with => 'customers');
SELECT create_distributed_table('planted_fraud', 'customer_id', colocate_with => 'customers');

-- the distribution as the cluster sees it
SELECT table_name, citus_table_type, distribution_column, colocation_id, shard_count
FROM citus_tables ORDER BY citus_table_type, table_name;

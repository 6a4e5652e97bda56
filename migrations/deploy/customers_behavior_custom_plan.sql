-- Deploy techmart:customers_behavior_custom_plan to pg
-- requires: analytics
--
-- GET /customers/behavior?customer_id= (one customer) took 1.4-2.7 s at 5,000,000 transactions from its sixth call
-- in a session on, 2-18 ms before. analytics.customer_behavior filters its customers with
-- `p_customer_id IS NULL OR o.customer_id = p_customer_id`; PL/pgSQL plans its statement with the values for five
-- calls, then keeps a generic plan, in which that filter cannot use the index on (customer_id, transaction_time):
-- every completed line of the 30 days is grouped. api.customers_behavior now plans its statements for each call's
-- values (plan_cache_mode = force_custom_plan; the planning is part of every call, 2-6 ms in all for one customer at
-- 5,000,000): one customer is read through the index. Same answers; the executor's path only.
BEGIN;

ALTER FUNCTION api.customers_behavior(timestamptz, timestamptz, bigint, integer) SET plan_cache_mode = force_custom_plan;

COMMIT;

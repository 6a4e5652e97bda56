-- pgTAP: GET /customers/behavior?customer_id= reads one customer through the index on every call (change
-- customers_behavior_custom_plan). From the sixth call in a session PL/pgSQL kept a generic plan in which
-- `p_customer_id IS NULL OR customer_id = p_customer_id` cannot use an index: every line of the range was read.
BEGIN;
SELECT plan(4);

SELECT ok((SELECT 'plan_cache_mode=force_custom_plan' = ANY (proconfig) FROM pg_proc
            WHERE oid = 'api.customers_behavior(timestamptz,timestamptz,bigint,integer)'::regprocedure),
          'api.customers_behavior plans its statements for each call''s values');

-- ten calls for one customer (a generic plan was taken from the sixth): the same answer each time
CREATE TEMP TABLE c AS
SELECT t.customer_id AS id FROM transactions t WHERE t.status = 'completed' GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1;
CREATE TEMP TABLE answers (n int, a jsonb);
DO $$
BEGIN
  FOR i IN 1 .. 10 LOOP
    INSERT INTO answers VALUES (i, api.customers_behavior(now() - interval '60 days', now(), (SELECT id FROM c), 20));
  END LOOP;
END $$;
SELECT is((SELECT count(DISTINCT a)::int FROM answers), 1, 'ten calls for one customer: one answer');

-- the same answers as the analytics function gives
SELECT is(api.customers_behavior(now() - interval '60 days', now(), (SELECT id FROM c), 20) -> 'items',
          (SELECT jsonb_agg(to_jsonb(b)) FROM analytics.customer_behavior(now() - interval '60 days', now(), (SELECT id FROM c), 20) b),
          'one customer: the analytics function''s answer');
SELECT is(api.customers_behavior(now() - interval '60 days', now(), NULL, 5) -> 'items',
          (SELECT jsonb_agg(to_jsonb(b)) FROM analytics.customer_behavior(now() - interval '60 days', now(), NULL, 5) b),
          'the top 5 customers: the analytics function''s answer');

SELECT * FROM finish();
ROLLBACK;

-- Verify techmart:api_v1
SELECT 'api.create_transaction(jsonb)'::regprocedure, 'api.recent_transactions(integer)'::regprocedure,
       'api.get_transaction(bigint)'::regprocedure, 'api.health()'::regprocedure;

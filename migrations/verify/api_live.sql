-- Verify techmart:api_live
SELECT scope, key, request_hash, response_status, response_body, created_at FROM idempotency_keys WHERE false;
SELECT 'api.create_transaction_idempotent(text, text, jsonb)'::regprocedure,
       'api.stream_replay(bigint, bigint, integer)'::regprocedure;
SELECT 1/count(*) FROM pg_trigger WHERE tgname IN ('transactions_notify', 'alerts_notify') HAVING count(*) = 2;

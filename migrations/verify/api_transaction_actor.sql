-- Verify techmart:api_transaction_actor
SELECT 1/has_function_privilege('techmart_api', 'api.create_transaction(jsonb, text)', 'EXECUTE')::int;
SELECT 1/has_function_privilege('techmart_api', 'api.create_transaction_idempotent(text, text, jsonb, text)', 'EXECUTE')::int;

-- Verify techmart:api_endpoints
SELECT 'api.list_transactions(jsonb)'::regprocedure, 'api.export_transactions(jsonb)'::regprocedure,
       'api.create_alert(jsonb)'::regprocedure, 'api.low_stock(jsonb)'::regprocedure,
       'api.create_product(jsonb)'::regprocedure, 'api.update_customer(bigint, jsonb)'::regprocedure;

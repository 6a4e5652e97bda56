-- Verify techmart:api_viewer_privacy: the role variants exist and mask for a viewer; the
-- variants without a role are not executable by techmart_api
SELECT 1/(NOT api.role_sees_private('viewer') AND api.role_sees_private('analyst'))::int,
       1/(api.mask_transaction('{"id":1,"ip_address":"192.0.2.1"}', 'viewer') = '{"id":1}')::int,
       1/(NOT has_function_privilege('techmart_api', 'api.list_transactions(jsonb)', 'EXECUTE'))::int,
       1/has_function_privilege('techmart_api', 'api.list_transactions(jsonb, text)', 'EXECUTE')::int,
       'api.fraud_geo(timestamptz, timestamptz, integer, text)'::regprocedure, 'api.get_customer(bigint, text)'::regprocedure,
       'api.get_alert(bigint, text)'::regprocedure, 'api.fraud_explain(bigint, text)'::regprocedure;

-- Verify techmart:api_list_consistency
SELECT 1/(jsonb_array_length(api._check_page('{"sort":"--id"}', ARRAY['id'])) = 1)::int;
SELECT 1/(jsonb_array_length(api._check_range('{"from":"2026-11-02","to":"2026-11-01"}')) = 1)::int;
SELECT 'api.list_users(jsonb)'::regprocedure;

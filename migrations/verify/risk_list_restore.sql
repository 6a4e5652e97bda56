-- Verify techmart:risk_list_restore
SELECT 1/count(*) FROM pg_extension WHERE extname = 'techmart' AND string_to_array(extversion, '.')::int[] >= '{0,5}';
SELECT 1/count(*) FROM pg_trigger WHERE tgrelid = 'techmart.risk_list'::regclass AND tgname = 'risk_list_insert_replaces';

-- Verify techmart:extension_dump_config
SELECT 1/count(*) FROM pg_extension WHERE extname = 'techmart'
   AND string_to_array(extversion, '.')::int[] >= '{0,7}';
SELECT 1/(count(*) = 4)::int FROM pg_extension, unnest(extconfig) c
 WHERE extname = 'techmart'
   AND c IN ('techmart.shadow_config'::regclass, 'techmart.shadow_scores'::regclass,
             'techmart.entity_counts'::regclass, 'techmart.entity_counted'::regclass);

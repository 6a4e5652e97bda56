-- Verify techmart:comments_true
-- every column of the relations techmart_bi may read in bi, analytics and techmart_ops has a comment
SELECT 1/(count(*) = 0)::int
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE n.nspname IN ('bi', 'analytics', 'techmart_ops') AND c.relkind IN ('r', 'v', 'm', 'p')
   AND has_table_privilege('techmart_bi', c.oid, 'SELECT') AND col_description(c.oid, a.attnum) IS NULL;

-- Verify techmart:products_stock_hot
SELECT 1/(count(*) = 0)::int FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'products' AND indexdef LIKE '%stock_quantity%';

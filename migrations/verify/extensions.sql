-- Verify techmart:extensions
SELECT 1/count(*) FROM pg_extension WHERE extname = 'techmart';
SELECT 1/count(*) FROM pg_extension WHERE extname = 'pgcrypto';

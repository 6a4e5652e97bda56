-- Verify techmart:update_transaction_label_once
SELECT 1/(position('FOR NO KEY UPDATE' IN prosrc) > 0 AND position('v_cur' IN prosrc) = 0)::int
  FROM pg_proc WHERE oid = 'api.update_transaction(bigint, jsonb, text)'::regprocedure;

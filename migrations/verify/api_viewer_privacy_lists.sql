-- Verify techmart:api_viewer_privacy_lists: the lists mask as they build the page (no second pass)
SELECT 1/(position('mask_transaction' IN prosrc) > 0 AND position('mask_items' IN prosrc) = 0)::int
  FROM pg_proc WHERE oid IN ('api.list_transactions(jsonb, text)'::regprocedure, 'api.recent_transactions(integer, text)'::regprocedure);

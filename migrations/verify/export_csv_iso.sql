-- Verify techmart:export_csv_iso
SELECT 1/(position('transaction_time text' IN pg_get_function_result(f)) > 0
          AND position('is_suspicious text' IN pg_get_function_result(f)) > 0)::int
  FROM (SELECT 'api.export_transactions(jsonb)'::regprocedure AS f) x;

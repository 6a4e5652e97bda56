-- Verify techmart:export_csv_formula
SELECT 1/(api.csv_text('=1+1') = '''=1+1' AND api.csv_text('-x') = '''-x' AND api.csv_text(E'\tx') = E'''\tx'
          AND api.csv_text('ORD-1') = 'ORD-1')::int,
       1/(position('api.csv_text(t.order_number)' IN prosrc) > 0)::int
  FROM pg_proc WHERE oid = 'api.export_transactions(jsonb)'::regprocedure;

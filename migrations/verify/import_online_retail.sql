-- Verify techmart:import_online_retail
SELECT invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country
  FROM import.online_retail_raw WHERE false;
SELECT invoice_no, line_no, batch_id, raw_hash, outcome, transaction_id FROM import.online_retail_line WHERE false;
SELECT 1/count(*) FROM import.country WHERE name = 'EIRE' AND code = 'IE';
SELECT 'import.online_retail(text)'::regprocedure, 'import.online_retail_errors()'::regprocedure;
SELECT 1/(import.uk_time('2011-06-01 10:00:00') = '2011-06-01 09:00:00+00')::int;

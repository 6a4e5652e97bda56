-- pgTAP: techmart.rescore_customers failing on the way leaks nothing (extension/pg/
-- fraud_functions.cpp: the engine, C++ heap, is deleted by a reset callback of the SPI procedure
-- context). Before: every call that failed after the engine was built (an UPDATE refused by a
-- trigger here; a cancel, a lock timeout, a deadlock in real life) or whose queries did not
-- prepare (a wrong source table) left ~5 kB behind: 3,000 failed calls grew the backend by ~15 MB.
-- Measured as the backend's VmRSS (/proc/self/status, Linux, superuser). Ids 989001+; rolled back.
BEGIN;
SELECT plan(4);

INSERT INTO customers (id, email, name, country, registration_date)
VALUES (989001, 'rescore-errors@example.com', 'Rescore errors', 'DE', '2020-01-01');
INSERT INTO products (id, sku, name, price, stock_quantity) VALUES (989001, 'RESCORE-ERR-1', 'Rescore errors product', 40, 1000000);
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country, transaction_time)
SELECT 989001, 989001, 1, 40, 'credit_card', 'DE', '2026-11-20 12:00Z'::timestamptz + d * interval '1 hour' FROM generate_series(1, 3) d;
UPDATE transactions SET fraud_score = 0 WHERE customer_id = 989001;  -- differs from what a rescore computes
CREATE FUNCTION public.rescore_errors_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'refused by the test' USING ERRCODE = 'P0001';
END $$;
CREATE TRIGGER rescore_errors_refuse BEFORE UPDATE OF fraud_score ON transactions
  FOR EACH ROW WHEN (NEW.customer_id = 989001) EXECUTE FUNCTION public.rescore_errors_refuse();

SELECT throws_ok($$SELECT * FROM techmart.rescore_customers('{989001}', '-infinity', 'infinity')$$, 'P0001', 'refused by the test',
                 'setup: the rescore''s UPDATE fails after the engine was built');

CREATE FUNCTION pg_temp.rss_kb() RETURNS bigint LANGUAGE sql AS $$
  SELECT (regexp_match(pg_read_file('/proc/self/status'), 'VmRSS:\s+(\d+)'))[1]::bigint
$$;
CREATE FUNCTION pg_temp.fail_calls(n int, source text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE failed int := 0;
BEGIN
  FOR i IN 1..n LOOP
    BEGIN
      PERFORM techmart.rescore_customers('{989001}', '-infinity', 'infinity', source);
    EXCEPTION WHEN OTHERS THEN failed := failed + 1;
    END;
  END LOOP;
  RETURN failed;
END $$;
SELECT pg_temp.fail_calls(300, 'public.transactions') AS warm_up \gset
CREATE TEMP TABLE rss AS SELECT pg_temp.rss_kb() AS kb;
SELECT is(pg_temp.fail_calls(3000, 'public.transactions'), 3000, '3,000 calls failing in their UPDATE');
SELECT cmp_ok(pg_temp.rss_kb() - (SELECT kb FROM rss), '<', 4000::bigint,
              'the backend grew by less than 4 MB over them (~15 MB leaked before)');
SELECT pg_temp.fail_calls(300, 'public.customers') AS warm_up2 \gset
UPDATE rss SET kb = pg_temp.rss_kb();
SELECT pg_temp.fail_calls(3000, 'public.customers') AS failed2 \gset
SELECT cmp_ok(pg_temp.rss_kb() - (SELECT kb FROM rss), '<', 4000::bigint,
              'nor over 3,000 calls whose queries do not prepare (a source without the columns)');

SELECT * FROM finish();
ROLLBACK;

-- pgTAP: the customers' RFM, segments and lifetime value entry points plan without plain index scans (change
-- customers_rfm_seqscan): the planner read a year of lines through the (customer_id, transaction_time) index in
-- random table order, 2.4-3x slower than a sequential scan and a sort at 5,000,000 transactions. Same answers.
BEGIN;
SELECT plan(4);

SELECT is((SELECT count(*)::int FROM pg_proc
            WHERE oid IN ('api.customers_segments(timestamptz)'::regprocedure,
                          'api.customers_rfm(timestamptz,text,integer)'::regprocedure,
                          'api.customers_lifetime_value(timestamptz,integer,integer)'::regprocedure)
              AND 'enable_indexscan=off' = ANY (proconfig)),
          3, 'segments, rfm and lifetime-value run with enable_indexscan = off');

-- the same answers as with the index scans: the answers now, then the settings removed (in this transaction only)
-- and index scans preferred
CREATE TEMP TABLE a AS
SELECT api.customers_segments(now()) AS segments, api.customers_rfm(now(), NULL, 10000) AS rfm,
       api.customers_rfm(now(), 'champions', 10) AS champions, api.customers_lifetime_value(now(), 1000, 12) AS clv;
ALTER FUNCTION api.customers_segments(timestamptz) RESET enable_indexscan;
ALTER FUNCTION api.customers_rfm(timestamptz, text, integer) RESET enable_indexscan;
ALTER FUNCTION api.customers_lifetime_value(timestamptz, integer, integer) RESET enable_indexscan;
SET LOCAL enable_seqscan = off;
SET LOCAL enable_bitmapscan = off;
SELECT ok(api.customers_segments(now()) = (SELECT segments FROM a), 'segments: the same answer');
SELECT ok(api.customers_rfm(now(), NULL, 10000) = (SELECT rfm FROM a)
          AND api.customers_rfm(now(), 'champions', 10) = (SELECT champions FROM a), 'rfm: the same answers');
SELECT ok(api.customers_lifetime_value(now(), 1000, 12) = (SELECT clv FROM a), 'lifetime value: the same answer');

SELECT * FROM finish();
ROLLBACK;

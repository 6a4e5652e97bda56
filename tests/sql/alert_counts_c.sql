-- pgTAP: the alert counts' C insert trigger (migrations/deploy/alert_counts_c.sql,
-- extension/pg/alert_counts.cpp): the first change of an alerts_hourly row in a transaction is an
-- upsert, later ones update the transaction's own version directly. Every case below compares
-- analytics.alerts_hourly with the recount from alerts (analytics.alert_counts_check()) and reads
-- the row through its primary key too (the index entries of versions that were not HOT updates).
-- Alerts with ids 97xxxx in April 2019 (far from the seed).
BEGIN;
SELECT plan(14);

CREATE FUNCTION pg_temp.by_index(p_hour timestamptz) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
  SET LOCAL enable_seqscan = off;
  SET LOCAL enable_bitmapscan = off;
  SELECT sum(s.created) || '/' || sum(s.closed) INTO r FROM analytics.alerts_hourly s WHERE s.hour = p_hour;
  RETURN r;
END $$;
CREATE FUNCTION pg_temp.recount(p_hour timestamptz) RETURNS text LANGUAGE sql AS $$
  SELECT count(*) FILTER (WHERE date_bin('1 hour', created_at, '2000-01-01 00:00+00') = p_hour) || '/' ||
         count(*) FILTER (WHERE date_bin('1 hour', analytics.alert_closed_at(created_at, acknowledged_at, resolved_at),
                                         '2000-01-01 00:00+00') = p_hour)
    FROM alerts
$$;
CREATE FUNCTION pg_temp.add(p_first bigint, p_n integer, p_at timestamptz) RETURNS void LANGUAGE plpgsql AS $$
BEGIN  -- one INSERT per alert, as the fraud engine writes them
  FOR i IN 0 .. p_n - 1 LOOP
    INSERT INTO alerts (id, type, severity, message, customer_id, created_at)
    VALUES (p_first + i, 'alert_counts_test', 'low', 'x', 1, p_at + i * interval '1 second');
  END LOOP;
END $$;

SELECT is((SELECT tgfoid::regprocedure::text FROM pg_trigger WHERE tgname = 'alerts_counts_ins'),
          'analytics.alert_counts_insert_row_c()', 'the insert trigger of the alert counts is the C one');

-- 400 single-row INSERTs into two hours, interleaved: the row of each hour changed hundreds of times
-- in this transaction (more versions than fit a page: some updates are not HOT)
DO $$ BEGIN
  FOR g IN 0 .. 199 LOOP
    PERFORM pg_temp.add(970000 + 2 * g, 1, timestamptz '2019-04-02 10:00Z' + g * interval '1 second');
    PERFORM pg_temp.add(970001 + 2 * g, 1, timestamptz '2019-04-02 11:00Z' + g * interval '1 second');
  END LOOP;
END $$;
SELECT is_empty($$SELECT * FROM analytics.alert_counts_check()$$, '400 single-row inserts over two hours: counts exact');
SELECT is(pg_temp.by_index('2019-04-02 10:00Z'), '200/0', 'hour 10 through the primary key');
SELECT is(pg_temp.by_index('2019-04-02 11:00Z'), '200/0', 'hour 11 through the primary key');
SELECT is((SELECT count(*) FROM analytics.alerts_hourly WHERE hour = '2019-04-02 10:00Z'), 1::bigint,
          'one row for the hour (one slot per backend)');

-- a savepoint rolled back: its changes of the row are gone, the next insert must not use them
SAVEPOINT s1;
DO $$ BEGIN PERFORM pg_temp.add(970500, 30, '2019-04-02 10:20Z'); END $$;
ROLLBACK TO SAVEPOINT s1;
DO $$ BEGIN PERFORM pg_temp.add(970600, 7, '2019-04-02 10:30Z'); END $$;
SELECT is(pg_temp.by_index('2019-04-02 10:00Z'), '207/0', 'after a rolled-back savepoint');
SAVEPOINT s2;
DO $$ BEGIN PERFORM pg_temp.add(970700, 3, '2019-04-02 10:40Z'); END $$;
RELEASE SAVEPOINT s2;
DO $$ BEGIN PERFORM pg_temp.add(970710, 3, '2019-04-02 10:41Z'); END $$;
SELECT is(pg_temp.by_index('2019-04-02 10:00Z'), '213/0', 'after a released savepoint');

-- several alerts of one hour in one statement (one command), some inserted already closed
INSERT INTO alerts (id, type, severity, message, customer_id, created_at, status, acknowledged_at, resolved_at)
SELECT 970800 + g, 'alert_counts_test', 'low', 'y', 1, '2019-04-02 10:50Z',
       CASE WHEN g % 3 = 0 THEN 'acknowledged' WHEN g % 3 = 1 THEN 'resolved' ELSE 'open' END,
       CASE WHEN g % 3 = 0 THEN timestamptz '2019-04-02 11:10Z' END,
       CASE WHEN g % 3 = 1 THEN timestamptz '2019-04-02 12:10Z' END
  FROM generate_series(0, 59) g;
SELECT is_empty($$SELECT * FROM analytics.alert_counts_check()$$, 'a multi-row insert with closed alerts: counts exact');
SELECT is(pg_temp.by_index('2019-04-02 11:00Z'), pg_temp.recount('2019-04-02 11:00Z'), 'hour 11 (created and closed) = recount');

-- the row changed by the UPDATE statement trigger in between, then more inserts
UPDATE alerts SET status = 'acknowledged', acknowledged_at = '2019-04-02 10:59Z' WHERE id BETWEEN 970000 AND 970019;
DO $$ BEGIN PERFORM pg_temp.add(970900, 5, '2019-04-02 10:55Z'); END $$;
SELECT is(pg_temp.by_index('2019-04-02 10:00Z'), pg_temp.recount('2019-04-02 10:00Z'), 'after an UPDATE of alerts: = recount');
DELETE FROM alerts WHERE id BETWEEN 970020 AND 970029;
DO $$ BEGIN PERFORM pg_temp.add(970950, 5, '2019-04-02 10:56Z'); END $$;
SELECT is_empty($$SELECT * FROM analytics.alert_counts_check()$$, 'after a DELETE of alerts and more inserts: counts exact');

-- a rebuild (DELETE + INSERT of every row) in between: the versions written before are gone
SELECT is(analytics.alert_counts_rebuild() > 0, true, 'alert_counts_rebuild');
DO $$ BEGIN PERFORM pg_temp.add(971000, 5, '2019-04-02 10:57Z'); END $$;
SELECT is(pg_temp.by_index('2019-04-02 10:00Z'), pg_temp.recount('2019-04-02 10:00Z'), 'after a rebuild: = recount');
SELECT is_empty($$SELECT * FROM analytics.alert_counts_check()$$, 'at the end: counts exact');

SELECT * FROM finish();
ROLLBACK;

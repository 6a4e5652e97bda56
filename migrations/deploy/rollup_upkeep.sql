-- Deploy techmart:rollup_upkeep to pg
-- requires: overview_rollups
--
-- Cheaper rollup upkeep on bulk inserts (issue 4, "Rollup upkeep": bulk insert throughput with rollups
-- >= 80 % of the throughput with only the fraud trigger; 0.78 after change overview_rollups).
--
-- 1. Sales rollup triggers (template 'apply' of analytics.rollup_sql): the statement's line versions were
--    copied three times (CTEs lines, both_ = lines + others, allx). both_ is now a plain union of lines and
--    a materialized others (the few lines of touched orders outside the statement, usually none), so the
--    line versions are no longer copied a second time; same results (the per-bucket deltas are unchanged).
-- 2. Alert counts: the insert trigger on alerts is row-level. Alerts are written one by one (the fraud
--    engine: one INSERT per alert), and a statement trigger with a transition table cost ~60 us per alert
--    (tuplestore, transition table, an aggregate over it) against ~35 us for a row trigger with cached
--    single-row upserts (1,000 single-row alert INSERTs in one transaction, backend CPU). A multi-row
--    INSERT into alerts now pays one upsert per row (a bulk load can disable the triggers and call
--    analytics.alert_counts_rebuild(), as bench/rollups/overview.sh does). UPDATE and DELETE keep their
--    statement triggers.
BEGIN;

LOCK TABLE analytics.sales_hourly IN EXCLUSIVE MODE;

DO $$
DECLARE
  s record;
  n integer;
BEGIN
  FOR s IN SELECT * FROM (VALUES
    (1, 'apply', '\n    others AS \(\n', E'\n    others AS MATERIALIZED (\n', 1),
    (2, 'apply', '\n    both_ AS MATERIALIZED \(\n', E'\n    both_ AS NOT MATERIALIZED (  -- lines is materialized, others too\n', 1)
  ) v(ord, step, pattern, replacement, expected) ORDER BY ord LOOP
    SELECT regexp_count(sql, s.pattern) INTO n FROM analytics.rollup_sql WHERE step = s.step;
    IF n IS DISTINCT FROM s.expected THEN
      RAISE EXCEPTION 'rollup_upkeep: rollup template % contains /%/ % times, expected %', s.step, s.pattern, n, s.expected
        USING HINT = 'an earlier change edited the templates: adapt migrations/deploy/rollup_upkeep.sql';
    END IF;
    UPDATE analytics.rollup_sql SET sql = regexp_replace(sql, s.pattern, s.replacement, 'g') WHERE step = s.step;
  END LOOP;
END $$;

-- regenerate the trigger functions (the generator of change rollups_hll, unchanged)
DO $gen$
DECLARE
  op    text;
  src   text;
  cnt   text;
  reg   text := (SELECT sql FROM analytics.rollup_sql WHERE step = 'registry');
  apply text := (SELECT sql FROM analytics.rollup_sql WHERE step = 'apply');
  lck   text := (SELECT sql FROM analytics.rollup_sql WHERE step = 'hll_lock');
  rec   text := (SELECT sql FROM analytics.rollup_sql WHERE step = 'hll_recompute');
  q_reg text;
  q_app text;
  q_lck text;
BEGIN
  FOREACH op IN ARRAY ARRAY['insert', 'update', 'delete'] LOOP
    src := (SELECT sql FROM analytics.rollup_sql WHERE step = 'lines_' || op);
    cnt := CASE op WHEN 'delete' THEN 'old_rows' ELSE 'new_rows' END;
    q_reg := format(reg, src);
    q_app := format(apply, src);
    q_lck := CASE WHEN op = 'insert' THEN NULL
             ELSE format(lck, (SELECT sql FROM analytics.rollup_sql WHERE step = 'hll_buckets_' || op)) END;
    EXECUTE format($f$
      CREATE OR REPLACE FUNCTION analytics.rollup_%1$s_trigger()
      RETURNS trigger
      LANGUAGE plpgsql VOLATILE
      -- definer: a role allowed to write transactions needs no privilege on the rollup tables
      SECURITY DEFINER SET search_path = public, pg_temp
      SET work_mem = '64MB'  -- the statement's hash aggregates stay in memory
      AS $body$
      DECLARE
        n bigint := (SELECT count(*) FROM %2$s);
        l_dim text[];
        l_hour timestamptz[];
        l_key text[];
        l_slot smallint[];
      BEGIN
        IF n = 0 THEN
          RETURN NULL;
        ELSIF n <= 64 THEN
          %3$s;
          %8$s
          %4$s;
        ELSE
          EXECUTE %5$L;
          %8$s
          EXECUTE %6$L;
        END IF;
        %9$s
        %7$s
        RETURN NULL;
      END $body$ $f$,
      op, cnt, q_reg, q_app, q_reg, q_app,
      CASE WHEN op = 'insert' THEN '' ELSE
        '-- orders whose last line went away
        DELETE FROM analytics.order_registry r WHERE r.lines = 0
           AND r.order_number IN (SELECT o.order_number FROM old_rows o WHERE o.order_number IS NOT NULL);' END,
      CASE WHEN op = 'insert' THEN '' ELSE q_lck || ';' END,
      CASE WHEN op = 'insert' THEN '' ELSE rec || ';' END);
  END LOOP;
END $gen$;

-- ------------------------------------------------------------------ alert counts: row-level insert trigger
CREATE FUNCTION analytics.alert_counts_insert_row_trigger() RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  closed_at timestamptz := analytics.alert_closed_at(NEW.created_at, NEW.acknowledged_at, NEW.resolved_at);
BEGIN
  INSERT INTO analytics.alerts_hourly AS s (hour, slot, created, closed)
  VALUES (date_bin('1 hour', NEW.created_at, '2000-01-01 00:00+00'), analytics.rollup_slot(), 1, 0)
  ON CONFLICT (hour, slot) DO UPDATE SET created = s.created + 1;
  IF closed_at IS NOT NULL THEN
    INSERT INTO analytics.alerts_hourly AS s (hour, slot, created, closed)
    VALUES (date_bin('1 hour', closed_at, '2000-01-01 00:00+00'), analytics.rollup_slot(), 0, 1)
    ON CONFLICT (hour, slot) DO UPDATE SET closed = s.closed + 1;
  END IF;
  RETURN NULL;
END $$;
COMMENT ON FUNCTION analytics.alert_counts_insert_row_trigger() IS
  'Row-level AFTER INSERT trigger on alerts: adds the alert to analytics.alerts_hourly (created, and closed when '
  'inserted already acknowledged/resolved); row-level because alerts are inserted one by one';
DROP TRIGGER alerts_counts_ins ON alerts;
CREATE TRIGGER alerts_counts_ins AFTER INSERT ON alerts
  FOR EACH ROW EXECUTE FUNCTION analytics.alert_counts_insert_row_trigger();
COMMENT ON FUNCTION analytics.alert_counts_insert_trigger() IS
  'Statement-level variant of the alerts insert trigger (change overview_rollups), unused since change rollup_upkeep '
  '(kept for its revert)';

COMMIT;

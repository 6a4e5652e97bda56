-- Revert techmart:rollup_upkeep from pg
BEGIN;

LOCK TABLE analytics.sales_hourly IN EXCLUSIVE MODE;

DROP TRIGGER alerts_counts_ins ON alerts;
CREATE TRIGGER alerts_counts_ins AFTER INSERT ON alerts REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION analytics.alert_counts_insert_trigger();
DROP FUNCTION analytics.alert_counts_insert_row_trigger();
COMMENT ON FUNCTION analytics.alert_counts_insert_trigger() IS
  'Statement-level AFTER INSERT trigger on alerts: adds the statement''s alerts to analytics.alerts_hourly';

DO $$
DECLARE
  s record;
  n integer;
BEGIN
  FOR s IN SELECT * FROM (VALUES
    (1, 'apply', '\n    others AS MATERIALIZED \(\n', E'\n    others AS (\n', 1),
    (2, 'apply', '\n    both_ AS NOT MATERIALIZED \(  -- lines is materialized, others too\n', E'\n    both_ AS MATERIALIZED (\n', 1)
  ) v(ord, step, pattern, replacement, expected) ORDER BY ord LOOP
    SELECT regexp_count(sql, s.pattern) INTO n FROM analytics.rollup_sql WHERE step = s.step;
    IF n IS DISTINCT FROM s.expected THEN
      RAISE EXCEPTION 'rollup_upkeep revert: rollup template % contains /%/ % times, expected %', s.step, s.pattern, n, s.expected;
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

COMMIT;

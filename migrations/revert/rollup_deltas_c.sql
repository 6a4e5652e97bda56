-- Revert techmart:rollup_deltas_c from pg
BEGIN;

LOCK TABLE analytics.sales_hourly IN EXCLUSIVE MODE;

UPDATE analytics.rollup_sql SET sql = (SELECT sql FROM analytics.rollup_sql WHERE step = 'apply_sql_aggregate')
 WHERE step = 'apply';
DELETE FROM analytics.rollup_sql WHERE step = 'apply_sql_aggregate';

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

DROP FUNCTION analytics.rollup_deltas(integer[], bigint[], text[], timestamptz[], text[], numeric[], integer[],
                                      boolean[], text[], text[], text[], text[], text[], text[], bigint[]);

COMMIT;

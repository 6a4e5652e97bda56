-- The rollup trigger functions analytics.rollup_{insert,update,delete}_trigger() generated from the
-- templates in analytics.rollup_sql as they are now: the generator of change rollup_deltas_c (update,
-- delete) and of change rollup_apply_c (insert). Included (\ir) inside the transaction of a change that
-- edits the templates, by its deploy and by its revert (rollup_registry_probe), so the generator is written
-- once; the next change to the templates includes it too.
-- the update and delete triggers: the generator of change rollup_deltas_c
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
  FOREACH op IN ARRAY ARRAY['update', 'delete'] LOOP
    src := (SELECT sql FROM analytics.rollup_sql WHERE step = 'lines_' || op);
    cnt := CASE op WHEN 'delete' THEN 'old_rows' ELSE 'new_rows' END;
    q_reg := format(reg, src);
    q_app := format(apply, src);
    q_lck := format(lck, (SELECT sql FROM analytics.rollup_sql WHERE step = 'hll_buckets_' || op));
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
      '-- orders whose last line went away
        DELETE FROM analytics.order_registry r WHERE r.lines = 0
           AND r.order_number IN (SELECT o.order_number FROM old_rows o WHERE o.order_number IS NOT NULL);',
      q_lck || ';',
      rec || ';');
  END LOOP;
END $gen$;

-- the insert trigger: the generator of change rollup_apply_c
DO $gen$
DECLARE
  src   text := (SELECT sql FROM analytics.rollup_sql WHERE step = 'lines_insert');
  q_reg text := format((SELECT sql FROM analytics.rollup_sql WHERE step = 'registry'), src);
  q_app text := format((SELECT sql FROM analytics.rollup_sql WHERE step = 'apply'), src);
  q_c   text := format((SELECT sql FROM analytics.rollup_sql WHERE step = 'apply_c'), src);
BEGIN
  EXECUTE format($f$
    CREATE OR REPLACE FUNCTION analytics.rollup_insert_trigger()
    RETURNS trigger
    LANGUAGE plpgsql VOLATILE
    -- definer: a role allowed to write transactions needs no privilege on the rollup tables
    SECURITY DEFINER SET search_path = public, pg_temp
    SET work_mem = '64MB'  -- the statement's hash aggregates stay in memory
    AS $body$
    DECLARE
      n bigint := (SELECT count(*) FROM new_rows);
      applied bigint;
    BEGIN
      IF n = 0 THEN
        RETURN NULL;
      ELSIF n <= 64 THEN
        %1$s;
        %2$s;
      ELSE
        EXECUTE %3$L;
        BEGIN
          EXECUTE %5$L INTO applied;
        EXCEPTION WHEN unique_violation THEN
          applied := -1;  -- another transaction inserted one of the buckets meanwhile: the SQL upsert
        END;
        IF applied < 0 THEN
          EXECUTE %4$L;
        END IF;
      END IF;
      RETURN NULL;
    END $body$ $f$, q_reg, q_app, q_reg, q_app, q_c);
END $gen$;

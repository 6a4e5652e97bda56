-- The rollup trigger functions analytics.rollup_{insert,update,delete}_trigger() generated from the
-- templates in analytics.rollup_sql as they are now: the generator of change rollup_deltas_c (update,
-- delete) and of change rollup_apply_c (insert; with the template registry_c of change rollup_registry_c,
-- that change's insert trigger; with the template lines_c of change rollup_apply_lines, that change's
-- insert trigger). Included (\ir) inside the transaction of a change that edits the
-- templates, by its deploy and by its revert (rollup_registry_probe, rollup_registry_c, rollup_apply_lines,
-- rollup_single_row), so the generator
-- is written once; the next change to the templates includes it too. Keep what it generates for the
-- templates of an earlier change unchanged (their deploy and revert include this file).
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

-- the insert trigger: the generator of change rollup_apply_c, and with the template registry_c
-- (change rollup_registry_c) the generator of that change: the registry written by C too, in the same
-- subtransaction as the C apply; with the template lines_c (change rollup_apply_lines) the same
-- function but for the lines handed to the C apply through a cursor
DO $gen$
DECLARE
  src   text := (SELECT sql FROM analytics.rollup_sql WHERE step = 'lines_insert');
  q_reg text := format((SELECT sql FROM analytics.rollup_sql WHERE step = 'registry'), src);
  q_app text := format((SELECT sql FROM analytics.rollup_sql WHERE step = 'apply'), src);
  q_c   text := format((SELECT sql FROM analytics.rollup_sql WHERE step = 'apply_c'), src);
  q_rc  text := format((SELECT sql FROM analytics.rollup_sql WHERE step = 'registry_c'), src);
  q_co  text := format((SELECT sql FROM analytics.rollup_sql WHERE step = 'apply_c_orders'), src);
  q_lc  text := format((SELECT sql FROM analytics.rollup_sql WHERE step = 'lines_c'), src);
  q_ln  text := format((SELECT sql FROM analytics.rollup_sql WHERE step = 'apply_lone'), src);
  small text;               -- the statements of up to 64 lines
  step  text;               -- the buckets' statement (with registry_c)
  set_cursor  text := '';   -- with lines_c: the SET of the cursor's plan
  decl_cursor text := '';   -- with lines_c: the cursor's variable
BEGIN
  -- up to 64 lines: the registry upsert, then the buckets' upsert; with the template apply_lone
  -- (change rollup_single_row) a statement none of whose lines has an order number (no registry row
  -- to write, no other line of an order to read) runs that template's upsert alone instead
  small := format(E'%s;\n        %s;', q_reg, q_app);
  IF q_ln IS NOT NULL THEN
    small := format(E'IF NOT EXISTS (SELECT FROM new_rows WHERE order_number IS NOT NULL) THEN\n'
                    '          %s;\n'
                    '        ELSE\n'
                    '          %s;\n'
                    '          %s;\n'
                    '        END IF;', q_ln, q_reg, q_app);
  END IF;
  IF q_rc IS NULL THEN
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
        %6$s
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
    END $body$ $f$, q_reg, q_app, q_reg, q_app, q_c, small);
  ELSE
  -- the template registry_c (change rollup_registry_c): the registry written by C in the C apply's
  -- subtransaction, the buckets by the C apply from the lines of template apply_c_orders; with the
  -- template lines_c too (change rollup_apply_lines), those lines handed to the C apply through a cursor
  IF q_lc IS NULL THEN
    step := format(E'-- the buckets (C), the other lines read for the continued orders only; -1: not applicable,\n'
                   '            -- nothing written\n'
                   '            EXECUTE %L INTO applied USING continued;', q_co);
  ELSE
    step := format(E'-- the buckets (C): the line versions (the other lines read for the continued orders only)\n'
                   '            -- fetched from the cursor by the C apply; -1: not applicable, nothing written\n'
                   '            OPEN lines FOR EXECUTE %L USING continued;\n'
                   '            applied := analytics.rollup_apply(analytics.rollup_slot(), lines);\n'
                   '            CLOSE lines;', q_lc);
    set_cursor := E'\n    SET cursor_tuple_fraction = 1  -- the lines cursor is read whole: planned for all its rows';
    decl_cursor := E'\n      lines refcursor;';
  END IF;
  EXECUTE format($f$
    CREATE OR REPLACE FUNCTION analytics.rollup_insert_trigger()
    RETURNS trigger
    LANGUAGE plpgsql VOLATILE
    -- definer: a role allowed to write transactions needs no privilege on the rollup tables
    SECURITY DEFINER SET search_path = public, pg_temp
    SET work_mem = '64MB'  -- the statement's hash aggregates stay in memory%7$s
    AS $body$
    DECLARE
      n bigint := (SELECT count(*) FROM new_rows);
      applied bigint;
      continued text[];
      redo boolean := false;%8$s
    BEGIN
      IF n = 0 THEN
        RETURN NULL;
      ELSIF n <= 64 THEN
        %9$s
      ELSE
        BEGIN
          -- the order registry (C): the orders with lines outside the statement; NULL: not applicable,
          -- nothing written
          EXECUTE %6$L INTO continued;
          IF continued IS NULL THEN
            redo := true;
          ELSE
            %5$s
            IF applied < 0 THEN
              EXECUTE %4$L;  -- the SQL upsert of the buckets (the registry is written)
            END IF;
          END IF;
        EXCEPTION WHEN unique_violation THEN
          redo := true;  -- another transaction inserted an order or a bucket meanwhile: both undone
        END;
        IF redo THEN  -- the SQL upserts, outside any subtransaction
          EXECUTE %3$L;
          EXECUTE %4$L;
        END IF;
      END IF;
      RETURN NULL;
    END $body$ $f$, q_reg, q_app, q_reg, q_app, step, q_rc, set_cursor, decl_cursor, small);
  END IF;
END $gen$;

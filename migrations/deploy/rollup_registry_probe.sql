-- Deploy techmart:rollup_registry_probe to pg
-- requires: rollup_apply_c
--
-- Rollup upkeep (issue 4): the sales rollup triggers' CTE others (the lines of touched orders that the
-- statement did not touch) found its orders by a join of cnt (the statement's orders, an aggregate of its
-- lines) with analytics.order_registry. Its plan depended on the registry's statistics: after autovacuum
-- analysed a nearly empty registry (bench/rollups/run.sh: TRUNCATE, then a load in one transaction), the
-- planner estimated the registry at one row and ran the join as a nested loop whose outer side was a
-- full index scan of the registry with the join as a filter — registry size x statement orders
-- comparisons, 7 s for one 10,000-line INSERT instead of ~0.2 s (auto_explain, bench/RESULTS.md).
--
-- Now the registry is probed per order: a LATERAL subquery with OFFSET 0 (not flattened, so it can only
-- run as the inner side of a nested loop over cnt, parameterized by the order number: an index probe of
-- order_registry_pkey whatever the statistics say) — as the lines of transactions are already read per
-- order beside it. The templates apply, apply_c and apply_sql_aggregate of analytics.rollup_sql get the
-- probe; the three trigger functions are regenerated (generators of changes rollup_deltas_c for update
-- and delete, rollup_apply_c for insert, unchanged).
BEGIN;

LOCK TABLE analytics.sales_hourly IN EXCLUSIVE MODE;

DO $$
DECLARE
  old_join  text := E'        FROM (SELECT cnt.order_number FROM cnt JOIN analytics.order_registry r USING (order_number)\n'
                    || E'               WHERE r.lines > cnt.new_lines) o\n';
  new_probe text := E'        FROM (SELECT cnt.order_number FROM cnt\n'
                    || E'               CROSS JOIN LATERAL (SELECT r.lines FROM analytics.order_registry r  -- one index probe per order\n'
                    || E'                                    WHERE r.order_number = cnt.order_number OFFSET 0) r\n'
                    || E'               WHERE r.lines > cnt.new_lines) o\n';
  s text;
BEGIN
  FOREACH s IN ARRAY ARRAY['apply', 'apply_c', 'apply_sql_aggregate'] LOOP
    IF NOT EXISTS (SELECT 1 FROM analytics.rollup_sql WHERE step = s AND position(old_join IN sql) > 0
                      AND regexp_count(sql, 'order_registry') = 1) THEN
      RAISE EXCEPTION 'rollup_registry_probe: rollup template % lacks the registry join of change overview_rollups', s
        USING HINT = 'an earlier change edited the templates: adapt migrations/deploy/rollup_registry_probe.sql';
    END IF;
    UPDATE analytics.rollup_sql SET sql = replace(sql, old_join, new_probe) WHERE step = s;
  END LOOP;
END $$;

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

COMMIT;

-- Revert techmart:rollup_apply_c from pg
BEGIN;

LOCK TABLE analytics.sales_hourly IN EXCLUSIVE MODE;

-- the insert trigger as change rollup_deltas_c generated it
DO $gen$
DECLARE
  src   text := (SELECT sql FROM analytics.rollup_sql WHERE step = 'lines_insert');
  q_reg text := format((SELECT sql FROM analytics.rollup_sql WHERE step = 'registry'), src);
  q_app text := format((SELECT sql FROM analytics.rollup_sql WHERE step = 'apply'), src);
BEGIN
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
      'insert', 'new_rows', q_reg, q_app, q_reg, q_app, '', '', '');
END $gen$;

DELETE FROM analytics.rollup_sql WHERE step = 'apply_c';
DROP FUNCTION analytics.rollup_apply(smallint, integer[], bigint[], text[], timestamptz[], text[], numeric[], integer[],
                                     boolean[], text[], text[], text[], text[], text[], text[], bigint[]);

COMMIT;

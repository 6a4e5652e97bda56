-- Revert techmart:import_state_incremental from pg
-- import.online_retail() as change import_online_retail_c left it (step 6: rebuild_state() of every
-- customer), then the C function this change declared.
BEGIN;

DO $patch$
DECLARE
  def text := pg_get_functiondef('import.online_retail(text)'::regprocedure);
  cur text := $n$    IF to_regprocedure('techmart.rebuild_state_for(bigint[], text)') IS NOT NULL THEN
      -- (change import_state_incremental) the customers of the imported lines only
      SELECT count(*) INTO n_cust_state
        FROM techmart.rebuild_state_for(ARRAY(SELECT c.id FROM or_cust_id c), 'public.transactions') x(n);
      v_state := format('techmart.rebuild_state_for() of the %s customers of the import',
                        (SELECT count(*) FROM or_cust_id));
    ELSIF to_regprocedure('techmart.rebuild_state(text)') IS NOT NULL THEN$n$;
BEGIN
  IF position(cur IN def) = 0 THEN
    RAISE EXCEPTION 'import_state_incremental: import.online_retail() is not the function this change made';
  END IF;
  def := replace(def, cur, $o$    IF to_regprocedure('techmart.rebuild_state(text)') IS NOT NULL THEN$o$);
  def := replace(def, E'  v_mj      text;\n  n_cust_state bigint;', '  v_mj      text;');
  EXECUTE def;
END $patch$;

DROP FUNCTION techmart.rebuild_state_for(bigint[], text);

COMMIT;

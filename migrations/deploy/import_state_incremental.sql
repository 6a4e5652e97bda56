-- Deploy techmart:import_state_incremental to pg
-- requires: import_online_retail_c
--
-- The fraud state rebuilt for the customers an import touched, not for every customer of the
-- database: techmart.rebuild_state_for(customers bigint[], source text) (C, extension/pg
-- fraud_functions.cpp; declared here, not in the extension script, whose version stays as it is: it
-- needs a techmart.so of this commit or later) is techmart.rebuild_state() restricted to the given
-- customers — their state rows deleted, their risk_score reset, their history folded in the same
-- order and written back; the other customers' state and risk_score are left as they are. Step 6 of
-- import.online_retail() calls it with the customers of the imported lines (or_cust_id); with a
-- techmart.so without it, rebuild_state() of every customer as before. An import of the next months
-- on top of a large database no longer grows with the database.
BEGIN;

CREATE FUNCTION techmart.rebuild_state_for(customers bigint[], source text DEFAULT 'public.transactions')
RETURNS bigint
AS '$libdir/techmart', 'techmart_rebuild_state_for'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION techmart.rebuild_state_for(bigint[], text) IS
  'techmart.rebuild_state(source) for the given customers only: their fraud state and risk_score recomputed from '
  'their transactions in one pass (time order, stored scores), every other customer''s left as it is; returns the '
  'number of customers written (those with transactions). Locks source against inserts meanwhile. For bulk loads '
  'with scoring off, e.g. import.online_retail() (sqitch change import_state_incremental)';
REVOKE EXECUTE ON FUNCTION techmart.rebuild_state_for(bigint[], text) FROM PUBLIC;

-- import.online_retail(): step 6 for the customers of the import
DO $patch$
DECLARE
  def text := pg_get_functiondef('import.online_retail(text)'::regprocedure);
  old text := $o$    IF to_regprocedure('techmart.rebuild_state(text)') IS NOT NULL THEN
      PERFORM techmart.rebuild_state();
      v_state := 'techmart.rebuild_state()';$o$;
  new text := $n$    IF to_regprocedure('techmart.rebuild_state_for(bigint[], text)') IS NOT NULL THEN
      -- (change import_state_incremental) the customers of the imported lines only
      SELECT count(*) INTO n_cust_state
        FROM techmart.rebuild_state_for(ARRAY(SELECT c.id FROM or_cust_id c), 'public.transactions') x(n);
      v_state := format('techmart.rebuild_state_for() of the %s customers of the import',
                        (SELECT count(*) FROM or_cust_id));
    ELSIF to_regprocedure('techmart.rebuild_state(text)') IS NOT NULL THEN
      PERFORM techmart.rebuild_state();
      v_state := 'techmart.rebuild_state()';$n$;
BEGIN
  IF position(old IN def) = 0 OR position('  v_mj      text;' IN def) = 0 THEN
    RAISE EXCEPTION 'import_state_incremental: import.online_retail() is not the function of change import_online_retail_c'
      USING HINT = 'adapt migrations/deploy/import_state_incremental.sql';
  END IF;
  def := replace(def, old, new);
  def := replace(def, '  v_mj      text;', E'  v_mj      text;\n  n_cust_state bigint;');
  EXECUTE def;
END $patch$;

COMMIT;

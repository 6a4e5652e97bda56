-- Revert techmart:rollup_rebuild_registry_range from pg
-- analytics.rollup_rebuild() as change rollup_rebuild_insert_c left it
BEGIN;

DO $patch$
DECLARE
  def text := pg_get_functiondef('analytics.rollup_rebuild(timestamptz, timestamptz)'::regprocedure);
  cur text := $n$  -- the registry of the orders with lines in the range (their lines anywhere); (change
  -- rollup_rebuild_registry_range) few orders for the size of the table: one index probe each
  v_size := (SELECT c.reltuples FROM pg_class c WHERE c.oid = 'public.transactions'::regclass);
  IF v_size > 0 THEN  -- (-1: never analysed or vacuumed, e.g. a first import)
    v_orders := ARRAY(SELECT DISTINCT t.order_number FROM transactions t
                       WHERE t.transaction_time >= v_from AND t.transaction_time < p_to AND t.order_number IS NOT NULL);
    IF cardinality(v_orders)::float8 * 200 < v_size THEN
      INSERT INTO analytics.order_registry (order_number, lines)
      SELECT o.order_number, x.n
        FROM unnest(v_orders) o(order_number)
       CROSS JOIN LATERAL (SELECT count(*) AS n FROM transactions t WHERE t.order_number = o.order_number OFFSET 0) x
      ON CONFLICT (order_number) DO UPDATE SET lines = excluded.lines;
      RETURN n;
    END IF;
  END IF;
  DELETE FROM analytics.order_registry o$n$;
BEGIN
  IF position(cur IN def) = 0 THEN
    RAISE EXCEPTION 'rollup_rebuild_registry_range: analytics.rollup_rebuild() is not the function this change made';
  END IF;
  def := replace(def, cur, $o$  -- the registry of the orders with lines in the range (their lines anywhere)
  DELETE FROM analytics.order_registry o$o$);
  def := replace(def, E'  v_direct boolean;\n  v_orders text[];\n  v_size float8;\n', E'  v_direct boolean;\n');
  EXECUTE def;
END $patch$;

COMMIT;

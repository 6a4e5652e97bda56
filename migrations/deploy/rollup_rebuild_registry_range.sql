-- Deploy techmart:rollup_rebuild_registry_range to pg
-- requires: rollup_rebuild_insert_c
--
-- analytics.rollup_rebuild(): the order registry of the rebuilt range recounted from the range's
-- orders, one probe of transactions_order_idx per order, when they are few for the size of the table
-- (fewer than reltuples / 200: an order has ~20 lines in the Online Retail data, a probe costs about
-- as much as reading 150-200 lines sequentially). Before, the two statements joined the range's
-- orders with every line of transactions (a sequential scan of the whole table each, whatever the
-- range): an import of the next months on top of a large database paid for all of it (10,281 lines
-- on top of 421,340: ~0.1 s of the rebuild). Otherwise (a first import, a table never analysed:
-- reltuples -1 or 0, a range of most of the table) the same two statements as before. Same registry
-- rows either way (the DELETE of the range's orders before the INSERT ... ON CONFLICT DO UPDATE of
-- the same orders is not needed on the probe path).
BEGIN;

DO $patch$
DECLARE
  def text := pg_get_functiondef('analytics.rollup_rebuild(timestamptz, timestamptz)'::regprocedure);
  old text := $o$  -- the registry of the orders with lines in the range (their lines anywhere)
  DELETE FROM analytics.order_registry o$o$;
  new text := $n$  -- the registry of the orders with lines in the range (their lines anywhere); (change
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
  IF position(old IN def) = 0 OR position(E'  v_direct boolean;\n' IN def) = 0 THEN
    RAISE EXCEPTION 'rollup_rebuild_registry_range: analytics.rollup_rebuild() is not the function of change rollup_rebuild_insert_c'
      USING HINT = 'adapt migrations/deploy/rollup_rebuild_registry_range.sql';
  END IF;
  def := replace(def, old, new);
  def := replace(def, E'  v_direct boolean;\n', E'  v_direct boolean;\n  v_orders text[];\n  v_size float8;\n');
  EXECUTE def;
END $patch$;

COMMIT;

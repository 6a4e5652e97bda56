-- Revert techmart:low_stock_count_bounded from pg
BEGIN;

CREATE OR REPLACE FUNCTION analytics.low_stock_count(p_as_of timestamp with time zone DEFAULT now())
 RETURNS bigint
 LANGUAGE plpgsql
 STABLE
 SET plan_cache_mode TO 'force_generic_plan'
AS $function$
BEGIN
  -- the products low now (partial index), corrected by the products whose stock changed after p_as_of
  RETURN (
    WITH ch AS (
      SELECT h.product_id, sum(h.change) AS change FROM bi.inventory_history h
       WHERE h.changed_at > p_as_of GROUP BY h.product_id
    )
    SELECT (SELECT count(*) FROM bi.products p WHERE p.stock_quantity <= p.low_stock_threshold)
         - (SELECT count(*) FROM ch JOIN bi.products p ON p.id = ch.product_id
             WHERE p.stock_quantity <= p.low_stock_threshold)
         + (SELECT count(*) FROM ch JOIN bi.products p ON p.id = ch.product_id
             WHERE p.stock_quantity - ch.change <= p.low_stock_threshold));
END $function$
;
COMMENT ON FUNCTION analytics.low_stock_count(timestamptz) IS
  'Number of products at or below their low-stock threshold at p_as_of: the products low now (partial index on '
  'products) corrected by those whose stock changed in inventory_history after p_as_of';

COMMIT;

-- Revert techmart:products_stock_hot from pg
BEGIN;

CREATE INDEX products_low_stock_idx ON products (id) WHERE stock_quantity <= low_stock_threshold;

CREATE OR REPLACE FUNCTION analytics.low_stock_count(p_as_of timestamptz DEFAULT now()) RETURNS bigint
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  v_changes bigint;
BEGIN
  SELECT count(*) INTO v_changes
    FROM (SELECT 1 FROM bi.inventory_history h WHERE h.changed_at > p_as_of LIMIT 5000) x;
  IF v_changes < 5000 THEN
    -- few changes since p_as_of (the present, a quiet day): the products low now (partial index on products)
    -- corrected by the products whose stock changed after p_as_of
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
  END IF;
  -- many: a product's stock at p_as_of is the quantity before its first change after p_as_of, or its stock now
  RETURN (
    SELECT count(*) FROM bi.products p
     WHERE coalesce((SELECT h.previous_quantity FROM bi.inventory_history h
                      WHERE h.product_id = p.id AND h.changed_at > p_as_of
                      ORDER BY h.changed_at, h.id LIMIT 1), p.stock_quantity) <= p.low_stock_threshold);
END $$;
COMMENT ON FUNCTION analytics.low_stock_count(timestamptz) IS
  'Number of products at or below their low-stock threshold at p_as_of: with fewer than 5,000 stock changes after p_as_of '
  'the products low now (partial index on products) corrected by those changes; with more, each product''s quantity '
  'before its first change after p_as_of (one index probe per product): bounded by the catalogue, not by the sales';

COMMIT;

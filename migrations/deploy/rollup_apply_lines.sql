-- Deploy techmart:rollup_apply_lines to pg
-- requires: rollup_registry_c
--
-- Rollup upkeep (issue 4: bulk insert throughput with rollups >= 80 % of the fraud trigger alone):
-- the sales rollup insert trigger of a bulk statement (more than 64 lines) hands its line versions
-- to the C apply through a cursor instead of fifteen array_agg()s: it opens the lines query
-- (template 'lines_c': template 'apply_c_orders' up to the line versions joined with their
-- products, the 15 columns of the arrays) as a cursor and calls analytics.rollup_apply(slot,
-- cursor) (C, extension/pg/rollup_deltas.cpp: an overload of rollup_apply), which fetches every row
-- from the portal straight into its line buffer and then writes the same deltas as
-- rollup_apply(slot, the 15 arrays): the same code from the line buffer on, the same rows. The
-- arrays cost ~10 ms CPU per 10,000 lines (building 15 arrays element by element, then
-- deconstructing them).
--
-- Everything else is as change rollup_registry_c left it: the registry written by
-- rollup_registry_add in the same subtransaction, -1 from the C apply (not applicable; the cursor is
-- left unread and closed) runs the SQL upsert of the buckets, a unique_violation in either redoes
-- both with the SQL upserts, statements of up to 64 lines, UPDATE and DELETE keep the SQL. The
-- trigger function is planned with cursor_tuple_fraction = 1 (the cursor is read whole: the plan of
-- the whole result, as for EXECUTE).
--
-- The C function is declared here, not in the extension script (the extension's version stays).
BEGIN;

LOCK TABLE analytics.sales_hourly, analytics.order_registry IN EXCLUSIVE MODE;

CREATE FUNCTION analytics.rollup_apply(slot smallint, lines refcursor)
RETURNS bigint
AS '$libdir/techmart', 'techmart_rollup_apply_lines'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION analytics.rollup_apply(smallint, refcursor) IS
  'rollup_apply(slot, the 15 arrays) with the line versions read from the open cursor `lines` (columns: sign int4, '
  'id int8, order_number text, transaction_time timestamptz, status text, amount numeric, quantity int4, '
  'is_suspicious bool, kind text, product text, category text, country text, platform text, payment_method text, '
  'customer_id int8; another shape is an error). Returns the buckets written, -1 when it does not apply (the cursor '
  'is left unread; the caller runs the SQL upsert); unique_violation when another transaction inserted one of the '
  'buckets meanwhile. For the rollup insert trigger only';
REVOKE EXECUTE ON FUNCTION analytics.rollup_apply(smallint, refcursor) FROM PUBLIC;

-- template lines_c: apply_c_orders up to its line versions (CTEs lines, others, both_), then the 15
-- columns of the arrays, row by row
DO $$
DECLARE
  src text := (SELECT sql FROM analytics.rollup_sql WHERE step = 'apply_c_orders');
  cut text := E'    ),\n    -- 3. the per-bucket deltas, sorted by (dim, hour, key)';
  i integer := position(cut IN src);
  out text;
BEGIN
  IF i = 0 OR position('both_ AS NOT MATERIALIZED' IN src) = 0 THEN
    RAISE EXCEPTION 'rollup_apply_lines: rollup template apply_c_orders lacks the CTE both_ of change rollup_registry_c'
      USING HINT = 'an earlier change edited the templates: adapt migrations/deploy/rollup_apply_lines.sql';
  END IF;
  out := left(src, i - 1) || $tail$    )
    -- 3. the line versions with their category, read row by row by analytics.rollup_apply(slot, cursor) (C),
    --    which computes the per-bucket deltas (analytics.rollup_deltas) and adds them to this backend's slot
    SELECT a.sign, a.id, a.order_number, a.transaction_time, a.status::text, a.amount::numeric, a.quantity,
           a.is_suspicious, a.kind::text, a.product_id::text, p.category_id::text, a.country::text, a.platform::text,
           a.payment_method::text, a.customer_id
      FROM both_ a LEFT JOIN products p ON p.id = a.product_id
$tail$;
  IF position('array_agg' IN out) > 0 OR regexp_count(out, '\$1') <> 1 THEN
    RAISE EXCEPTION 'rollup_apply_lines: template lines_c not as expected: %', out;
  END IF;
  INSERT INTO analytics.rollup_sql (step, sql) VALUES ('lines_c', out);
END $$;

-- the three trigger functions regenerated from the templates (migrations/lib/rollup_triggers.sql: with
-- the template lines_c, the insert trigger hands its lines to the C apply through a cursor)
\ir ../lib/rollup_triggers.sql

COMMIT;

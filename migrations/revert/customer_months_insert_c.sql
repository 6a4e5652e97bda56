-- Revert techmart:customer_months_insert_c from pg
-- the PL/pgSQL trigger function of change customer_months (pg_get_functiondef)
BEGIN;

CREATE OR REPLACE FUNCTION analytics.customer_months_insert_trigger()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$
DECLARE a bigint[]; b timestamptz[]; c text[]; d boolean[]; e bigint[]; f numeric[];
BEGIN
  SELECT array_agg(n.customer_id), array_agg(n.transaction_time),
         array_agg(CASE WHEN n.status = 'completed' THEN n.order_number END), array_agg(n.status = 'completed'),
         array_agg(CASE WHEN n.kind = 'refund' THEN -n.quantity ELSE n.quantity END::bigint),
         array_agg(CASE WHEN n.kind = 'refund' THEN -n.amount::numeric ELSE n.amount::numeric END)
    INTO a, b, c, d, e, f
    FROM new_rows n WHERE n.status = 'completed' OR n.kind = 'refund';
  IF a IS NOT NULL THEN
    PERFORM analytics.customer_months_add(a, b, c, d, e, f);
  END IF;
  RETURN NULL;
END $function$;

COMMENT ON FUNCTION analytics.customer_months_insert_trigger() IS NULL;

COMMIT;

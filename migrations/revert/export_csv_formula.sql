-- Revert techmart:export_csv_formula from pg (the function of export_csv_iso)
BEGIN;

CREATE OR REPLACE FUNCTION api.export_transactions(p jsonb)
RETURNS TABLE (id bigint, transaction_time text, customer_id bigint, product_id bigint,
               quantity integer, unit_price numeric, amount numeric, status text, payment_method text,
               platform text, order_number text, country text, fraud_score numeric, is_suspicious text,
               label text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  PERFORM api._tx_check(p);
  RETURN QUERY EXECUTE
    'SELECT t.id, to_jsonb(t.transaction_time) #>> ''{}'', t.customer_id, t.product_id, t.quantity, t.unit_price::numeric,
            t.amount::numeric, t.status, t.payment_method, t.platform, t.order_number, t.country::text,
            t.fraud_score, CASE WHEN t.is_suspicious THEN ''true'' ELSE ''false'' END, t.label
       FROM transactions t WHERE ' || api._tx_where() || ' ' || api._order_by(p, 'id', 't.')
    || ' LIMIT $12 OFFSET $13'
    USING api._time(p->>'from'), api._time(p->>'to'), p->>'status', (p->>'customer_id')::bigint,
          (p->>'product_id')::bigint, (p->>'category_id')::bigint, p->>'country', (p->>'min_score')::numeric,
          (p->>'max_score')::numeric, (p->>'suspicious')::boolean, p->>'label',
          (p->>'limit')::bigint, coalesce((p->>'offset')::bigint, 0);
END $$;
COMMENT ON FUNCTION api.export_transactions(jsonb) IS
  'GET /api/v1/transactions/export (CSV via COPY): transaction_time in ISO 8601 with its offset and is_suspicious as true/false, as in the JSON of GET /api/v1/transactions';

DROP FUNCTION api.csv_text(text);

COMMIT;

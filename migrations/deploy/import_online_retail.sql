-- Deploy techmart:import_online_retail to pg
-- requires: refunds
--
-- Import of sales history in the format of the UCI "Online Retail" dataset (docs/import.md):
--
--   \copy import.online_retail_raw FROM 'file.csv' (FORMAT csv, HEADER)
--   SELECT * FROM import.online_retail('file.csv');
--
-- import.online_retail() validates every staged line (all errors with their line numbers, and
-- then nothing is imported), maps invoices to orders, lines to transactions (refund rows for
-- cancellations), StockCodes to products, CustomerIDs to customers (guests per country without
-- one), country names to ISO codes; loads with fraud scoring and the rollup trigger off and
-- rebuilds the rollups and the per-customer fraud state of what it loaded in one pass. It runs in
-- the caller's transaction: a failure leaves nothing. Lines are keyed by (InvoiceNo, position
-- of the line within its invoice) in import.online_retail_line: importing a file again adds
-- nothing, importing the next months adds only their lines.
BEGIN;

CREATE SCHEMA import;
COMMENT ON SCHEMA import IS 'Import of sales history from files (docs/import.md): staging tables, mapping rules, ledger';

-- ------------------------------------------------------------------ staging
CREATE UNLOGGED TABLE import.online_retail_raw (
  invoice_no   text,
  stock_code   text,
  description  text,
  quantity     text,
  invoice_date text,
  unit_price   text,
  customer_id  text,
  country      text
);
COMMENT ON TABLE import.online_retail_raw IS
  'Staging table for one Online Retail CSV file, columns in file order (InvoiceNo, StockCode, Description, Quantity, '
  'InvoiceDate, UnitPrice, CustomerID, Country), all text: TRUNCATE it, then \copy import.online_retail_raw FROM '
  '''file.csv'' (FORMAT csv, HEADER). Line numbers are taken from the physical order of the rows, which is the file '
  'order when the table was truncated (not DELETEd) before the copy. Unlogged: staging only';

-- ------------------------------------------------------------------ mapping rules (data, editable)
CREATE TABLE import.country (
  name    text PRIMARY KEY,
  code    country_code NOT NULL,
  is_iso  boolean NOT NULL DEFAULT true,
  note    text
);
COMMENT ON TABLE import.country IS
  'Country names of the source files -> ISO 3166-1 alpha-2 (is_iso false: a code outside the official list, see note). '
  'A name missing here is a validation error, never dropped: add a row and import again';
INSERT INTO import.country (name, code, is_iso, note) VALUES
  ('United Kingdom', 'GB', true, NULL), ('France', 'FR', true, NULL), ('Australia', 'AU', true, NULL),
  ('Netherlands', 'NL', true, NULL), ('Germany', 'DE', true, NULL), ('Norway', 'NO', true, NULL),
  ('EIRE', 'IE', true, 'alias: Ireland (Irish name of the state)'), ('Ireland', 'IE', true, NULL),
  ('Switzerland', 'CH', true, NULL), ('Spain', 'ES', true, NULL), ('Poland', 'PL', true, NULL),
  ('Portugal', 'PT', true, NULL), ('Italy', 'IT', true, NULL), ('Belgium', 'BE', true, NULL),
  ('Lithuania', 'LT', true, NULL), ('Japan', 'JP', true, NULL), ('Iceland', 'IS', true, NULL),
  ('Channel Islands', 'XC', false,
   'Jersey (JE) and Guernsey (GG) cannot be told apart in the data: user-assigned code XC (ISO 3166-1 reserves '
   'XA-XZ for users) rather than attributing both to one of them'),
  ('Jersey', 'JE', true, NULL), ('Guernsey', 'GG', true, NULL),
  ('Denmark', 'DK', true, NULL), ('Cyprus', 'CY', true, NULL), ('Sweden', 'SE', true, NULL),
  ('Austria', 'AT', true, NULL), ('Israel', 'IL', true, NULL), ('Finland', 'FI', true, NULL),
  ('Bahrain', 'BH', true, NULL), ('Greece', 'GR', true, NULL), ('Hong Kong', 'HK', true, NULL),
  ('Singapore', 'SG', true, NULL), ('Lebanon', 'LB', true, NULL), ('United Arab Emirates', 'AE', true, NULL),
  ('Saudi Arabia', 'SA', true, NULL), ('Czech Republic', 'CZ', true, NULL), ('Czechia', 'CZ', true, NULL),
  ('Canada', 'CA', true, NULL), ('Brazil', 'BR', true, NULL), ('Malta', 'MT', true, NULL),
  ('USA', 'US', true, 'alias: United States'), ('United States', 'US', true, NULL),
  ('RSA', 'ZA', true, 'alias: Republic of South Africa'), ('South Africa', 'ZA', true, NULL),
  ('European Community', 'EU', false,
   'not a country: EU is exceptionally reserved in ISO 3166-1 for the European Union; kept as its own key'),
  ('Unspecified', 'ZZ', false, 'no country given: ZZ (user-assigned, the conventional "unknown region")');

CREATE TABLE import.special_code (
  pattern     text PRIMARY KEY,
  reason      text NOT NULL CHECK (reason ~ '^[a-z_]+$'),
  description text NOT NULL
);
COMMENT ON TABLE import.special_code IS
  'StockCodes that are not products (upper(StockCode) LIKE pattern): their lines are set aside as '
  'non_product:<reason>, in sales and cancellations alike, and reported in the summary';
INSERT INTO import.special_code (pattern, reason, description) VALUES
  ('POST', 'postage', 'postage charged'),
  ('DOT', 'postage', 'DOTCOM postage'),
  ('C2', 'carriage', 'carriage charged'),
  ('M', 'manual', 'manual booking (price corrections, misc.)'),
  ('D', 'discount', 'discount'),
  ('S', 'samples', 'samples'),
  ('B', 'bad_debt', 'adjust bad debt'),
  ('BANK CHARGES', 'bank_charges', 'bank charges'),
  ('AMAZONFEE', 'amazon_fee', 'Amazon fee'),
  ('CRUK', 'commission', 'CRUK commission'),
  ('PADS', 'pads', 'PADS TO MATCH ALL CUSHIONS (price placeholder)'),
  ('GIFT\_%', 'gift_voucher', 'gift vouchers (a voucher is not a product sale)');

CREATE TABLE import.category_rule (
  priority integer PRIMARY KEY,
  category text NOT NULL,
  pattern  text NOT NULL
);
COMMENT ON TABLE import.category_rule IS
  'Category of a new product: the first rule (lowest priority) whose regular expression matches the upper-case '
  'product name (word boundaries \m \M); no match: category ''Gifts & Other''';
INSERT INTO import.category_rule (priority, category, pattern) VALUES
  (10, 'Christmas', '\m(CHRISTMAS|XMAS|ADVENT|SANTA|REINDEER|SNOWFLAKES?|BAUBLES?|NATIVITY)\M'),
  (20, 'Lighting', '\m(LIGHTS?|T-LIGHTS?|TEA ?LIGHTS?|LANTERNS?|CANDLES?|LAMPS?|NIGHTLIGHT|CANDLEHOLDER)\M'),
  (30, 'Kitchen & Dining', '\m(MUGS?|CUPS?|SAUCERS?|PLATES?|BOWLS?|TEAPOT|TEA|CAKES?|CAKESTAND|CUPCAKES?|BAKING|'
                           'CUTLERY|SPOONS?|NAPKINS?|TRAYS?|BOTTLES?|LUNCH|KITCHEN|APRON|GLASS|JUGS?|COASTERS?|'
                           'PLACEMATS?|TUMBLERS?|RECIPE|SUGAR|EGG|JELLY|COOKIE|CUTTERS?|PANTRY|OVEN|CHOPPING)\M'),
  (40, 'Bags & Storage', '\m(BAGS?|PURSES?|BOX|BOXES|TINS?|BASKETS?|STORAGE|JARS?|HAMPER|CASE|WASHBAG|SHOPPER)\M'),
  (50, 'Stationery & Cards', '\m(CARDS?|WRAP|PAPER|NOTEBOOKS?|NOTEPAD|PENS?|PENCILS?|STICKERS?|TAPE|ENVELOPES?|'
                             'CALENDAR|DIARY|ERASERS?|RULER|JOURNAL|TAGS?|RIBBONS?|CRAYONS|CHALK|STAMPS?)\M'),
  (60, 'Toys & Games', '\m(TOYS?|GAMES?|PUZZLES?|JIGSAW|DOLLY|DOLL|SPACEBOY|SKITTLES|DOMINOES|PLAYHOUSE|TEDDY|'
                       'CIRCUS|SOLDIERS?|SPINNING|BALLOONS?|PARTY|BINGO|COLOURING|PAINTING|KIDS|CHILDS?)\M'),
  (70, 'Home Decor', '\m(HEARTS?|FRAMES?|CLOCK|CUSHION|DOORMAT|SIGNS?|MIRROR|VASE|DECORATIONS?|HOOKS?|HANGERS?|'
                     'WREATH|GARLAND|BUNTING|CHIMES?|ORNAMENTS?|DOORSTOP|HANGING|WALL|DRAWERS?|CABINET|SHELF|'
                     'BLANKET|THROW|QUILT)\M'),
  (80, 'Garden & Outdoor', '\m(GARDEN|PLANTS?|PLANTERS?|FLOWER POT|BIRDS?|BIRDHOUSE|WATERING|GNOME|HERBS?|SEEDS?|'
                           'PARASOL|PICNIC)\M'),
  (90, 'Fashion & Accessories', '\m(NECKLACE|BRACELET|EARRINGS|RING|HAIR|UMBRELLA|SCARF|GLOVES|HAT|JEWEL|BROOCH|'
                                'CHARMS?|KEYRING|HANDBAG|SLIPPERS|WATCH|SUNGLASSES)\M');

CREATE FUNCTION import.category_of(p_name text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT coalesce((SELECT r.category FROM import.category_rule r WHERE upper(p_name) ~ r.pattern
                    ORDER BY r.priority LIMIT 1), 'Gifts & Other')
$$;
COMMENT ON FUNCTION import.category_of(text) IS
  'The category name import.category_rule gives a product name (fallback: Gifts & Other)';

-- ------------------------------------------------------------------ parsing helpers
-- 'YYYY-MM-DD HH:MM[:SS]' in UK local time (Europe/London) -> timestamptz; NULL when not a
-- valid time (never an error: the validation reports the line instead). One expression, so
-- that the planner inlines it.
CREATE FUNCTION import.uk_time(p text) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN btrim(p) ~ '^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?$'
               AND substr(btrim(p), 1, 4)::int BETWEEN 1900 AND 2999
               AND substr(btrim(p), 6, 2)::int BETWEEN 1 AND 12
               AND substr(btrim(p), 9, 2)::int BETWEEN 1 AND
                   CASE WHEN substr(btrim(p), 6, 2)::int = 2 THEN
                          CASE WHEN substr(btrim(p), 1, 4)::int % 4 = 0
                                AND (substr(btrim(p), 1, 4)::int % 100 <> 0 OR substr(btrim(p), 1, 4)::int % 400 = 0)
                               THEN 29 ELSE 28 END
                        WHEN substr(btrim(p), 6, 2)::int IN (4, 6, 9, 11) THEN 30 ELSE 31 END
               AND substr(btrim(p), 12, 2)::int < 24 AND substr(btrim(p), 15, 2)::int < 60
               AND coalesce(nullif(substr(btrim(p), 18, 2), ''), '0')::int < 60
              THEN btrim(p)::timestamp AT TIME ZONE 'Europe/London' END
$$;
COMMENT ON FUNCTION import.uk_time(text) IS
  'Online Retail InvoiceDate (YYYY-MM-DD HH:MM[:SS], UK local time) as timestamptz (Europe/London, daylight saving '
  'time included; in the repeated hour of the autumn change the earlier, summer-time instant); NULL if invalid';

-- the staged lines, numbered, parsed and validated (one row per CSV record, in file order).
-- Each column has far fewer distinct values than the file has lines (a few thousand times,
-- prices, customers): every distinct value is parsed once and joined back.
CREATE VIEW import.online_retail_parsed AS
WITH r AS (
  SELECT row_number() OVER (ORDER BY r.ctid) + 1 AS line, r.*
    FROM import.online_retail_raw r
), iv AS (
  SELECT x.v, upper(btrim(x.v)) AS inv, upper(btrim(x.v)) ~ '^[A-Z]?\d{1,20}$' AS ok
    FROM (SELECT DISTINCT invoice_no AS v FROM import.online_retail_raw) x
), q AS (
  SELECT x.v, CASE WHEN x.v ~ '^\s*[+-]?\d{1,9}\s*$' THEN x.v::int END AS qty
    FROM (SELECT DISTINCT quantity AS v FROM import.online_retail_raw) x
), d AS (
  SELECT x.v, import.uk_time(x.v) AS ts
    FROM (SELECT DISTINCT invoice_date AS v FROM import.online_retail_raw) x
), pr AS (
  SELECT x.v, CASE WHEN x.v ~ '^\s*[+-]?(\d{1,11}(\.\d{0,3})?|\.\d{1,3})\s*$' THEN x.v::numeric END AS price
    FROM (SELECT DISTINCT unit_price AS v FROM import.online_retail_raw) x
), cu AS (
  SELECT x.v, CASE WHEN x.v ~ '^\s*\d{1,15}(\.0*)?\s*$' THEN split_part(btrim(x.v), '.', 1)::bigint END AS cust
    FROM (SELECT DISTINCT customer_id AS v FROM import.online_retail_raw) x
), p AS (
  SELECT r.line, r.invoice_no, r.stock_code, r.description, r.quantity, r.invoice_date, r.unit_price,
         r.customer_id, r.country,
         iv.inv, iv.ok AS inv_ok,
         btrim(r.stock_code) AS sku,
         nullif(btrim(r.description), '') AS descr,
         q.qty, d.ts, pr.price, cu.cust,
         c.code AS cc
    FROM r LEFT JOIN iv ON iv.v = r.invoice_no
           LEFT JOIN q ON q.v = r.quantity
           LEFT JOIN d ON d.v = r.invoice_date
           LEFT JOIN pr ON pr.v = r.unit_price
           LEFT JOIN cu ON cu.v = r.customer_id
           LEFT JOIN import.country c ON c.name = btrim(r.country)
)
SELECT p.line, p.invoice_no, p.stock_code, p.description, p.quantity, p.invoice_date, p.unit_price,
       p.customer_id, p.country, p.inv, p.sku, p.descr, p.qty, p.ts, p.price, p.cust, p.cc,
       array_remove(ARRAY[
         CASE WHEN p.inv IS NULL OR p.inv = '' THEN 'InvoiceNo: missing'
              WHEN NOT p.inv_ok THEN format('InvoiceNo: "%s" is not an invoice number (digits, optionally after one letter such as C)', p.invoice_no) END,
         CASE WHEN p.sku IS NULL OR p.sku = '' THEN 'StockCode: missing' END,
         CASE WHEN p.quantity IS NULL OR btrim(p.quantity) = '' THEN 'Quantity: missing'
              WHEN p.qty IS NULL THEN format('Quantity: "%s" is not an integer', p.quantity) END,
         CASE WHEN p.invoice_date IS NULL OR btrim(p.invoice_date) = '' THEN 'InvoiceDate: missing'
              WHEN p.ts IS NULL THEN format('InvoiceDate: "%s" is not a valid YYYY-MM-DD HH:MM:SS time', p.invoice_date) END,
         CASE WHEN p.unit_price IS NULL OR btrim(p.unit_price) = '' THEN 'UnitPrice: missing'
              WHEN p.price IS NULL THEN format('UnitPrice: "%s" is not a price (at most 3 decimals)', p.unit_price) END,
         CASE WHEN p.customer_id IS NOT NULL AND btrim(p.customer_id) <> '' AND p.cust IS NULL
              THEN format('CustomerID: "%s" is not a customer number', p.customer_id) END,
         CASE WHEN p.country IS NULL OR btrim(p.country) = '' THEN 'Country: missing'
              WHEN p.cc IS NULL THEN format('Country: "%s" is not in import.country (add a row mapping it to an ISO code)', p.country) END
       ]::text[], NULL) AS errors
  FROM p;
COMMENT ON VIEW import.online_retail_parsed IS
  'import.online_retail_raw numbered (line = line of the CSV file, the header being line 1), parsed (inv, sku, descr, '
  'qty, ts, price, cust, cc; NULL when invalid) and validated (errors: one message per invalid field)';

CREATE FUNCTION import.online_retail_errors()
RETURNS TABLE (line bigint, message text)
LANGUAGE sql STABLE AS $$
  SELECT p.line, e FROM import.online_retail_parsed p CROSS JOIN LATERAL unnest(p.errors) e
   WHERE cardinality(p.errors) > 0
   ORDER BY p.line
$$;
COMMENT ON FUNCTION import.online_retail_errors() IS
  'Every invalid field of the staged file, with its line number (the header is line 1); empty when the file is valid';

-- ------------------------------------------------------------------ ledger
CREATE TABLE import.online_retail_batch (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  file_name    text,
  imported_at  timestamptz NOT NULL DEFAULT now(),
  imported_by  text NOT NULL DEFAULT current_user,
  rows_read    bigint NOT NULL,
  rows_new     bigint NOT NULL,
  transactions bigint NOT NULL,
  seconds      numeric,
  summary      jsonb NOT NULL
);
COMMENT ON TABLE import.online_retail_batch IS 'One row per run of import.online_retail() that found new lines, with its summary';

CREATE TABLE import.online_retail_line (
  invoice_no     text COLLATE "C" NOT NULL,
  line_no        integer NOT NULL,
  batch_id       bigint NOT NULL REFERENCES import.online_retail_batch (id),
  raw_hash       bigint NOT NULL,
  outcome        text NOT NULL,
  transaction_id bigint,
  PRIMARY KEY (invoice_no, line_no)
);
COMMENT ON TABLE import.online_retail_line IS
  'Every imported source line, keyed by (InvoiceNo, position of the line within its invoice in the file): outcome sale or '
  'refund with its transaction_id, or the reason it was set aside. raw_hash (hashtextextended of the 8 fields) detects a line that '
  'changed since it was imported (reported as set aside "changed_since_import", never applied)';
CREATE INDEX online_retail_line_tx_idx ON import.online_retail_line (transaction_id) WHERE transaction_id IS NOT NULL;

-- ------------------------------------------------------------------ the import
CREATE FUNCTION import.online_retail(p_file_name text DEFAULT NULL)
RETURNS TABLE (section text, reason text, lines bigint, amount numeric)
LANGUAGE plpgsql VOLATILE SET search_path = public, pg_temp SET work_mem = '256MB' AS $$
DECLARE
  t0        timestamptz := clock_timestamp();
  t         timestamptz := clock_timestamp();
  n_read    bigint;
  n_err     bigint;
  n_new     bigint;
  n_tx      bigint;
  n_cust    bigint;
  n_prod    bigint;
  v_batch   bigint;
  v_from    timestamptz;
  v_to      timestamptz;
  v_errs    jsonb;
  v_first   text;
  v_scoring text;
  v_state   text;
  v_summary jsonb;
  v_seq     text := pg_get_serial_sequence('public.transactions', 'id');
  v_tmp     text;
  v_prev    text;
BEGIN
  -- one import at a time (the ledger decides what is new)
  LOCK TABLE import.online_retail_line IN EXCLUSIVE MODE;

  -- 1. parse and validate
  -- (a second import in the same transaction: the temporary tables of the first are still there)
  FOREACH v_tmp IN ARRAY ARRAY['or_parsed', 'or_stage', 'or_cust', 'or_cust_id', 'or_new_prod', 'or_summary'] LOOP
    IF to_regclass('pg_temp.' || v_tmp) IS NOT NULL THEN
      EXECUTE format('DROP TABLE pg_temp.%I', v_tmp);
    END IF;
  END LOOP;
  CREATE TEMP TABLE or_parsed ON COMMIT DROP AS
  SELECT p.line, p.inv, p.sku, p.descr, p.qty, p.ts, p.price, p.cust, p.cc, p.errors,
         row_number() OVER (PARTITION BY p.inv ORDER BY p.line)::int AS line_no,
         hashtextextended(concat_ws(E'\x1f', p.invoice_no, p.stock_code, p.description, p.quantity, p.invoice_date,
                                    p.unit_price, p.customer_id, p.country), 0) AS raw_hash
    FROM import.online_retail_parsed p;
  GET DIAGNOSTICS n_read = ROW_COUNT;
  SELECT count(*), jsonb_agg(jsonb_build_object('line', e.line, 'message', e.msg) ORDER BY e.rn)
           FILTER (WHERE e.rn <= 100),
         string_agg(format('line %s: %s', e.line, e.msg), E'\n' ORDER BY e.rn) FILTER (WHERE e.rn <= 20)
    INTO n_err, v_errs, v_first
    FROM (SELECT s.line, m.msg, row_number() OVER (ORDER BY s.line, m.ord) AS rn
            FROM or_parsed s CROSS JOIN LATERAL unnest(s.errors) WITH ORDINALITY m(msg, ord)
           WHERE cardinality(s.errors) > 0) e;
  IF n_err > 0 THEN
    RAISE EXCEPTION E'online retail import: % invalid field(s) in % line(s); nothing was imported\n%',
                    n_err, (SELECT count(*) FROM or_parsed WHERE cardinality(errors) > 0),
                    v_first || CASE WHEN n_err > 20 THEN E'\n...' ELSE '' END
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = jsonb_build_object('errors', v_errs, 'count', n_err)::text,
            HINT = 'SELECT * FROM import.online_retail_errors() lists every invalid field with its line number';
  END IF;
  RAISE NOTICE 'import [1/6] read and validated % lines (% ms)', n_read, round(extract(epoch FROM clock_timestamp() - t) * 1000);
  t := clock_timestamp();

  -- 2. classify; lines already imported (same InvoiceNo and position in it) are skipped
  CREATE TEMP TABLE or_stage ON COMMIT DROP AS
  SELECT c.*, CASE WHEN c.outcome IN ('sale', 'refund') THEN nextval(v_seq) END AS tx_id,
         CASE WHEN c.cust IS NULL THEN 'guest-' || lower(c.cc) ELSE 'c' || c.cust END || '@online-retail.example' AS email
    FROM (SELECT p.line, p.inv, p.line_no, p.sku, p.descr, p.qty, p.ts, p.price, p.cust, p.cc, p.raw_hash,
                 CASE
                   WHEN l.invoice_no IS NOT NULL THEN
                     CASE WHEN l.raw_hash = p.raw_hash THEN 'already_imported' ELSE 'changed_since_import' END
                   WHEN sc.reason IS NOT NULL THEN 'non_product:' || sc.reason
                   WHEN p.price < 0 THEN 'negative_price'
                   WHEN p.price = 0 THEN 'zero_price'
                   WHEN p.qty = 0 THEN 'zero_quantity'
                   WHEN p.inv LIKE 'C%' AND p.qty < 0 THEN 'refund'
                   WHEN p.inv LIKE 'C%' THEN 'cancellation_with_positive_quantity'
                   WHEN p.qty < 0 THEN 'negative_quantity'
                   ELSE 'sale' END AS outcome
            FROM or_parsed p
            LEFT JOIN import.online_retail_line l ON l.invoice_no = p.inv AND l.line_no = p.line_no
            LEFT JOIN (SELECT DISTINCT ON (k.sku) k.sku, x.reason
                         FROM (SELECT DISTINCT sku FROM or_parsed) k
                         JOIN import.special_code x ON upper(k.sku) LIKE x.pattern
                        ORDER BY k.sku, length(x.pattern) DESC, x.pattern) sc ON sc.sku = p.sku
           ORDER BY p.ts, p.line) c;
  SELECT count(*) FILTER (WHERE outcome NOT IN ('already_imported', 'changed_since_import')),
         count(*) FILTER (WHERE outcome IN ('sale', 'refund')),
         min(ts) FILTER (WHERE outcome IN ('sale', 'refund')), max(ts) FILTER (WHERE outcome IN ('sale', 'refund'))
    INTO n_new, n_tx, v_from, v_to FROM or_stage;
  RAISE NOTICE 'import [2/6] % new lines, % to import as sales and refunds (% ms)',
               n_new, n_tx, round(extract(epoch FROM clock_timestamp() - t) * 1000);
  t := clock_timestamp();

  IF n_new > 0 THEN
    INSERT INTO import.online_retail_batch (file_name, rows_read, rows_new, transactions, summary)
    VALUES (p_file_name, n_read, n_new, n_tx, '{}') RETURNING id INTO v_batch;
  END IF;

  IF n_tx > 0 THEN
    -- 3. customers: one per CustomerID, one guest per country for lines without one
    CREATE TEMP TABLE or_cust ON COMMIT DROP AS
    SELECT s.email,
           CASE WHEN s.cust IS NULL THEN 'Online Retail guest (' || s.cc || ')' ELSE 'Online Retail customer ' || s.cust END AS name,
           s.cust, s.cc, count(DISTINCT s.inv) AS invoices, count(*) AS n, min(s.ts) AS first_ts
      FROM or_stage s WHERE s.outcome IN ('sale', 'refund')
     GROUP BY 1, 2, 3, 4;
    INSERT INTO customers (email, name, country, registration_date)
    SELECT DISTINCT ON (c.email) c.email, c.name, c.cc, min(c.first_ts) OVER (PARTITION BY c.email)
      FROM or_cust c
     ORDER BY c.email, c.invoices DESC, c.n DESC, c.cc
    ON CONFLICT ((lower(email))) DO NOTHING;
    GET DIAGNOSTICS n_cust = ROW_COUNT;
    CREATE TEMP TABLE or_cust_id ON COMMIT DROP AS
    SELECT DISTINCT c.email, cu.id
      FROM or_cust c JOIN customers cu ON lower(cu.email) = c.email;

    -- 4. products: new StockCodes (SKU); name = most frequent description, price = most frequent
    --    unit price of its sales (of its refunds when it has no sale; ties: the lower price)
    CREATE TEMP TABLE or_new_prod ON COMMIT DROP AS
    SELECT k.sku, coalesce(d.descr, k.sku) AS name, pr.price, import.category_of(coalesce(d.descr, k.sku)) AS category
      FROM (SELECT DISTINCT s.sku FROM or_stage s WHERE s.outcome IN ('sale', 'refund')
             EXCEPT SELECT p.sku FROM products p) k
      LEFT JOIN (SELECT DISTINCT ON (x.sku) x.sku, x.descr
                   FROM (SELECT s.sku, s.descr, count(*) AS n FROM or_stage s
                          WHERE s.outcome IN ('sale', 'refund') AND s.descr IS NOT NULL GROUP BY 1, 2) x
                  ORDER BY x.sku, x.n DESC, x.descr) d ON d.sku = k.sku
      JOIN (SELECT DISTINCT ON (x.sku) x.sku, x.price
              FROM (SELECT s.sku, s.price, count(*) FILTER (WHERE s.outcome = 'sale') AS ns, count(*) AS n
                      FROM or_stage s WHERE s.outcome IN ('sale', 'refund') GROUP BY 1, 2) x
             ORDER BY x.sku, x.ns DESC, x.n DESC, x.price) pr ON pr.sku = k.sku;
    INSERT INTO categories (name, description)
    SELECT DISTINCT n.category, 'Assigned by the Online Retail import (import.category_rule)' FROM or_new_prod n
    ON CONFLICT (name) DO NOTHING;
    INSERT INTO products (sku, name, category_id, price, stock_quantity, low_stock_threshold)
    SELECT n.sku, n.name, c.id, n.price, 0, 0
      FROM or_new_prod n JOIN categories c ON c.name = n.category
     ORDER BY n.sku;
    GET DIAGNOSTICS n_prod = ROW_COUNT;
    RAISE NOTICE 'import [3/6] % new customers, % new products (% ms)', n_cust, n_prod,
                 round(extract(epoch FROM clock_timestamp() - t) * 1000);
    t := clock_timestamp();

    -- 5. transactions, with fraud scoring and the rollup trigger off (rebuilt below in one pass)
    IF to_regprocedure('techmart.rebuild_state(text)') IS NOT NULL THEN
      PERFORM techmart.version();  -- loads the module, which defines the GUC
      v_prev := current_setting('techmart.scoring');
      PERFORM set_config('techmart.scoring', 'off', true);
      v_scoring := 'techmart.scoring = off';
    ELSE
      ALTER TABLE public.transactions DISABLE TRIGGER transactions_score;
      v_scoring := 'trigger transactions_score disabled';
    END IF;
    ALTER TABLE public.transactions DISABLE TRIGGER transactions_rollup_ins;
    INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, amount, transaction_time, status, kind,
                              payment_method, platform, order_number, country, created_at)
    SELECT s.tx_id, c.id, p.id, abs(s.qty), s.price, abs(s.qty) * s.price, s.ts,
           CASE s.outcome WHEN 'sale' THEN 'completed' ELSE 'refunded' END, s.outcome,
           'unknown', 'web', s.inv, s.cc, s.ts
      FROM or_stage s
      JOIN or_cust_id c ON c.email = s.email
      JOIN products p ON p.sku = s.sku
     WHERE s.outcome IN ('sale', 'refund')
     ORDER BY s.tx_id;
    GET DIAGNOSTICS n_tx = ROW_COUNT;
    ALTER TABLE public.transactions ENABLE TRIGGER transactions_rollup_ins;
    IF v_scoring LIKE 'trigger%' THEN
      ALTER TABLE public.transactions ENABLE TRIGGER transactions_score;
    ELSE
      PERFORM set_config('techmart.scoring', v_prev, true);
    END IF;
    RAISE NOTICE 'import [4/6] % transactions inserted, % (% ms)', n_tx, v_scoring,
                 round(extract(epoch FROM clock_timestamp() - t) * 1000);
    t := clock_timestamp();

    -- 6. one pass each: rollups of the imported hours, customers, fraud state
    PERFORM analytics.rollup_rebuild(v_from, v_to + interval '1 microsecond');
    -- customers touched: home country = the country of most of their invoices (then lines, then
    -- code), registration = first purchase, total_spent = net spend; only changed rows are written
    UPDATE customers cu SET country = x.country, registration_date = x.first_ts, total_spent = x.spent,
                            updated_at = now()
      FROM (SELECT t.customer_id,
                   (SELECT t2.country FROM transactions t2 WHERE t2.customer_id = t.customer_id AND t2.country IS NOT NULL
                     GROUP BY t2.country ORDER BY count(DISTINCT t2.order_number) DESC, count(*) DESC, t2.country LIMIT 1) AS country,
                   min(t.transaction_time) AS first_ts,
                   sum(CASE WHEN t.kind = 'refund' THEN -t.amount WHEN t.status = 'completed' THEN t.amount ELSE 0 END) AS spent
              FROM transactions t
             WHERE t.customer_id IN (SELECT id FROM or_cust_id)
             GROUP BY t.customer_id) x
     WHERE cu.id = x.customer_id
       AND (cu.country, cu.registration_date, cu.total_spent) IS DISTINCT FROM (x.country, x.first_ts, x.spent);
    -- products touched: list price = most frequent unit price of all their sales
    UPDATE products pr SET price = x.price, updated_at = now()
      FROM (SELECT DISTINCT ON (t.product_id) t.product_id, t.unit_price AS price
              FROM transactions t
             WHERE t.product_id IN (SELECT p.id FROM products p WHERE p.sku IN (SELECT DISTINCT sku FROM or_stage WHERE outcome = 'sale'))
               AND t.kind = 'sale'
             GROUP BY t.product_id, t.unit_price
             ORDER BY t.product_id, count(*) DESC, t.unit_price) x
     WHERE pr.id = x.product_id AND pr.price IS DISTINCT FROM x.price;
    IF to_regprocedure('techmart.rebuild_state(text)') IS NOT NULL THEN
      PERFORM techmart.rebuild_state();
      v_state := 'techmart.rebuild_state()';
    ELSE
      -- techmart 0.1 state: Welford statistics of log1p(amount) over every line the trigger
      -- would have seen, recomputed for the customers of this import
      INSERT INTO techmart.customer_state AS cs (customer_id, n, mean, m2, last_amount, last_transaction_time, updated_at)
      SELECT x.customer_id, x.n, x.mean, greatest(x.m2, 0), x.last_amount, x.last_time, now()
        FROM (SELECT t.customer_id, count(*) AS n, avg(techmart.log_amount(t.amount::float8)) AS mean,
                     coalesce(var_pop(techmart.log_amount(t.amount::float8)), 0) * count(*) AS m2,
                     (array_agg(t.amount ORDER BY t.transaction_time DESC, t.id DESC))[1] AS last_amount,
                     max(t.transaction_time) AS last_time
                FROM transactions t WHERE t.customer_id IN (SELECT id FROM or_cust_id)
               GROUP BY t.customer_id) x
      ON CONFLICT (customer_id) DO UPDATE SET n = excluded.n, mean = excluded.mean, m2 = excluded.m2,
        last_amount = excluded.last_amount, last_transaction_time = excluded.last_transaction_time, updated_at = now();
      v_state := 'customer_state recomputed in SQL (techmart < 0.2: no rebuild_state())';
    END IF;
    RAISE NOTICE 'import [5/6] rollups of % .. % rebuilt, customers and products refreshed, fraud state: % (% ms)',
                 v_from, v_to, v_state, round(extract(epoch FROM clock_timestamp() - t) * 1000);
    t := clock_timestamp();
  END IF;

  -- 7. ledger and summary
  IF n_new > 0 THEN
    INSERT INTO import.online_retail_line (invoice_no, line_no, batch_id, raw_hash, outcome, transaction_id)
    SELECT s.inv, s.line_no, v_batch, s.raw_hash, s.outcome, s.tx_id FROM or_stage s
     WHERE s.outcome NOT IN ('already_imported', 'changed_since_import');
  END IF;
  CREATE TEMP TABLE or_summary ON COMMIT DROP AS
  SELECT 'read'::text AS section, 'all'::text AS reason, count(*) AS lines,
         sum(abs(s.qty) * s.price) AS amount, 0 AS ord FROM or_stage s
  UNION ALL
  SELECT CASE WHEN s.outcome IN ('sale', 'refund') THEN 'imported'
              WHEN s.outcome IN ('already_imported', 'changed_since_import') THEN 'skipped' ELSE 'set_aside' END,
         s.outcome, count(*), sum(abs(s.qty) * s.price),
         CASE WHEN s.outcome IN ('sale', 'refund') THEN 1 WHEN s.outcome IN ('already_imported', 'changed_since_import') THEN 3 ELSE 2 END
    FROM or_stage s GROUP BY s.outcome
  UNION ALL
  SELECT 'created', 'customers', coalesce(n_cust, 0), NULL, 4
  UNION ALL
  SELECT 'created', 'products', coalesce(n_prod, 0), NULL, 4;
  SELECT jsonb_object_agg(o.section || ':' || o.reason, jsonb_build_object('lines', o.lines, 'amount', o.amount))
    INTO v_summary FROM or_summary o;
  IF v_batch IS NOT NULL THEN
    UPDATE import.online_retail_batch SET summary = v_summary, transactions = coalesce(n_tx, 0),
                                          seconds = round(extract(epoch FROM clock_timestamp() - t0)::numeric, 3)
     WHERE id = v_batch;
  END IF;
  RAISE NOTICE 'import [6/6] done: % lines read, % new, % transactions, in % s', n_read, n_new, coalesce(n_tx, 0),
               round(extract(epoch FROM clock_timestamp() - t0)::numeric, 2);
  RETURN QUERY SELECT o.section, o.reason, o.lines, o.amount FROM or_summary o ORDER BY o.ord, o.lines DESC, o.reason;
END $$;
COMMENT ON FUNCTION import.online_retail(text) IS
  'Import the Online Retail file staged in import.online_retail_raw (see docs/import.md). Validates every line (all '
  'errors with line numbers in DETAIL, SQLSTATE 22023, nothing imported), books sales (status completed) and '
  'cancellations (refund rows), sets aside non-product and zero-price lines by reason, creates customers and products, '
  'loads with fraud scoring and the rollup trigger off, rebuilds rollups and fraud state; lines already imported '
  '(import.online_retail_line) are skipped. Returns the summary: section read/imported/set_aside/skipped/created, '
  'reason, lines and amount (sum of |quantity| * price). Runs in the caller''s transaction; one import at a time';
REVOKE EXECUTE ON FUNCTION import.online_retail(text) FROM PUBLIC;

COMMIT;

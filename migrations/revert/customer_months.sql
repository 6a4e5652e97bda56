-- Revert techmart:customer_months from pg
BEGIN;

DROP TRIGGER transactions_months_ins ON public.transactions;
DROP TRIGGER transactions_months_upd ON public.transactions;
DROP TRIGGER transactions_months_del ON public.transactions;
DROP TRIGGER transactions_months_trunc ON public.transactions;
DROP FUNCTION analytics.customer_months_insert_trigger();
DROP FUNCTION analytics.customer_months_update_trigger();
DROP FUNCTION analytics.customer_months_delete_trigger();
DROP FUNCTION analytics.customer_months_truncate_trigger();
DROP FUNCTION analytics.customer_months_apply(bigint[], timestamptz[], text[]);
DROP FUNCTION analytics.customer_months_add(bigint[], timestamptz[], text[], boolean[], bigint[], numeric[]);
DROP FUNCTION analytics.customer_months_rebuild(bigint[]);
DROP FUNCTION analytics.customer_months_check();
DROP FUNCTION analytics.customer_months_recompute(bigint[]);
DROP FUNCTION analytics.customer_order_spans_recompute(bigint[]);
DROP FUNCTION analytics.customer_totals_recompute(bigint[]);

CREATE OR REPLACE FUNCTION analytics.customer_orders(p_from timestamp with time zone, p_to timestamp with time zone)
 RETURNS TABLE(customer_id bigint, orders bigint, revenue numeric, units bigint, lines bigint, first_purchase timestamp with time zone, last_purchase timestamp with time zone)
 LANGUAGE sql
 STABLE
AS $function$
  SELECT t.customer_id,
         count(DISTINCT coalesce(t.order_number, '#' || t.id)) FILTER (WHERE t.status = 'completed'),
         sum(CASE WHEN t.kind = 'refund' THEN -t.amount ELSE t.amount END),
         sum(CASE WHEN t.kind = 'refund' THEN -t.quantity ELSE t.quantity END)::bigint,
         count(*) FILTER (WHERE t.status = 'completed'),
         min(t.transaction_time) FILTER (WHERE t.status = 'completed'),
         max(t.transaction_time) FILTER (WHERE t.status = 'completed')
    FROM bi.transactions t
   WHERE (t.status = 'completed' OR t.kind = 'refund')
     AND t.transaction_time >= p_from AND t.transaction_time < p_to
   GROUP BY t.customer_id
  HAVING count(*) FILTER (WHERE t.status = 'completed') > 0
$function$

;
COMMENT ON FUNCTION analytics.customer_orders(timestamptz, timestamptz) IS
  'Per customer with at least one completed line in [p_from, p_to): orders (distinct order_number, or line, of completed lines), revenue and units net of the customer''s refund rows in the range, completed lines, first and last purchase';
CREATE OR REPLACE FUNCTION import.online_retail(p_file_name text DEFAULT NULL::text)
 RETURNS TABLE(section text, reason text, lines bigint, amount numeric)
 LANGUAGE plpgsql
 SET search_path TO 'public', 'pg_temp'
 SET work_mem TO '256MB'
 SET jit TO 'off'
AS $function$
DECLARE
  t0        timestamptz := clock_timestamp();
  t         timestamptz := clock_timestamp();
  n_read    bigint;
  n_err     bigint;
  n_bad     bigint;
  n_new     bigint;
  n_tx      bigint;
  n_ins     bigint;
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
  v_seq     regclass := pg_get_serial_sequence('public.transactions', 'id')::regclass;
  v_tmp     text;
  v_prev    text;
  v_fast    boolean;
  v_min_id  bigint;
  v_max_id  bigint;
  v_nl      text;
  v_overlap boolean;
  n_invalid bigint;
  v_country_names    text[];
  v_country_codes    text[];
  v_special_patterns text[];
  v_special_reasons  text[];
  v_idx_def       text[];
  v_idx_name      text[];
  v_idx_comment   text[];
  v_idx_clustered text[];
  v_pk_name       text;
  v_pk_def        text;
  v_lidx_def      text[];
  v_lidx_name     text[];
  v_mj      text;
  n_cust_state bigint;
BEGIN
  -- one import at a time (the ledger decides what is new)
  LOCK TABLE import.online_retail_line IN EXCLUSIVE MODE;

  -- (a second import in the same transaction: the temporary tables of the first are still there)
  FOREACH v_tmp IN ARRAY ARRAY['or_stage', 'or_cust', 'or_cust_id', 'or_new_prod', 'or_summary'] LOOP
    IF to_regclass('pg_temp.' || v_tmp) IS NOT NULL THEN
      EXECUTE format('DROP TABLE pg_temp.%I', v_tmp);
    END IF;
  END LOOP;

  -- 1. parse, validate, number within the invoice and classify, in one pass in C:
  --    import.online_retail_parse() (the rules of import.online_retail_parsed and import.uk_time)
  --    returns the staged lines sorted by (time, line) with their outcome ('invalid' when a field
  --    is); transaction ids are drawn in that order. Lines already imported (same InvoiceNo and
  --    position in it) are skipped: they can only be there when the ledger has an invoice of the
  --    file; when it has none (a first import, the next months) the ledger is not read. If a line
  --    is invalid, the messages with their line numbers come from import.online_retail_parsed and
  --    nothing is imported.
  v_overlap := EXISTS (SELECT 1 FROM import.online_retail_line)
               AND EXISTS (SELECT 1 FROM import.online_retail_line l
                            WHERE l.invoice_no IN (SELECT DISTINCT upper(btrim(r.invoice_no)) FROM import.online_retail_raw r));
  SELECT array_agg(c.name ORDER BY c.name), array_agg(c.code::text ORDER BY c.name)
    INTO v_country_names, v_country_codes FROM import.country c;
  SELECT array_agg(x.pattern ORDER BY length(x.pattern) DESC, x.pattern),  -- the longest pattern first
         array_agg(x.reason ORDER BY length(x.pattern) DESC, x.pattern)
    INTO v_special_patterns, v_special_reasons FROM import.special_code x;
  IF v_overlap THEN
    CREATE TEMP TABLE or_stage ON COMMIT DROP AS
    SELECT c.*, CASE WHEN c.outcome IN ('sale', 'refund') THEN nextval(v_seq) END AS tx_id
      FROM (SELECT p.line, p.inv, p.line_no, p.sku, p.descr, p.qty, p.ts, p.price, p.cust, p.cc, p.email, p.raw_hash,
                   CASE WHEN p.outcome <> 'invalid' AND l.invoice_no IS NOT NULL THEN
                          CASE WHEN l.raw_hash = p.raw_hash THEN 'already_imported' ELSE 'changed_since_import' END
                        ELSE p.outcome END AS outcome
              FROM import.online_retail_parse('import.online_retail_raw'::regclass, v_country_names, v_country_codes,
                                              v_special_patterns, v_special_reasons) WITH ORDINALITY p
              LEFT JOIN import.online_retail_line l ON l.invoice_no = p.inv AND l.line_no = p.line_no
             ORDER BY p.ordinality) c;
    GET DIAGNOSTICS n_read = ROW_COUNT;
    SELECT count(*) FILTER (WHERE outcome = 'invalid'),
           count(*) FILTER (WHERE outcome NOT IN ('already_imported', 'changed_since_import')),
           count(*) FILTER (WHERE outcome IN ('sale', 'refund')),
           min(ts) FILTER (WHERE outcome IN ('sale', 'refund')), max(ts) FILTER (WHERE outcome IN ('sale', 'refund')),
           min(tx_id), max(tx_id)
      INTO n_invalid, n_new, n_tx, v_from, v_to, v_min_id, v_max_id FROM or_stage;
  ELSE
    -- no line can be in the ledger: the same rows written straight into or_stage by
    -- import.online_retail_stage() (no tuplestore, no CREATE TABLE AS, the counts as it goes)
    CREATE TEMP TABLE or_stage (line bigint, inv text, line_no integer, sku text, descr text, qty integer,
                                ts timestamptz, price numeric, cust bigint, cc country_code, email text,
                                raw_hash bigint, outcome text, tx_id bigint) ON COMMIT DROP;
    SELECT x.lines, x.invalid, x.lines, x.transactions, x.ts_from, x.ts_to, x.id_from, x.id_to
      INTO n_read, n_invalid, n_new, n_tx, v_from, v_to, v_min_id, v_max_id
      FROM import.online_retail_stage('import.online_retail_raw'::regclass, to_regclass('pg_temp.or_stage'), v_seq,
                                      v_country_names, v_country_codes, v_special_patterns, v_special_reasons) x;
  END IF;
  IF n_invalid > 0 THEN
    SELECT count(*), jsonb_agg(jsonb_build_object('line', e.line, 'message', e.msg) ORDER BY e.rn)
             FILTER (WHERE e.rn <= 100),
           string_agg(format('line %s: %s', e.line, e.msg), E'\n' ORDER BY e.rn) FILTER (WHERE e.rn <= 20),
           count(DISTINCT e.line)
      INTO n_err, v_errs, v_first, n_bad
      FROM (SELECT s.line, m.msg, row_number() OVER (ORDER BY s.line, m.ord) AS rn
              FROM import.online_retail_parsed s CROSS JOIN LATERAL unnest(s.errors) WITH ORDINALITY m(msg, ord)
             WHERE cardinality(s.errors) > 0) e;
    IF coalesce(n_err, 0) = 0 THEN  -- cannot happen: both parse the same way
      RAISE EXCEPTION 'online retail import: a line is invalid but import.online_retail_parsed reports no error'
        USING ERRCODE = 'internal_error';
    END IF;
    RAISE EXCEPTION E'online retail import: % invalid field(s) in % line(s); nothing was imported\n%',
                    n_err, n_bad, v_first || CASE WHEN n_err > 20 THEN E'\n...' ELSE '' END
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = jsonb_build_object('errors', v_errs, 'count', n_err)::text,
            HINT = 'SELECT * FROM import.online_retail_errors() lists every invalid field with its line number';
  END IF;
  -- row count and the estimates of the joins below (a temporary table has none): a sample of 3,000
  -- lines (statistics target 10) is enough for them and costs a tenth of the default 30,000 (the
  -- sorts of the sampled texts)
  v_tmp := current_setting('default_statistics_target');
  PERFORM set_config('default_statistics_target', '10', true);
  ANALYZE or_stage (outcome, sku, email);
  PERFORM set_config('default_statistics_target', v_tmp, true);
  RAISE NOTICE 'import [1/7] read, validated and classified % lines: % new, % to import as sales and refunds (% ms)',
               n_read, n_new, n_tx, round(extract(epoch FROM clock_timestamp() - t) * 1000);
  t := clock_timestamp();

  IF n_new > 0 THEN
    INSERT INTO import.online_retail_batch (file_name, rows_read, rows_new, transactions, summary)
    VALUES (p_file_name, n_read, n_new, n_tx, '{}') RETURNING id INTO v_batch;
  END IF;

  IF n_tx > 0 THEN
    -- 2. customers: one per CustomerID, one guest per country for lines without one; the home
    --    country of a new customer = the country of most of its invoices (then lines, then code)
    CREATE TEMP TABLE or_cust ON COMMIT DROP AS
    SELECT o.email, o.cust, o.cc, count(*) AS invoices, sum(o.n) AS n, min(o.first_ts) AS first_ts
      FROM (SELECT s.email, s.cust, s.cc, s.inv, count(*) AS n, min(s.ts) AS first_ts
              FROM or_stage s WHERE s.outcome IN ('sale', 'refund')
             GROUP BY 1, 2, 3, 4) o
     GROUP BY 1, 2, 3;
    INSERT INTO customers (email, name, country, registration_date)
    SELECT DISTINCT ON (c.email) c.email,
           CASE WHEN c.cust IS NULL THEN 'Online Retail guest (' || c.cc || ')' ELSE 'Online Retail customer ' || c.cust END,
           c.cc, min(c.first_ts) OVER (PARTITION BY c.email)
      FROM or_cust c
     ORDER BY c.email, c.invoices DESC, c.n DESC, c.cc
    ON CONFLICT ((lower(email))) DO NOTHING;
    GET DIAGNOSTICS n_cust = ROW_COUNT;
    CREATE TEMP TABLE or_cust_id ON COMMIT DROP AS
    SELECT DISTINCT c.email, cu.id
      FROM or_cust c JOIN customers cu ON lower(cu.email) = c.email;

    -- products: new StockCodes (SKU); name = most frequent description, price = most frequent
    -- unit price of its sales (ties: the lower price; of its sales and refunds when it has no
    -- sale, ties: more lines, then the lower price);
    -- category by import.category_rule (as import.category_of() applies it)
    CREATE TEMP TABLE or_new_prod ON COMMIT DROP AS
    WITH g AS (  -- one pass over the lines of the new SKUs
      SELECT s.sku, s.descr, s.price, count(*) AS n, count(*) FILTER (WHERE s.outcome = 'sale') AS ns
        FROM or_stage s
       WHERE s.outcome IN ('sale', 'refund') AND NOT EXISTS (SELECT 1 FROM products p WHERE p.sku = s.sku)
       GROUP BY s.sku, s.descr, s.price
    ), d AS (
      SELECT DISTINCT ON (x.sku) x.sku, x.descr
        FROM (SELECT g.sku, g.descr, sum(g.n) AS n FROM g WHERE g.descr IS NOT NULL GROUP BY 1, 2) x
       ORDER BY x.sku, x.n DESC, x.descr
    ), pr AS (  -- (with sales: the rule of the refresh in step 5, which then has nothing to change)
      SELECT DISTINCT ON (x.sku) x.sku, x.price
        FROM (SELECT g.sku, g.price, sum(g.ns) AS ns, sum(g.n) AS n,
                     bool_or(sum(g.ns) > 0) OVER (PARTITION BY g.sku) AS has_sale
                FROM g GROUP BY 1, 2) x
       ORDER BY x.sku, x.ns DESC, CASE WHEN x.has_sale THEN 0 ELSE x.n END DESC, x.price
    )
    SELECT pr.sku, coalesce(d.descr, pr.sku) AS name, pr.price, coalesce(cat.category, 'Gifts & Other') AS category
      FROM pr
      LEFT JOIN d ON d.sku = pr.sku
      LEFT JOIN LATERAL (SELECT r.category FROM import.category_rule r WHERE upper(coalesce(d.descr, pr.sku)) ~ r.pattern
                          ORDER BY r.priority LIMIT 1) cat ON true;
    INSERT INTO categories (name, description)
    SELECT DISTINCT n.category, 'Assigned by the Online Retail import (import.category_rule)' FROM or_new_prod n
    ON CONFLICT (name) DO NOTHING;
    INSERT INTO products (sku, name, category_id, price, stock_quantity, low_stock_threshold)
    SELECT n.sku, n.name, c.id, n.price, 0, 0
      FROM or_new_prod n JOIN categories c ON c.name = n.category
     ORDER BY n.sku;
    GET DIAGNOSTICS n_prod = ROW_COUNT;
    RAISE NOTICE 'import [2/7] % new customers, % new products (% ms)', n_cust, n_prod,
                 round(extract(epoch FROM clock_timestamp() - t) * 1000);
    t := clock_timestamp();

    -- 3. transactions, with fraud scoring and the rollup trigger off (rebuilt below in one pass).
    -- Bulk path (superuser, and no INSERT trigger on the table but the known four, none of
    -- them firing only on replicas): the statement runs with session_replication_role =
    -- replica, which skips those triggers and the per-row foreign-key checks. Their work is done
    -- here instead: the referenced rows are locked as the foreign-key checks would lock them,
    -- every line must find them (count checked), the rollups are rebuilt and the bulk
    -- notification sent below. The CHECK constraints and indexes apply as always.
    v_fast := n_tx > 50
      AND (SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = current_user)
      AND NOT EXISTS (SELECT 1 FROM pg_trigger tg
                       WHERE tg.tgrelid = 'public.transactions'::regclass AND NOT tg.tgisinternal
                         AND ((tg.tgtype::int & 4) <> 0 AND tg.tgenabled <> 'D'
                              AND tg.tgname NOT IN ('transactions_score', 'transactions_score_flush',
                                                    'transactions_notify', 'transactions_rollup_ins',
                                                    'transactions_spent_ins', 'transactions_stock_ins')
                              OR tg.tgenabled = 'R'));
    IF v_fast THEN
      PERFORM 1 FROM customers cu WHERE cu.id IN (SELECT c.id FROM or_cust_id c) FOR KEY SHARE OF cu;
      PERFORM 1 FROM products p WHERE p.sku IN (SELECT s.sku FROM or_stage s WHERE s.outcome IN ('sale', 'refund'))
        FOR KEY SHARE OF p;
      v_prev := current_setting('session_replication_role');
      PERFORM set_config('session_replication_role', 'replica', true);
      v_scoring := 'bulk path: triggers and per-row foreign-key checks bypassed, scoring off';
    ELSIF to_regprocedure('techmart.rebuild_state(text)') IS NOT NULL THEN
      PERFORM techmart.version();  -- loads the module, which defines the GUC
      v_prev := current_setting('techmart.scoring');
      PERFORM set_config('techmart.scoring', 'off', true);
      ALTER TABLE public.transactions DISABLE TRIGGER transactions_rollup_ins;
      ALTER TABLE public.transactions DISABLE TRIGGER transactions_spent_ins;
      ALTER TABLE public.transactions DISABLE TRIGGER transactions_stock_ins;
      v_scoring := 'techmart.scoring = off';
    ELSE
      ALTER TABLE public.transactions DISABLE TRIGGER transactions_score;
      ALTER TABLE public.transactions DISABLE TRIGGER transactions_rollup_ins;
      ALTER TABLE public.transactions DISABLE TRIGGER transactions_spent_ins;
      ALTER TABLE public.transactions DISABLE TRIGGER transactions_stock_ins;
      v_scoring := 'trigger transactions_score disabled';
    END IF;
    -- in the staged order (= transaction id = time order, which the rollup rebuild and every
    -- time-range scan read back): the small tables are hashed and the staged lines streamed
    -- through them (hash joins only: a merge join would write the rows in e-mail order), no sort
    v_nl := current_setting('enable_nestloop');
    v_mj := current_setting('enable_mergejoin');
    PERFORM set_config('enable_nestloop', 'off', true), set_config('enable_mergejoin', 'off', true);
    -- into an EMPTY transactions table (a first history load; bulk path, not partitioned): its
    -- secondary indexes are dropped and built again after the INSERT (a sorted build of each
    -- instead of 100,000 insertions into 6 indexes; the drop takes the table's ACCESS EXCLUSIVE
    -- lock until the import commits). The primary key, constraint and unique indexes stay; not
    -- done when an index is invalid or in another tablespace; comments and CLUSTER marks kept.
    IF v_fast AND NOT EXISTS (SELECT 1 FROM transactions)
       AND (SELECT c.relkind FROM pg_class c WHERE c.oid = 'public.transactions'::regclass) = 'r' THEN
      LOCK TABLE public.transactions IN ACCESS EXCLUSIVE MODE;
      IF NOT EXISTS (SELECT 1 FROM transactions)  -- still empty under the lock
         AND NOT EXISTS (SELECT 1 FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
                          WHERE i.indrelid = 'public.transactions'::regclass
                            AND (NOT i.indisvalid OR NOT i.indisready OR ic.reltablespace <> 0 OR i.indisreplident)
                            AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)) THEN
        SELECT array_agg(pg_get_indexdef(i.indexrelid) ORDER BY i.indexrelid),
               array_agg(format('%I.%I', n.nspname, ic.relname) ORDER BY i.indexrelid),
               array_agg(obj_description(i.indexrelid, 'pg_class') ORDER BY i.indexrelid),
               array_agg(CASE WHEN i.indisclustered THEN quote_ident(ic.relname) END ORDER BY i.indexrelid)
          INTO v_idx_def, v_idx_name, v_idx_comment, v_idx_clustered
          FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_namespace n ON n.oid = ic.relnamespace
         WHERE i.indrelid = 'public.transactions'::regclass AND NOT i.indisunique  -- (a unique index may back a foreign key)
           AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid);
        IF v_idx_name IS NOT NULL THEN
          EXECUTE 'DROP INDEX ' || array_to_string(v_idx_name, ', ');
        END IF;
      END IF;
    END IF;
    INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, amount, transaction_time, status, kind,
                              payment_method, platform, order_number, country, created_at,
                              fraud_score, fraud_reasons, is_suspicious)
    SELECT s.tx_id, c.id, p.id, abs(s.qty), s.price, abs(s.qty) * s.price, s.ts,
           CASE s.outcome WHEN 'sale' THEN 'completed' ELSE 'refunded' END, s.outcome,
           'unknown', 'web', s.inv, s.cc, s.ts, NULL, '[]', false
      FROM or_stage s
      JOIN or_cust_id c ON c.email = s.email
      JOIN products p ON p.sku = s.sku
     WHERE s.outcome IN ('sale', 'refund');
    GET DIAGNOSTICS n_ins = ROW_COUNT;
    PERFORM set_config('enable_nestloop', v_nl, true), set_config('enable_mergejoin', v_mj, true);
    IF v_idx_name IS NOT NULL THEN  -- the secondary indexes back, as they were
      FOR i IN 1 .. cardinality(v_idx_name) LOOP
        EXECUTE v_idx_def[i];
        IF v_idx_comment[i] IS NOT NULL THEN
          EXECUTE format('COMMENT ON INDEX %s IS %L', v_idx_name[i], v_idx_comment[i]);
        END IF;
        IF v_idx_clustered[i] IS NOT NULL THEN
          EXECUTE format('ALTER TABLE public.transactions CLUSTER ON %s', v_idx_clustered[i]);
        END IF;
      END LOOP;
      v_scoring := v_scoring || format(', %s indexes built after', cardinality(v_idx_name));
    END IF;
    IF v_fast THEN
      PERFORM set_config('session_replication_role', v_prev, true);
    ELSE
      ALTER TABLE public.transactions ENABLE TRIGGER transactions_rollup_ins;
      ALTER TABLE public.transactions ENABLE TRIGGER transactions_spent_ins;
      ALTER TABLE public.transactions ENABLE TRIGGER transactions_stock_ins;
      IF v_scoring LIKE 'trigger%' THEN
        ALTER TABLE public.transactions ENABLE TRIGGER transactions_score;
      ELSE
        PERFORM set_config('techmart.scoring', v_prev, true);
      END IF;
    END IF;
    IF n_ins <> n_tx THEN  -- a customer or product vanished under us: nothing half-imported
      RAISE EXCEPTION 'online retail import: % transactions inserted, % expected; nothing was imported', n_ins, n_tx
        USING ERRCODE = 'foreign_key_violation';
    END IF;
    IF v_fast THEN  -- what transactions_notify says of a statement of more than 50 rows
      PERFORM pg_notify('techmart_transactions', jsonb_build_object(
                'bulk', true, 'count', n_tx, 'min_id', v_min_id, 'max_id', v_max_id, 'suspicious', 0)::text);
    END IF;
    RAISE NOTICE 'import [3/7] % transactions inserted, % (% ms)', n_tx, v_scoring,
                 round(extract(epoch FROM clock_timestamp() - t) * 1000);
    t := clock_timestamp();

    -- 4. rollups of the imported hours, in one pass
    PERFORM analytics.rollup_rebuild(v_from, v_to + interval '1 microsecond');
    RAISE NOTICE 'import [4/7] rollups of % .. % rebuilt (% ms)', v_from, v_to,
                 round(extract(epoch FROM clock_timestamp() - t) * 1000);
    t := clock_timestamp();

    -- 5. customers touched: home country = the country of most of their invoices (then lines,
    -- then code), registration = first purchase, total_spent = net spend; only changed rows are
    -- written (one scan of their transactions, grouped per order first). Products touched that
    -- existed before (the new ones got it in step 2): list price = most frequent unit price of all
    -- their sales.
    WITH y_per_country AS (  -- per customer and country: invoices, lines, first purchase, net spend
      SELECT o.customer_id, o.country, count(o.order_number) AS invoices, sum(o.n) AS n, min(o.first_ts) AS first_ts,
             sum(o.spent) AS spent
        FROM (SELECT t.customer_id, t.country, t.order_number, count(*) AS n, min(t.transaction_time) AS first_ts,
                     sum(CASE WHEN t.kind = 'refund' THEN -t.amount WHEN t.status = 'completed' THEN t.amount ELSE 0 END) AS spent
                FROM transactions t
               WHERE t.customer_id IN (SELECT id FROM or_cust_id)
               GROUP BY t.customer_id, t.country, t.order_number) o
       GROUP BY o.customer_id, o.country
    )
    UPDATE customers cu SET country = x.country, registration_date = x.first_ts, total_spent = x.spent,
                            updated_at = now()
      FROM (SELECT a.customer_id, h.country, a.first_ts, a.spent
              FROM (SELECT y.customer_id, min(y.first_ts) AS first_ts, sum(y.spent) AS spent
                      FROM y_per_country y GROUP BY y.customer_id) a
              LEFT JOIN (SELECT DISTINCT ON (y.customer_id) y.customer_id, y.country
                           FROM y_per_country y WHERE y.country IS NOT NULL
                          ORDER BY y.customer_id, y.invoices DESC, y.n DESC, y.country) h ON h.customer_id = a.customer_id) x
     WHERE cu.id = x.customer_id
       AND (cu.country, cu.registration_date, cu.total_spent) IS DISTINCT FROM (x.country, x.first_ts, x.spent);
    UPDATE products pr SET price = x.price, updated_at = now()
      FROM (SELECT DISTINCT ON (t.product_id) t.product_id, t.unit_price AS price
              FROM transactions t
             WHERE t.product_id IN (SELECT p.id FROM products p WHERE p.sku IN (SELECT DISTINCT sku FROM or_stage WHERE outcome = 'sale')
                                                                AND NOT EXISTS (SELECT 1 FROM or_new_prod n WHERE n.sku = p.sku))
               AND t.kind = 'sale'
             GROUP BY t.product_id, t.unit_price
             ORDER BY t.product_id, count(*) DESC, t.unit_price) x
     WHERE pr.id = x.product_id AND pr.price IS DISTINCT FROM x.price;
    RAISE NOTICE 'import [5/7] customers and products refreshed (% ms)', round(extract(epoch FROM clock_timestamp() - t) * 1000);
    t := clock_timestamp();

    -- 6. fraud state of every customer, one pass over the history
    IF to_regprocedure('techmart.rebuild_state_for(bigint[], text)') IS NOT NULL THEN
      -- (change import_state_incremental) the customers of the imported lines only
      SELECT count(*) INTO n_cust_state
        FROM techmart.rebuild_state_for(ARRAY(SELECT c.id FROM or_cust_id c), 'public.transactions') x(n);
      v_state := format('techmart.rebuild_state_for() of the %s customers of the import',
                        (SELECT count(*) FROM or_cust_id));
    ELSIF to_regprocedure('techmart.rebuild_state(text)') IS NOT NULL THEN
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
    RAISE NOTICE 'import [6/7] fraud state: % (% ms)', v_state, round(extract(epoch FROM clock_timestamp() - t) * 1000);
    t := clock_timestamp();
  END IF;

  -- 7. ledger and summary
  -- (bulk path: the ledger's only foreign key is to the batch row inserted above, so its per-row
  -- check is skipped the same way when the table has no trigger of its own)
  IF n_new > 0 THEN
    IF v_fast AND NOT EXISTS (SELECT 1 FROM pg_trigger tg WHERE tg.tgrelid = 'import.online_retail_line'::regclass
                                                             AND NOT tg.tgisinternal) THEN
      PERFORM set_config('session_replication_role', 'replica', true);
    END IF;
    -- into an empty ledger (a first import, bulk path): its primary key and indexes built after
    -- the rows
    IF v_fast AND NOT EXISTS (SELECT 1 FROM import.online_retail_line)
       AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.confrelid = 'import.online_retail_line'::regclass) THEN
      SELECT k.conname, pg_get_constraintdef(k.oid) INTO v_pk_name, v_pk_def
        FROM pg_constraint k WHERE k.conrelid = 'import.online_retail_line'::regclass AND k.contype = 'p';
      IF v_pk_name IS NOT NULL THEN
        EXECUTE format('ALTER TABLE import.online_retail_line DROP CONSTRAINT %I', v_pk_name);
      END IF;
      -- and its other plain indexes (as for transactions above)
      IF NOT EXISTS (SELECT 1 FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
                      WHERE i.indrelid = 'import.online_retail_line'::regclass
                        AND (NOT i.indisvalid OR NOT i.indisready OR ic.reltablespace <> 0 OR i.indisreplident
                             OR i.indisclustered OR obj_description(i.indexrelid, 'pg_class') IS NOT NULL)) THEN
        SELECT array_agg(pg_get_indexdef(i.indexrelid) ORDER BY i.indexrelid),
               array_agg(format('%I.%I', n.nspname, ic.relname) ORDER BY i.indexrelid)
          INTO v_lidx_def, v_lidx_name
          FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_namespace n ON n.oid = ic.relnamespace
         WHERE i.indrelid = 'import.online_retail_line'::regclass AND NOT i.indisunique
           AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid);
        IF v_lidx_name IS NOT NULL THEN
          EXECUTE 'DROP INDEX ' || array_to_string(v_lidx_name, ', ');
        END IF;
      END IF;
    END IF;
    INSERT INTO import.online_retail_line (invoice_no, line_no, batch_id, raw_hash, outcome, transaction_id)
    SELECT s.inv, s.line_no, v_batch, s.raw_hash, s.outcome, s.tx_id FROM or_stage s
     WHERE s.outcome NOT IN ('already_imported', 'changed_since_import');
    IF v_pk_name IS NOT NULL THEN
      EXECUTE format('ALTER TABLE import.online_retail_line ADD CONSTRAINT %I %s', v_pk_name, v_pk_def);
    END IF;
    IF v_lidx_def IS NOT NULL THEN
      FOREACH v_tmp IN ARRAY v_lidx_def LOOP
        EXECUTE v_tmp;
      END LOOP;
    END IF;
    IF v_fast THEN
      PERFORM set_config('session_replication_role', v_prev, true);
    END IF;
  END IF;
  CREATE TEMP TABLE or_summary ON COMMIT DROP AS
  SELECT CASE WHEN g.outcome IS NULL THEN 'read'
              WHEN g.outcome IN ('sale', 'refund') THEN 'imported'
              WHEN g.outcome IN ('already_imported', 'changed_since_import') THEN 'skipped' ELSE 'set_aside' END AS section,
         coalesce(g.outcome, 'all') AS reason, g.lines, g.amount,
         CASE WHEN g.outcome IS NULL THEN 0 WHEN g.outcome IN ('sale', 'refund') THEN 1
              WHEN g.outcome IN ('already_imported', 'changed_since_import') THEN 3 ELSE 2 END AS ord
    FROM (SELECT s.outcome, count(*) AS lines, sum(abs(s.qty) * s.price) AS amount
            FROM or_stage s GROUP BY GROUPING SETS ((s.outcome), ())) g
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
  RAISE NOTICE 'import [7/7] ledger and summary (% ms); done: % lines read, % new, % transactions, in % s',
               round(extract(epoch FROM clock_timestamp() - t) * 1000), n_read, n_new, coalesce(n_tx, 0),
               round(extract(epoch FROM clock_timestamp() - t0)::numeric, 2);
  RETURN QUERY SELECT o.section, o.reason, o.lines, o.amount FROM or_summary o ORDER BY o.ord, o.lines DESC, o.reason;
END $function$

;

CREATE OR REPLACE FUNCTION analytics.rfm(p_as_of timestamp with time zone DEFAULT now(), p_window interval DEFAULT '365 days'::interval)
 RETURNS TABLE(customer_id bigint, recency_days numeric, frequency bigint, monetary numeric, r_score integer, f_score integer, m_score integer, rfm_code text, segment text)
 LANGUAGE sql
 STABLE
AS $function$
  WITH o AS (
    SELECT * FROM analytics.customer_orders(p_as_of - p_window, p_as_of)
     WHERE analytics.arg_valid(p_window > interval '0', 'window must be positive, got ' || p_window)
       AND analytics.arg_valid(isfinite(p_as_of), 'as-of must be a finite time, got ' || p_as_of)
  ),
  s AS (
    SELECT o.customer_id,
           round((extract(epoch FROM p_as_of - o.last_purchase) / 86400)::numeric, 2) AS recency_days,
           o.orders AS frequency, o.revenue AS monetary,
           ceil(5 * cume_dist() OVER (ORDER BY o.last_purchase))::int AS r,
           ceil(5 * cume_dist() OVER (ORDER BY o.orders))::int AS f,
           ceil(5 * cume_dist() OVER (ORDER BY o.revenue))::int AS m
      FROM o
  )
  SELECT s.customer_id, s.recency_days, s.frequency, s.monetary, s.r, s.f, s.m, s.r::text || s.f || s.m,
         CASE
           WHEN s.r >= 4 AND s.f >= 4 AND s.m >= 4 THEN 'champions'
           WHEN s.r <= 1 AND s.f >= 4 AND s.m >= 4 THEN 'cant_lose'
           WHEN s.r <= 2 AND s.f >= 3 THEN 'at_risk'
           WHEN s.r >= 3 AND s.f >= 4 THEN 'loyal'
           WHEN s.r = 5 AND s.f <= 2 THEN 'new'
           WHEN s.r = 4 AND s.f <= 2 THEN 'promising'
           WHEN s.r >= 3 THEN 'potential_loyalist'
           WHEN s.r = 2 THEN 'hibernating'
           ELSE 'lost'
         END
    FROM s
   ORDER BY s.customer_id
$function$;

CREATE OR REPLACE FUNCTION analytics.customer_behavior(p_from timestamp with time zone, p_to timestamp with time zone, p_customer_id bigint DEFAULT NULL::bigint, p_limit integer DEFAULT 100)
 RETURNS TABLE(customer_id bigint, name text, orders bigint, revenue numeric, avg_basket numeric, avg_items_per_order numeric, orders_per_month numeric, avg_days_between_orders numeric, preferred_hour integer, preferred_day integer, top_categories text[], first_purchase timestamp with time zone, last_purchase timestamp with time zone)
 LANGUAGE sql
 STABLE
AS $function$
  WITH z AS (SELECT analytics.business_timezone() AS tz),
  o AS (
    SELECT * FROM analytics.customer_orders(p_from, p_to) o
     WHERE p_customer_id IS NULL OR o.customer_id = p_customer_id
     ORDER BY o.revenue DESC, o.customer_id
     LIMIT CASE WHEN p_customer_id IS NULL THEN p_limit END
  ), l AS (
    SELECT t.customer_id, t.transaction_time AT TIME ZONE z.tz AS local_time, t.amount, p.category
      FROM bi.transactions t JOIN o USING (customer_id) CROSS JOIN z LEFT JOIN bi.products p ON p.id = t.product_id
     WHERE t.status = 'completed' AND t.transaction_time >= p_from AND t.transaction_time < p_to
  )
  SELECT o.customer_id, c.name, o.orders, o.revenue, round(o.revenue / nullif(o.orders, 0), 2),
         round(o.units::numeric / nullif(o.orders, 0), 2),
         round(o.orders / greatest(extract(epoch FROM p_to - p_from) / (30 * 86400), 1)::numeric, 3),
         CASE WHEN o.orders > 1
              THEN round((extract(epoch FROM o.last_purchase - o.first_purchase) / 86400 / (o.orders - 1))::numeric, 1) END,
         (SELECT extract(hour FROM l.local_time)::int FROM l WHERE l.customer_id = o.customer_id
           GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1),
         (SELECT extract(isodow FROM l.local_time)::int FROM l WHERE l.customer_id = o.customer_id
           GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1),
         ARRAY(SELECT coalesce(l.category, 'uncategorised') FROM l WHERE l.customer_id = o.customer_id
                GROUP BY 1 ORDER BY sum(l.amount) DESC, 1 LIMIT 3),
         o.first_purchase, o.last_purchase
    FROM o JOIN bi.customers c ON c.id = o.customer_id
   ORDER BY o.revenue DESC, o.customer_id
$function$;

DROP TABLE analytics.customer_months;
DROP TABLE analytics.customer_order_spans;
DROP TABLE analytics.customer_totals;
DROP FUNCTION analytics.utc_month(timestamptz);
DROP FUNCTION analytics.time_within(timestamptz, timestamptz, timestamptz, timestamptz);

COMMIT;

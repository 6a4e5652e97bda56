-- Deploy techmart:transactions_partitioning to pg
-- requires: observability
-- requires: fraud_alerts_fk
--
-- Monthly range partitioning of transactions (docs/scaling.md section 2), as an operator's
-- choice: this change only adds the functions; a database stays unpartitioned until
--   SELECT * FROM techmart_ops.partition_transactions();
-- converts it (one transaction). Then:
--   techmart_ops.ensure_partitions(months_ahead)   next months' partitions (cron it monthly)
--   techmart_ops.drop_transactions_before(month)  retention: detach and drop whole months
--
-- Keys. A partitioned table's primary key must contain the partition key, so it becomes
-- (id, transaction_time), and no foreign key can reference transactions (id) alone any more.
-- The three references (transaction_labels, planted_fraud -> ON DELETE CASCADE, alerts -> ON
-- DELETE SET NULL, DEFERRABLE) become triggers with the same names and semantics, listed in
-- techmart_ops.transaction_refs:
--   * on the referencing table a constraint trigger (same name as the foreign key, same
--     DEFERRABLE/INITIALLY state, so SET CONSTRAINTS alerts_transaction_id_fkey DEFERRED, which
--     the fraud engine issues in write-through mode, still works) checks that the id exists
--     (SELECT ... FOR KEY SHARE, as the foreign key does) and raises 23503 otherwise;
--   * on transactions statement triggers apply ON DELETE (cascade / set null) to the deleted
--     rows' references, refuse an UPDATE of id that would orphan one (23503), and apply the
--     actions on TRUNCATE.
-- This keeps the referencing tables, the engine's alert INSERT and every API function unchanged
-- (the alternative, copying transaction_time into the three tables for a composite foreign key,
-- needs the engine to write it, and the engine inserts an alert before its row in one mode).
BEGIN;

CREATE TABLE techmart_ops.transaction_refs (
  tbl       regclass NOT NULL,
  col       name NOT NULL,
  conname   name NOT NULL,
  on_delete text NOT NULL CHECK (on_delete IN ('cascade', 'set null', 'restrict', 'no action')),
  PRIMARY KEY (tbl, col)
);
COMMENT ON TABLE techmart_ops.transaction_refs IS
  'References to transactions(id) kept by triggers once transactions is partitioned (filled by partition_transactions())';

-- the referencing side: the referenced transaction exists (constraint trigger, args: column)
CREATE FUNCTION techmart_ops.transaction_ref_check() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v bigint;
BEGIN
  EXECUTE format('SELECT ($1).%I', TG_ARGV[0]) INTO v USING NEW;
  IF v IS NULL THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'UPDATE' THEN
    DECLARE o bigint;
    BEGIN
      EXECUTE format('SELECT ($1).%I', TG_ARGV[0]) INTO o USING OLD;
      IF o = v THEN RETURN NULL; END IF;
    END;
  END IF;
  PERFORM 1 FROM public.transactions t WHERE t.id = v FOR KEY SHARE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'insert or update on table "%" violates foreign key constraint "%"', TG_TABLE_NAME, TG_NAME
      USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME, CONSTRAINT = TG_NAME,
            DETAIL = format('Key (%s)=(%s) is not present in table "transactions".', TG_ARGV[0], v);
  END IF;
  RETURN NULL;
END $$;

-- the referenced side: ON DELETE of the references for the statement's deleted rows
CREATE FUNCTION techmart_ops.transaction_refs_deleted() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  r record;
  n bigint;
BEGIN
  FOR r IN SELECT * FROM techmart_ops.transaction_refs ORDER BY tbl::text, col LOOP
    IF r.on_delete = 'cascade' THEN
      EXECUTE format('DELETE FROM %s x WHERE x.%I IN (SELECT o.id FROM old_rows o)', r.tbl, r.col);
    ELSIF r.on_delete = 'set null' THEN
      EXECUTE format('UPDATE %s x SET %I = NULL WHERE x.%I IN (SELECT o.id FROM old_rows o)', r.tbl, r.col, r.col);
    ELSE
      EXECUTE format('SELECT count(*) FROM %s x WHERE x.%I IN (SELECT o.id FROM old_rows o)
                        AND NOT EXISTS (SELECT 1 FROM public.transactions t WHERE t.id = x.%I)', r.tbl, r.col, r.col)
        INTO n;
      IF n > 0 THEN
        RAISE EXCEPTION 'update or delete on table "transactions" violates foreign key constraint "%" on table "%"',
                        r.conname, r.tbl USING ERRCODE = 'foreign_key_violation';
      END IF;
    END IF;
  END LOOP;
  RETURN NULL;
END $$;

-- an UPDATE that changes an id may not leave a reference behind
CREATE FUNCTION techmart_ops.transaction_refs_updated() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  r record;
  n bigint;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM old_rows o WHERE NOT EXISTS (SELECT 1 FROM new_rows w WHERE w.id = o.id)) THEN
    RETURN NULL;  -- no id changed
  END IF;
  FOR r IN SELECT * FROM techmart_ops.transaction_refs ORDER BY tbl::text, col LOOP
    EXECUTE format('SELECT count(*) FROM %s x WHERE x.%I IN (SELECT o.id FROM old_rows o)
                      AND NOT EXISTS (SELECT 1 FROM public.transactions t WHERE t.id = x.%I)', r.tbl, r.col, r.col)
      INTO n;
    IF n > 0 THEN
      RAISE EXCEPTION 'update or delete on table "transactions" violates foreign key constraint "%" on table "%"',
                      r.conname, r.tbl USING ERRCODE = 'foreign_key_violation',
                      DETAIL = format('%s row(s) of %s still reference a changed id.', n, r.tbl);
    END IF;
  END LOOP;
  RETURN NULL;
END $$;

-- TRUNCATE transactions: the referential actions for every reference (cascade: delete the
-- referencing rows, set null: clear them; restrict/no action: refuse when any is left)
CREATE FUNCTION techmart_ops.transaction_refs_truncated() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  r record;
  n bigint;
BEGIN
  FOR r IN SELECT * FROM techmart_ops.transaction_refs ORDER BY tbl::text, col LOOP
    IF r.on_delete = 'cascade' THEN
      EXECUTE format('DELETE FROM %s x WHERE x.%I IS NOT NULL', r.tbl, r.col);
    ELSIF r.on_delete = 'set null' THEN
      EXECUTE format('UPDATE %s x SET %I = NULL WHERE x.%I IS NOT NULL', r.tbl, r.col, r.col);
    ELSE
      EXECUTE format('SELECT count(*) FROM %s x WHERE x.%I IS NOT NULL', r.tbl, r.col) INTO n;
      IF n > 0 THEN
        RAISE EXCEPTION 'cannot truncate a table referenced in a foreign key constraint'
          USING ERRCODE = 'feature_not_supported',
                DETAIL = format('Table "%s" references "transactions" (%s).', r.tbl, r.conname);
      END IF;
    END IF;
  END LOOP;
  RETURN NULL;
END $$;

-- The engine finds its statement trigger (score_transaction_flush) on the relation the row is
-- inserted into: with tuple routing that is the partition, and statement triggers are not
-- cloned to partitions. So every partition carries a copy of the parent's flush trigger, in the
-- same enabled state (it fires only for an INSERT naming the partition itself; an INSERT into
-- transactions fires the parent's). This event trigger keeps the copies in step after every
-- ALTER TABLE / CREATE TABLE (DISABLE TRIGGER on the parent, a partition created by hand).
-- SECURITY DEFINER and executable by everybody: the event trigger runs it for any role's DDL
-- (temporary tables of the API included); it only mirrors the parent's flush trigger.
CREATE FUNCTION techmart_ops.sync_partition_flush_triggers() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  parent regclass := to_regclass('public.transactions');
  t record;
  p record;
  have "char";
BEGIN
  IF parent IS NULL OR (SELECT relkind FROM pg_class WHERE oid = parent) <> 'p' THEN
    RETURN;
  END IF;
  FOR t IN SELECT tg.tgname, tg.tgenabled, tg.tgfoid::regproc AS fn
             FROM pg_trigger tg
            WHERE tg.tgrelid = parent AND NOT tg.tgisinternal AND tg.tgparentid = 0
              AND tg.tgfoid = 'techmart.score_transaction_flush()'::regprocedure LOOP
    FOR p IN SELECT i.inhrelid::regclass AS part FROM pg_inherits i WHERE i.inhparent = parent LOOP
      SELECT tg.tgenabled INTO have FROM pg_trigger tg WHERE tg.tgrelid = p.part AND tg.tgname = t.tgname;
      IF NOT FOUND THEN
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %s FOR EACH STATEMENT EXECUTE FUNCTION %s()',
                       t.tgname, p.part, t.fn);
        have := 'O';
      END IF;
      IF have <> t.tgenabled THEN
        EXECUTE format('ALTER TABLE %s %s TRIGGER %I', p.part,
                       CASE t.tgenabled WHEN 'D' THEN 'DISABLE' WHEN 'R' THEN 'ENABLE REPLICA'
                                        WHEN 'A' THEN 'ENABLE ALWAYS' ELSE 'ENABLE' END, t.tgname);
      END IF;
    END LOOP;
  END LOOP;
END $$;

CREATE FUNCTION techmart_ops.sync_partition_flush_triggers_evt() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM techmart_ops.sync_partition_flush_triggers();
END $$;

CREATE EVENT TRIGGER techmart_partition_flush_sync ON ddl_command_end
  WHEN TAG IN ('ALTER TABLE', 'CREATE TABLE')
  EXECUTE FUNCTION techmart_ops.sync_partition_flush_triggers_evt();

-- the UTC month [m, m + 1 month) as a partition: name and bounds
CREATE FUNCTION techmart_ops.month_start(t timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT date_trunc('month', t AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
$$;

CREATE FUNCTION techmart_ops.partition_name(m timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT 'transactions_' || to_char(m AT TIME ZONE 'UTC', 'YYYY_MM')
$$;

-- Creates the partition of month m (UTC) unless it exists; rows of that month waiting in the
-- DEFAULT partition are moved into it (directly between partitions: no trigger of transactions
-- fires, so scores, state and rollups stay as they are). Returns true when it created one.
CREATE FUNCTION techmart_ops.create_month_partition(m timestamptz) RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  lo timestamptz := techmart_ops.month_start(m);
  hi timestamptz := techmart_ops.month_start(m) + interval '1 month';
  nm text := techmart_ops.partition_name(lo);
  owner name := (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'public.transactions'::regclass);
  def regclass := to_regclass('public.transactions_default');
  waiting boolean := false;
BEGIN
  IF to_regclass(format('public.%I', nm)) IS NOT NULL THEN
    RETURN false;
  END IF;
  IF def IS NOT NULL THEN
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE transaction_time >= $1 AND transaction_time < $2)', def)
      INTO waiting USING lo, hi;
  END IF;
  IF NOT waiting THEN
    EXECUTE format('CREATE TABLE public.%I PARTITION OF public.transactions FOR VALUES FROM (%L) TO (%L)', nm, lo, hi);
  ELSE
    EXECUTE format('CREATE TABLE public.%I (LIKE public.transactions INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', nm);
    EXECUTE format('ALTER TABLE public.%I ADD CONSTRAINT %I CHECK (transaction_time >= %L AND transaction_time < %L)',
                   nm, nm || '_bounds', lo, hi);
    EXECUTE format('WITH moved AS (DELETE FROM %s WHERE transaction_time >= $1 AND transaction_time < $2 RETURNING *)
                    INSERT INTO public.%I SELECT * FROM moved', def, nm) USING lo, hi;
    EXECUTE format('ALTER TABLE public.transactions ATTACH PARTITION public.%I FOR VALUES FROM (%L) TO (%L)', nm, lo, hi);
    EXECUTE format('ALTER TABLE public.%I DROP CONSTRAINT %I', nm, nm || '_bounds');
  END IF;
  EXECUTE format('ALTER TABLE public.%I OWNER TO %I', nm, owner);
  PERFORM techmart_ops.sync_partition_flush_triggers();
  RETURN true;
END $$;

CREATE FUNCTION techmart_ops.ensure_partitions(months_ahead integer DEFAULT 3)
RETURNS TABLE (partition text, range_from timestamptz, range_to timestamptz, created boolean)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  m timestamptz;
  def regclass := to_regclass('public.transactions_default');
BEGIN
  IF months_ahead IS NULL OR months_ahead < 0 OR months_ahead > 120 THEN
    RAISE EXCEPTION 'months_ahead must be between 0 and 120 (got %)', months_ahead USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF (SELECT relkind FROM pg_class WHERE oid = 'public.transactions'::regclass) <> 'p' THEN
    RAISE EXCEPTION 'transactions is not partitioned' USING ERRCODE = 'object_not_in_prerequisite_state',
      HINT = 'SELECT * FROM techmart_ops.partition_transactions() converts it.';
  END IF;
  LOCK TABLE public.transactions IN SHARE ROW EXCLUSIVE MODE;
  -- this month to months_ahead, then the months of rows waiting in DEFAULT
  FOR m IN SELECT generate_series(techmart_ops.month_start(now()),
                                  techmart_ops.month_start(now()) + make_interval(months => months_ahead),
                                  interval '1 month') LOOP
    partition := techmart_ops.partition_name(m);
    range_from := m;
    range_to := m + interval '1 month';
    created := techmart_ops.create_month_partition(m);
    RETURN NEXT;
  END LOOP;
  IF def IS NOT NULL THEN
    FOR m IN EXECUTE format('SELECT DISTINCT techmart_ops.month_start(transaction_time) FROM %s ORDER BY 1', def) LOOP
      partition := techmart_ops.partition_name(m);
      range_from := m;
      range_to := m + interval '1 month';
      created := techmart_ops.create_month_partition(m);
      RETURN NEXT;
    END LOOP;
  END IF;
END $$;
COMMENT ON FUNCTION techmart_ops.ensure_partitions(integer) IS
  'Creates the monthly (UTC) partitions of transactions from this month to months_ahead ahead, and those of rows waiting in the DEFAULT partition (moved out of it); idempotent';

-- Converts transactions into a table partitioned by month, in the caller's transaction.
CREATE FUNCTION techmart_ops.partition_transactions(months_ahead integer DEFAULT 3)
RETURNS TABLE (partition text, range_from timestamptz, range_to timestamptz, rows bigint)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  old regclass := 'public.transactions'::regclass;
  rec record;
  views jsonb := '[]';
  trigs jsonb := '[]';
  funcs jsonb := '[]';
  idxs text[] := '{}';
  fks text[] := '{}';
  stmt text;
  owner name;
  tcomment text;
  seq_last bigint;
  seq_called boolean;
  first_month timestamptz;
  m timestamptz;
  n bigint;
BEGIN
  IF (SELECT relkind FROM pg_class WHERE oid = old) = 'p' THEN
    RAISE EXCEPTION 'transactions is already partitioned' USING ERRCODE = 'object_not_in_prerequisite_state',
      HINT = 'techmart_ops.ensure_partitions() adds months to it.';
  END IF;
  IF months_ahead IS NULL OR months_ahead < 0 OR months_ahead > 120 THEN
    RAISE EXCEPTION 'months_ahead must be between 0 and 120 (got %)', months_ahead USING ERRCODE = 'invalid_parameter_value';
  END IF;
  LOCK TABLE public.transactions IN ACCESS EXCLUSIVE MODE;

  -- what this function cannot carry over is refused, not lost
  SELECT string_agg(pg_describe_object(d.classid, d.objid, d.objsubid), ', ') INTO stmt
    FROM pg_depend d
   WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = old AND d.deptype = 'n'
     AND NOT (d.classid = 'pg_rewrite'::regclass
              AND (SELECT c.relkind FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class WHERE r.oid = d.objid) = 'v'
              AND (SELECT r.rulename FROM pg_rewrite r WHERE r.oid = d.objid) = '_RETURN')
     AND NOT (d.classid = 'pg_constraint'::regclass
              AND (SELECT contype FROM pg_constraint WHERE oid = d.objid) IN ('f', 'c'))
     AND NOT (d.classid = 'pg_trigger'::regclass);
  IF stmt IS NOT NULL THEN
    RAISE EXCEPTION 'transactions has dependent objects partition_transactions() cannot carry over: %', stmt
      USING ERRCODE = 'feature_not_supported';
  END IF;
  IF EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = old) OR EXISTS (SELECT 1 FROM pg_publication_rel WHERE prrelid = old) THEN
    RAISE EXCEPTION 'transactions has row security policies or publications; convert by hand'
      USING ERRCODE = 'feature_not_supported';
  END IF;

  -- 1. capture, with every name schema-qualified (search_path is pg_catalog here)
  FOR rec IN SELECT DISTINCT c.oid::regclass AS v, pg_get_viewdef(c.oid) AS def, c.reloptions
               FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class c ON c.oid = r.ev_class
              WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = old AND c.oid <> old LOOP
    views := views || jsonb_build_object('stmt', format('CREATE OR REPLACE VIEW %s %s AS %s', rec.v,
               CASE WHEN rec.reloptions IS NULL THEN '' ELSE 'WITH (' || array_to_string(rec.reloptions, ', ') || ')' END,
               rec.def));
  END LOOP;
  -- functions taking or returning the row type (api.transaction_json(transactions)): recreated
  -- for the new row type, with their grants, owner and comment
  FOR rec IN SELECT DISTINCT p.oid, p.oid::regprocedure::text AS sig, pg_get_functiondef(p.oid) AS def,
                    pg_get_userbyid(p.proowner) AS owner, obj_description(p.oid, 'pg_proc') AS cmt, p.proacl
               FROM pg_depend d JOIN pg_proc p ON p.oid = d.objid
              WHERE d.classid = 'pg_proc'::regclass AND d.deptype = 'n'
                AND d.refobjid IN (SELECT t.oid FROM pg_type t WHERE t.typrelid = old
                                   UNION SELECT t.typarray FROM pg_type t WHERE t.typrelid = old) LOOP
    IF EXISTS (SELECT 1 FROM pg_depend d2 WHERE d2.refclassid = 'pg_proc'::regclass AND d2.refobjid = rec.oid AND d2.deptype = 'n') THEN
      RAISE EXCEPTION 'function % (on the row type of transactions) has dependent objects; convert by hand', rec.sig
        USING ERRCODE = 'feature_not_supported';
    END IF;
    funcs := funcs || jsonb_build_object('oid', rec.oid, 'sig', rec.sig, 'def', rec.def, 'owner', rec.owner, 'comment', rec.cmt,
                                         'grants', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                                      'grantee', CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
                                                      'grantable', a.is_grantable)), '[]')
                                                    FROM aclexplode(coalesce(rec.proacl, acldefault('f', (SELECT proowner FROM pg_proc WHERE oid = rec.oid)))) a
                                                   WHERE a.grantee <> (SELECT proowner FROM pg_proc WHERE oid = rec.oid)));
  END LOOP;
  FOR rec IN SELECT tg.tgname, pg_get_triggerdef(tg.oid) AS def, tg.tgenabled
               FROM pg_trigger tg WHERE tg.tgrelid = old AND NOT tg.tgisinternal ORDER BY tg.tgname LOOP
    trigs := trigs || jsonb_build_object('name', rec.tgname, 'def', rec.def, 'enabled', rec.tgenabled);
  END LOOP;
  SELECT array_agg(pg_get_indexdef(i.indexrelid) ORDER BY i.indexrelid) INTO idxs
    FROM pg_index i WHERE i.indrelid = old
     AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = old);
  IF EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conrelid = old AND c.contype IN ('u', 'x')) THEN
    RAISE EXCEPTION 'transactions has unique or exclusion constraints besides its primary key; convert by hand'
      USING ERRCODE = 'feature_not_supported';
  END IF;
  SELECT array_agg(format('ALTER TABLE public.transactions ADD CONSTRAINT %I %s', c.conname, pg_get_constraintdef(c.oid)) ORDER BY c.conname)
    INTO fks FROM pg_constraint c WHERE c.conrelid = old AND c.contype = 'f';
  owner := (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = old);
  tcomment := obj_description(old, 'pg_class');
  EXECUTE format('SELECT last_value, is_called FROM %s', pg_get_serial_sequence('public.transactions', 'id'))
    INTO seq_last, seq_called;

  -- 2. the references become triggers (techmart_ops.transaction_refs)
  FOR rec IN SELECT c.oid, c.conname, c.conrelid::regclass AS tbl, a.attname AS col, c.confdeltype,
                    c.condeferrable, c.condeferred
               FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
              WHERE c.confrelid = old AND c.contype = 'f' AND c.conrelid <> old LOOP
    IF (SELECT cardinality(conkey) FROM pg_constraint WHERE oid = rec.oid) <> 1 THEN
      RAISE EXCEPTION 'foreign key % has several columns; convert by hand', rec.conname USING ERRCODE = 'feature_not_supported';
    END IF;
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', rec.tbl, rec.conname);
    INSERT INTO techmart_ops.transaction_refs (tbl, col, conname, on_delete)
    VALUES (rec.tbl, rec.col, rec.conname,
            CASE rec.confdeltype WHEN 'c' THEN 'cascade' WHEN 'n' THEN 'set null' WHEN 'r' THEN 'restrict' ELSE 'no action' END);
    EXECUTE format('CREATE CONSTRAINT TRIGGER %I AFTER INSERT OR UPDATE OF %I ON %s %s FOR EACH ROW
                    EXECUTE FUNCTION techmart_ops.transaction_ref_check(%L)',
                   rec.conname, rec.col, rec.tbl,
                   CASE WHEN NOT rec.condeferrable THEN 'NOT DEFERRABLE'
                        WHEN rec.condeferred THEN 'DEFERRABLE INITIALLY DEFERRED' ELSE 'DEFERRABLE INITIALLY IMMEDIATE' END,
                   rec.col);
  END LOOP;

  -- 3. the new parent, its months and the DEFAULT partition, the rows (no trigger exists yet
  --    on the new table: nothing is scored, counted or notified twice)
  CREATE TABLE public.transactions_partitioned
    (LIKE public.transactions INCLUDING ALL EXCLUDING INDEXES)
    PARTITION BY RANGE (transaction_time);
  first_month := techmart_ops.month_start(least((SELECT min(transaction_time) FROM public.transactions), now()));
  FOR m IN SELECT generate_series(first_month,
                                  techmart_ops.month_start(now()) + make_interval(months => months_ahead),
                                  interval '1 month') LOOP
    EXECUTE format('CREATE TABLE public.%I PARTITION OF public.transactions_partitioned FOR VALUES FROM (%L) TO (%L)',
                   techmart_ops.partition_name(m), m, m + interval '1 month');
  END LOOP;
  CREATE TABLE public.transactions_default PARTITION OF public.transactions_partitioned DEFAULT;
  INSERT INTO public.transactions_partitioned SELECT * FROM public.transactions;

  -- 4. swap: views re-pointed (CREATE OR REPLACE keeps their grants, owners, comments and
  --    dependants), the old table dropped with its indexes, triggers and identity sequence
  ALTER TABLE public.transactions RENAME TO transactions_unpartitioned;
  ALTER TABLE public.transactions_partitioned RENAME TO transactions;
  FOR rec IN SELECT x->>'stmt' AS s FROM jsonb_array_elements(views) x LOOP
    EXECUTE rec.s;
  END LOOP;
  FOR rec IN SELECT a.grantee, a.privilege_type, a.is_grantable
               FROM pg_class c, aclexplode(c.relacl) a
              WHERE c.oid = 'public.transactions_unpartitioned'::regclass AND a.grantee <> c.relowner LOOP
    EXECUTE format('GRANT %s ON public.transactions TO %s %s', rec.privilege_type,
                   CASE WHEN rec.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(rec.grantee)) END,
                   CASE WHEN rec.is_grantable THEN 'WITH GRANT OPTION' ELSE '' END);
  END LOOP;
  FOR rec IN SELECT att.attname, a.grantee, a.privilege_type
               FROM pg_attribute att, aclexplode(att.attacl) a
              WHERE att.attrelid = 'public.transactions_unpartitioned'::regclass AND att.attacl IS NOT NULL LOOP
    EXECUTE format('GRANT %s (%I) ON public.transactions TO %s', rec.privilege_type, rec.attname,
                   CASE WHEN rec.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(rec.grantee)) END);
  END LOOP;
  FOR rec IN SELECT x FROM jsonb_array_elements(funcs) x LOOP
    EXECUTE format('DROP FUNCTION %s', (rec.x->>'oid')::oid::regprocedure);
    EXECUTE rec.x->>'def';
    stmt := rec.x->>'sig';  -- public.transactions now names the new row type
    EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', stmt);
    EXECUTE format('ALTER FUNCTION %s OWNER TO %I', stmt, rec.x->>'owner');
    FOR n IN 0 .. jsonb_array_length(rec.x->'grants') - 1 LOOP
      EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %s %s', stmt, rec.x->'grants'->n->>'grantee',
                     CASE WHEN (rec.x->'grants'->n->>'grantable')::boolean THEN 'WITH GRANT OPTION' ELSE '' END);
    END LOOP;
    EXECUTE format('COMMENT ON FUNCTION %s IS %L', stmt, rec.x->>'comment');
  END LOOP;
  DROP TABLE public.transactions_unpartitioned;

  -- 5. keys, indexes, foreign keys, triggers, identity, owner, comment
  ALTER TABLE public.transactions ADD CONSTRAINT transactions_pkey PRIMARY KEY (id, transaction_time);
  FOREACH stmt IN ARRAY coalesce(idxs, '{}') LOOP
    EXECUTE stmt;
  END LOOP;
  FOREACH stmt IN ARRAY coalesce(fks, '{}') LOOP
    EXECUTE stmt;
  END LOOP;
  FOR rec IN SELECT x->>'name' AS name, x->>'def' AS def, x->>'enabled' AS enabled FROM jsonb_array_elements(trigs) x LOOP
    EXECUTE rec.def;
    IF rec.enabled <> 'O' THEN
      EXECUTE format('ALTER TABLE public.transactions %s TRIGGER %I',
                     CASE rec.enabled WHEN 'D' THEN 'DISABLE' WHEN 'R' THEN 'ENABLE REPLICA' ELSE 'ENABLE ALWAYS' END, rec.name);
    END IF;
  END LOOP;
  CREATE TRIGGER transactions_refs_del AFTER DELETE ON public.transactions REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION techmart_ops.transaction_refs_deleted();
  CREATE TRIGGER transactions_refs_upd AFTER UPDATE ON public.transactions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION techmart_ops.transaction_refs_updated();
  CREATE TRIGGER transactions_refs_trunc AFTER TRUNCATE ON public.transactions
    FOR EACH STATEMENT EXECUTE FUNCTION techmart_ops.transaction_refs_truncated();
  ALTER SEQUENCE public.transactions_partitioned_id_seq RENAME TO transactions_id_seq;
  IF seq_last IS NOT NULL THEN
    PERFORM setval('public.transactions_id_seq', seq_last, seq_called);
  END IF;
  EXECUTE format('ALTER TABLE public.transactions OWNER TO %I', owner);
  FOR rec IN SELECT i.inhrelid::regclass AS part FROM pg_inherits i WHERE i.inhparent = 'public.transactions'::regclass LOOP
    EXECUTE format('ALTER TABLE %s OWNER TO %I', rec.part, owner);
  END LOOP;
  EXECUTE format('COMMENT ON TABLE public.transactions IS %L', tcomment);
  PERFORM techmart_ops.sync_partition_flush_triggers();
  ANALYZE public.transactions;

  FOR rec IN SELECT * FROM techmart_ops.transaction_partitions() LOOP
    partition := rec.partition; range_from := rec.range_from; range_to := rec.range_to; rows := rec.rows;
    RETURN NEXT;
  END LOOP;
END $$;
COMMENT ON FUNCTION techmart_ops.partition_transactions(integer) IS
  'Converts transactions into a table range-partitioned by UTC month (months of the data up to months_ahead ahead, plus DEFAULT), in one transaction; refuses (55000) a partitioned table';

-- the partitions with their bounds and row counts
CREATE FUNCTION techmart_ops.transaction_partitions()
RETURNS TABLE (partition text, range_from timestamptz, range_to timestamptz, rows bigint)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  rec record;
BEGIN
  FOR rec IN SELECT c.oid::regclass AS part, c.relname::text AS nm, pg_get_expr(c.relpartbound, c.oid) AS bound
               FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
              WHERE i.inhparent = 'public.transactions'::regclass LOOP
    partition := rec.nm;
    IF rec.bound = 'DEFAULT' THEN
      range_from := NULL; range_to := NULL;
    ELSE
      range_from := substring(rec.bound FROM 'FROM \(''([^'']+)''\)')::timestamptz;
      range_to := substring(rec.bound FROM 'TO \(''([^'']+)''\)')::timestamptz;
    END IF;
    EXECUTE format('SELECT count(*) FROM %s', rec.part) INTO rows;
    RETURN NEXT;
  END LOOP;
END $$;

-- Retention: detaches and drops the monthly partitions entirely before `before` (a UTC month
-- start, not later than the current month), and deletes the DEFAULT partition's rows before it.
-- The references into those rows follow their ON DELETE (labels and planted_fraud deleted,
-- alerts kept with transaction_id NULL) without firing their tables' triggers: the scoring
-- state, the entity counters and the hourly rollups are history and are kept as they are
-- (docs/scaling.md). One row per partition removed.
CREATE FUNCTION techmart_ops.drop_transactions_before(before timestamptz)
RETURNS TABLE (partition text, range_from timestamptz, range_to timestamptz, transactions bigint, refs jsonb)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  p record;
  r record;
  n bigint;
  where_sql text;
  srr text := current_setting('session_replication_role');
BEGIN
  IF before IS NULL OR before <> techmart_ops.month_start(before) THEN
    RAISE EXCEPTION 'before must be the start of a month in UTC (got %)', before USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF before > techmart_ops.month_start(now()) THEN
    RAISE EXCEPTION 'refusing to drop the current month or later (before = %)', before USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF (SELECT relkind FROM pg_class WHERE oid = 'public.transactions'::regclass) <> 'p' THEN
    RAISE EXCEPTION 'transactions is not partitioned' USING ERRCODE = 'object_not_in_prerequisite_state',
      HINT = 'SELECT * FROM techmart_ops.partition_transactions() converts it.';
  END IF;
  LOCK TABLE public.transactions IN ACCESS EXCLUSIVE MODE;
  FOR p IN SELECT * FROM techmart_ops.transaction_partitions() x
            WHERE x.range_to <= before OR x.range_from IS NULL ORDER BY x.range_from NULLS LAST LOOP
    IF p.range_from IS NULL THEN
      where_sql := format('transaction_time < %L', before);
      EXECUTE format('SELECT count(*) FROM public.%I WHERE %s', p.partition, where_sql) INTO n;
      CONTINUE WHEN n = 0;
    ELSE
      where_sql := 'true';
      n := p.rows;
    END IF;
    partition := p.partition; range_from := p.range_from; range_to := coalesce(p.range_to, before);
    transactions := n;
    refs := '{}';
    -- the referencing rows: their own triggers do not fire (session_replication_role, restored)
    PERFORM set_config('session_replication_role', 'replica', true);
    FOR r IN SELECT * FROM techmart_ops.transaction_refs ORDER BY tbl::text, col LOOP
      IF r.on_delete = 'cascade' THEN
        EXECUTE format('DELETE FROM %s x WHERE x.%I IN (SELECT t.id FROM public.%I t WHERE %s)', r.tbl, r.col, p.partition, where_sql);
      ELSIF r.on_delete = 'set null' THEN
        EXECUTE format('UPDATE %s x SET %I = NULL WHERE x.%I IN (SELECT t.id FROM public.%I t WHERE %s)', r.tbl, r.col, r.col, p.partition, where_sql);
      ELSE
        EXECUTE format('SELECT count(*) FROM %s x WHERE x.%I IN (SELECT t.id FROM public.%I t WHERE %s)', r.tbl, r.col, p.partition, where_sql) INTO n;
        IF n > 0 THEN
          RAISE EXCEPTION '% row(s) of % reference transactions of %', n, r.tbl, p.partition
            USING ERRCODE = 'foreign_key_violation';
        END IF;
      END IF;
      IF r.on_delete IN ('cascade', 'set null') THEN
        GET DIAGNOSTICS n = ROW_COUNT;
      END IF;
      refs := refs || jsonb_build_object(r.tbl::text || '.' || r.col, jsonb_build_object('action', r.on_delete, 'rows', n));
    END LOOP;
    IF p.range_from IS NULL THEN
      -- directly in the partition: the parent's statement triggers (rollups) do not fire
      EXECUTE format('DELETE FROM public.%I WHERE %s', p.partition, where_sql);
    ELSE
      EXECUTE format('ALTER TABLE public.transactions DETACH PARTITION public.%I', p.partition);
      EXECUTE format('DROP TABLE public.%I', p.partition);
    END IF;
    PERFORM set_config('session_replication_role', srr, true);
    RETURN NEXT;
  END LOOP;
END $$;
COMMENT ON FUNCTION techmart_ops.drop_transactions_before(timestamptz) IS
  'Retention: drops the monthly partitions of transactions before a UTC month start (and older DEFAULT rows); references follow ON DELETE; scoring state, entity counters and rollups are kept';

REVOKE EXECUTE ON FUNCTION techmart_ops.partition_transactions(integer), techmart_ops.ensure_partitions(integer),
  techmart_ops.drop_transactions_before(timestamptz), techmart_ops.create_month_partition(timestamptz),
  techmart_ops.transaction_partitions() FROM PUBLIC;

COMMIT;

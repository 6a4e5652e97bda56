-- ---------------------------------------------------------------------------------------
-- 40-entity: verdicts as events and entity risk (docs/entity-risk.md).
--   * label(transaction_id, label, note, labelled_at): a verdict at a time; every change is kept
--     in public.transaction_labels; the verdict of a transaction at time t is its latest label
--     row (labelled_at, id) with labelled_at < t ('unknown' = no verdict).
--   * entity_counts: per (kind, entity key, UTC day of the labelled transaction) the number of
--     transactions whose current verdict is fraud or legitimate, and of them fraud; kept
--     incrementally by entity_recount() (trigger on transaction_labels, sqitch change
--     entity_risk), exactly equal to a recomputation (entity_check()).
--   * the rules entity_<kind> (rule_config, disabled by default) read the trailing window of
--     those buckets for the transaction's entities (one indexed lookup per kind, cached per
--     statement) and observe the log-odds lift of the smoothed fraud rate over the shop's.

-- ----------------------------------------------------------------------- the rules
INSERT INTO @extschema@.rule_config (rule, enabled, weight, threshold, params) VALUES
  ('entity_customer', false, 0.3, 0, '{"window_days": 30, "prior_strength": 5, "min_labelled": 1}'),
  ('entity_product',  false, 0.3, 0, '{"window_days": 30, "prior_strength": 5, "min_labelled": 1}'),
  ('entity_device',   false, 0.3, 0, '{"window_days": 30, "prior_strength": 5, "min_labelled": 1}'),
  ('entity_ip',       false, 0.3, 0, '{"window_days": 30, "prior_strength": 5, "min_labelled": 1}'),
  ('entity_ip24',     false, 0.3, 0, '{"window_days": 30, "prior_strength": 5, "min_labelled": 1}'),
  ('entity_payment',  false, 0.3, 0, '{"window_days": 30, "prior_strength": 5, "min_labelled": 1}'),
  ('entity_country',  false, 0.3, 0, '{"window_days": 30, "prior_strength": 5, "min_labelled": 1}');

-- The configuration of the entity kinds: a view of their rules, updatable (enabled, window_days,
-- prior_strength, min_labelled, weight, threshold).
CREATE VIEW @extschema@.entity_kind AS
SELECT substr(c.rule, 8) AS kind, c.rule, c.enabled,
       (c.params ->> 'window_days')::int AS window_days,
       (c.params ->> 'prior_strength')::float8 AS prior_strength,
       coalesce((c.params ->> 'min_labelled')::float8, 1) AS min_labelled,
       c.weight, c.threshold,
       CASE substr(c.rule, 8)
         WHEN 'customer' THEN 'transactions.customer_id'
         WHEN 'product' THEN 'transactions.product_id'
         WHEN 'device' THEN 'transactions.device_id'
         WHEN 'ip' THEN 'host(transactions.ip_address)'
         WHEN 'ip24' THEN 'the /24 network of ip_address (IPv6: /64)'
         WHEN 'payment' THEN 'transactions.payment_fingerprint'
         WHEN 'country' THEN 'transactions.country' END AS entity
  FROM @extschema@.rule_config c
 WHERE c.rule IN ('entity_customer', 'entity_product', 'entity_device', 'entity_ip', 'entity_ip24',
                  'entity_payment', 'entity_country');
COMMENT ON VIEW @extschema@.entity_kind IS
  'Entity kinds of the entity risk rules (rows of rule_config entity_<kind>): UPDATE enabled, window_days '
  '(trailing days of verdicts), prior_strength (m of (frauds + m p0) / (labelled + m)), min_labelled, weight, '
  'threshold (on the log-odds lift over the shop-wide rate)';
GRANT SELECT ON @extschema@.entity_kind TO PUBLIC;

CREATE FUNCTION @extschema@.entity_kind_update() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF NEW.kind IS DISTINCT FROM OLD.kind OR NEW.rule IS DISTINCT FROM OLD.rule THEN
    RAISE EXCEPTION 'entity_kind: kind and rule cannot change' USING ERRCODE = '0A000';
  END IF;
  IF NEW.window_days IS NULL OR NEW.prior_strength IS NULL OR NEW.min_labelled IS NULL THEN
    RAISE EXCEPTION 'entity_kind: window_days, prior_strength and min_labelled are required'
      USING ERRCODE = '23502';
  END IF;
  UPDATE @extschema@.rule_config
     SET enabled = NEW.enabled, weight = NEW.weight, threshold = NEW.threshold,
         params = jsonb_build_object('window_days', NEW.window_days, 'prior_strength', NEW.prior_strength,
                                     'min_labelled', NEW.min_labelled)
   WHERE rule = OLD.rule;
  RETURN NEW;
END $$;
CREATE TRIGGER entity_kind_update INSTEAD OF UPDATE ON @extschema@.entity_kind
  FOR EACH ROW EXECUTE FUNCTION @extschema@.entity_kind_update();

-- --------------------------------------------------------------------- counters
CREATE TABLE @extschema@.entity_counts (
  kind     text   NOT NULL,
  entity   text   NOT NULL,
  day      date   NOT NULL,
  -- no CHECK: the deltas of a recount are upserted as rows (a CHECK would judge the delta);
  -- entity_check() and the scoring trigger's read verify 0 <= frauds <= labelled
  labelled bigint NOT NULL,
  frauds   bigint NOT NULL,
  PRIMARY KEY (kind, entity, day)
) WITH (fillfactor = 80);
COMMENT ON TABLE @extschema@.entity_counts IS
  'Verdict counters per entity (kind, key) and UTC day of the labelled transaction: labelled = transactions whose '
  'current verdict is fraud or legitimate, frauds = of them fraud. kind ''*'' / entity ''*'' is the whole shop. '
  'Kept by entity_recount() (trigger on transaction_labels); entity_check() compares with a recomputation';
GRANT SELECT ON @extschema@.entity_counts TO PUBLIC;

CREATE TABLE @extschema@.entity_version (
  one     boolean PRIMARY KEY DEFAULT true CHECK (one),
  version bigint NOT NULL DEFAULT 0
);
INSERT INTO @extschema@.entity_version DEFAULT VALUES;
COMMENT ON TABLE @extschema@.entity_version IS
  'One row, bumped once per statement that changed entity_counts (entity_bump_version after entity_recount; '
  'entity_rebuild): the scoring trigger keeps '
  'its in-memory copy of the counters while (xmin, version) of this row is unchanged';
GRANT SELECT ON @extschema@.entity_version TO PUBLIC;

CREATE TABLE @extschema@.entity_counted (
  transaction_id bigint PRIMARY KEY,
  label          text   NOT NULL CHECK (label IN ('fraud', 'legitimate')),
  day            date   NOT NULL,
  kinds          text[] NOT NULL,
  entities       text[] NOT NULL CHECK (cardinality(kinds) = cardinality(entities))
);
COMMENT ON TABLE @extschema@.entity_counted IS
  'What entity_counts holds for each labelled transaction (verdict, day, entity keys), so that a verdict change, '
  'a retraction or a change of the transaction''s identifiers moves exactly what was counted';

-- The entities of a transaction: ('*', '*') for the shop, then one row per kind with a key.
CREATE FUNCTION @extschema@.entity_keys(customer_id bigint, product_id bigint, device_id text,
                                        ip_address inet, payment_fingerprint text, country text)
RETURNS TABLE (kind text, entity text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
  SELECT v.kind, v.entity FROM (VALUES
    (0, '*', '*'),
    (1, 'customer', customer_id::text),
    (2, 'product', product_id::text),
    (3, 'device', device_id),
    (4, 'ip', host(ip_address)),
    (5, 'ip24', CASE WHEN family(ip_address) = 4 THEN network(set_masklen(ip_address, 24))::text
                     ELSE network(set_masklen(ip_address, 64))::text END),
    (6, 'payment', payment_fingerprint),
    (7, 'country', nullif(btrim(country), '')),
    -- the customer's own share of device, ip, ip24 and payment (left out by those rules)
    (8, 'device/customer', device_id || '/' || customer_id),
    (9, 'ip/customer', host(ip_address) || '/' || customer_id),
    (10, 'ip24/customer', CASE WHEN family(ip_address) = 4 THEN network(set_masklen(ip_address, 24))::text
                               ELSE network(set_masklen(ip_address, 64))::text END || '/' || customer_id),
    (11, 'payment/customer', payment_fingerprint || '/' || customer_id)) v(o, kind, entity)
  WHERE v.entity IS NOT NULL ORDER BY v.o
$$;
COMMENT ON FUNCTION @extschema@.entity_keys(bigint, bigint, text, inet, text, text) IS
  'Entity keys of a transaction as counted and looked up: customer and product ids, device_id, host of ip_address, '
  'its /24 network (IPv6 /64), payment_fingerprint, country; (''*'', ''*'') for the shop; and <kind>/customer = '
  '<key>/<customer_id> for device, ip, ip24, payment (the customer''s own share, left out by those rules)';

-- Brings entity_counts in line with the current verdict of one transaction. Every recount takes
-- the same transaction-level advisory lock first, so recounts are serialised (labels are written
-- at human speed) and, in READ COMMITTED, each sees every earlier commit. Lock order: a
-- transactions row (label(), the API, an UPDATE of identifiers), then the advisory lock, then
-- counter rows; nothing holding the advisory lock waits for a transactions row, except a
-- transaction that labels several transactions one after another (then 40P01 is possible).
CREATE FUNCTION @extschema@.entity_recount(p_transaction_id bigint)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  old_row @extschema@.entity_counted;
  v_label text;
  v_day date;
  v_kinds text[];
  v_entities text[];
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'verdicts are recorded in READ COMMITTED transactions (entity counters), not %',
      current_setting('transaction_isolation') USING ERRCODE = '0A000';
  END IF;
  PERFORM pg_advisory_xact_lock(7262, 40);
  SELECT * INTO old_row FROM @extschema@.entity_counted c WHERE c.transaction_id = p_transaction_id;
  SELECT l.label INTO v_label FROM public.transaction_labels l
   WHERE l.transaction_id = p_transaction_id ORDER BY l.labelled_at DESC, l.id DESC LIMIT 1;
  IF v_label IN ('fraud', 'legitimate') THEN
    -- no row lock here (lock order: a transactions row, then the advisory lock): a concurrent change
    -- of the identifiers recounts after us (its trigger waits for the advisory lock)
    SELECT (t.transaction_time AT TIME ZONE 'UTC')::date, array_agg(k.kind), array_agg(k.entity)
      INTO v_day, v_kinds, v_entities
      FROM public.transactions t,
           @extschema@.entity_keys(t.customer_id, t.product_id, t.device_id, t.ip_address,
                                   t.payment_fingerprint, t.country::text) k
     WHERE t.id = p_transaction_id
     GROUP BY t.transaction_time;
    IF v_day IS NULL THEN v_label := NULL; END IF;
  ELSE
    v_label := NULL;
  END IF;
  IF old_row.transaction_id IS NOT NULL AND v_label IS NOT NULL AND old_row.label = v_label
     AND old_row.day = v_day AND old_row.kinds = v_kinds AND old_row.entities = v_entities THEN
    RETURN false;
  END IF;
  IF old_row.transaction_id IS NULL AND v_label IS NULL THEN
    RETURN false;
  END IF;
  INSERT INTO @extschema@.entity_counts AS c (kind, entity, day, labelled, frauds)
  SELECT d.kind, d.entity, d.day, sum(d.dl), sum(d.df)
    FROM (SELECT o.kind, o.entity, old_row.day AS day, -1 AS dl, -(old_row.label = 'fraud')::int AS df
            FROM unnest(old_row.kinds, old_row.entities) o(kind, entity)
           WHERE old_row.transaction_id IS NOT NULL
          UNION ALL
          SELECT n.kind, n.entity, v_day, 1, (v_label = 'fraud')::int
            FROM unnest(v_kinds, v_entities) n(kind, entity)
           WHERE v_label IS NOT NULL) d
   GROUP BY d.kind, d.entity, d.day
  HAVING sum(d.dl) <> 0 OR sum(d.df) <> 0
   ORDER BY d.kind, d.entity, d.day
  ON CONFLICT (kind, entity, day) DO UPDATE
     SET labelled = c.labelled + excluded.labelled, frauds = c.frauds + excluded.frauds;
  -- entity_version is bumped once per statement by entity_bump_version() (a statement trigger):
  -- one UPDATE of that row per recount made bulk labelling quadratic (every UPDATE in a
  -- transaction walks the versions of the row it already created)
  PERFORM set_config('techmart_entity.dirty', 'on', true);
  IF v_label IS NULL THEN
    DELETE FROM @extschema@.entity_counted c WHERE c.transaction_id = p_transaction_id;
  ELSE
    INSERT INTO @extschema@.entity_counted AS c (transaction_id, label, day, kinds, entities)
    VALUES (p_transaction_id, v_label, v_day, v_kinds, v_entities)
    ON CONFLICT (transaction_id) DO UPDATE
       SET label = excluded.label, day = excluded.day, kinds = excluded.kinds, entities = excluded.entities;
  END IF;
  RETURN true;
END $$;
REVOKE ALL ON FUNCTION @extschema@.entity_recount(bigint) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.entity_recount(bigint) IS
  'Moves the entity counters of one transaction to its current verdict (latest transaction_labels row): adds, '
  'removes or moves what entity_counted says was counted. Called by the triggers of the sqitch change entity_risk';

-- Trigger functions (attached to public tables by the sqitch change entity_risk).
CREATE FUNCTION @extschema@.entity_label_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    PERFORM @extschema@.entity_recount(OLD.transaction_id);
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND (TG_OP = 'INSERT' OR NEW.transaction_id <> OLD.transaction_id) THEN
    PERFORM @extschema@.entity_recount(NEW.transaction_id);
  END IF;
  RETURN NULL;
END $$;
COMMENT ON FUNCTION @extschema@.entity_label_changed() IS
  'AFTER INSERT OR UPDATE OR DELETE FOR EACH ROW on transaction_labels: entity_recount() of the transaction';

CREATE FUNCTION @extschema@.entity_transaction_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  -- always (a verdict being recorded concurrently is not visible yet; the recount waits for it)
  PERFORM @extschema@.entity_recount(NEW.id);
  RETURN NULL;
END $$;
COMMENT ON FUNCTION @extschema@.entity_transaction_changed() IS
  'AFTER UPDATE OF the identifiers on transactions: recounts a labelled transaction whose entities changed';

CREATE FUNCTION @extschema@.entity_bump_version() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF current_setting('techmart_entity.dirty', true) = 'on' THEN
    UPDATE @extschema@.entity_version SET version = version + 1;
    PERFORM set_config('techmart_entity.dirty', 'off', true);
  END IF;
  RETURN NULL;
END $$;
COMMENT ON FUNCTION @extschema@.entity_bump_version() IS
  'AFTER ... FOR EACH STATEMENT on transaction_labels and on transactions (identifier updates): bumps entity_version '
  'once when a row trigger of the statement changed entity_counts, so the scoring caches reload at the next statement';

CREATE FUNCTION @extschema@.entity_labels_truncated() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM @extschema@.entity_rebuild();
  RETURN NULL;
END $$;
COMMENT ON FUNCTION @extschema@.entity_labels_truncated() IS
  'AFTER TRUNCATE on transaction_labels (also TRUNCATE transactions CASCADE): the counters are recomputed';

-- The recomputation the counters must equal, and the differences.
CREATE FUNCTION @extschema@.entity_counts_expected()
RETURNS TABLE (kind text, entity text, day date, labelled bigint, frauds bigint)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  WITH v AS (
    SELECT DISTINCT ON (l.transaction_id) l.transaction_id, l.label
      FROM public.transaction_labels l
     ORDER BY l.transaction_id, l.labelled_at DESC, l.id DESC)
  SELECT k.kind, k.entity, (t.transaction_time AT TIME ZONE 'UTC')::date, count(*),
         count(*) FILTER (WHERE v.label = 'fraud')
    FROM v JOIN public.transactions t ON t.id = v.transaction_id,
         @extschema@.entity_keys(t.customer_id, t.product_id, t.device_id, t.ip_address,
                                 t.payment_fingerprint, t.country::text) k
   WHERE v.label IN ('fraud', 'legitimate')
   GROUP BY 1, 2, 3
$$;
COMMENT ON FUNCTION @extschema@.entity_counts_expected() IS
  'entity_counts recomputed from transaction_labels (latest verdict of each transaction) and transactions';

CREATE FUNCTION @extschema@.entity_check()
RETURNS TABLE (kind text, entity text, day date, labelled bigint, frauds bigint,
               expected_labelled bigint, expected_frauds bigint)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT coalesce(c.kind, e.kind), coalesce(c.entity, e.entity), coalesce(c.day, e.day),
         coalesce(c.labelled, 0), coalesce(c.frauds, 0), coalesce(e.labelled, 0), coalesce(e.frauds, 0)
    FROM (SELECT * FROM @extschema@.entity_counts WHERE labelled <> 0) c
    FULL JOIN @extschema@.entity_counts_expected() e
      ON e.kind = c.kind AND e.entity = c.entity AND e.day = c.day
   WHERE c.labelled IS DISTINCT FROM e.labelled OR c.frauds IS DISTINCT FROM e.frauds
   ORDER BY 1, 2, 3
$$;
COMMENT ON FUNCTION @extschema@.entity_check() IS
  'Rows where entity_counts differs from a recomputation from the verdicts (none when exact)';

CREATE FUNCTION @extschema@.entity_rebuild()
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  n bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(7262, 40);
  DELETE FROM @extschema@.entity_counts;
  DELETE FROM @extschema@.entity_counted;
  INSERT INTO @extschema@.entity_counts (kind, entity, day, labelled, frauds)
  SELECT * FROM @extschema@.entity_counts_expected();
  GET DIAGNOSTICS n = ROW_COUNT;
  UPDATE @extschema@.entity_version SET version = version + 1;
  INSERT INTO @extschema@.entity_counted (transaction_id, label, day, kinds, entities)
  SELECT v.transaction_id, v.label, (t.transaction_time AT TIME ZONE 'UTC')::date, k.kinds, k.entities
    FROM (SELECT DISTINCT ON (l.transaction_id) l.transaction_id, l.label
            FROM public.transaction_labels l
           ORDER BY l.transaction_id, l.labelled_at DESC, l.id DESC) v
    JOIN public.transactions t ON t.id = v.transaction_id,
         LATERAL (SELECT array_agg(e.kind) AS kinds, array_agg(e.entity) AS entities
                    FROM @extschema@.entity_keys(t.customer_id, t.product_id, t.device_id, t.ip_address,
                                                 t.payment_fingerprint, t.country::text) e) k
   WHERE v.label IN ('fraud', 'legitimate');
  RETURN n;
END $$;
REVOKE ALL ON FUNCTION @extschema@.entity_rebuild() FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.entity_rebuild() IS
  'Recomputes entity_counts and entity_counted from the verdicts (e.g. after a bulk load of labels with the '
  'trigger disabled); returns the number of counter rows';

-- The risk of one entity as the scoring trigger sees it for a transaction at `at`.
CREATE FUNCTION @extschema@.entity_risk(kind text, entity text, at timestamptz DEFAULT now())
RETURNS TABLE (frauds bigint, labelled bigint, shop_frauds bigint, shop_labelled bigint,
               window_days int, prior_strength float8, rate float8, shop_rate float8, lift float8)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  WITH k AS (SELECT * FROM @extschema@.entity_kind ek WHERE ek.kind = entity_risk.kind),
  d AS (SELECT (entity_risk.at AT TIME ZONE 'UTC')::date AS today),
  e AS (SELECT coalesce(sum(c.frauds), 0)::bigint AS f, coalesce(sum(c.labelled), 0)::bigint AS n
          FROM @extschema@.entity_counts c, k, d
         WHERE c.kind = entity_risk.kind AND c.entity = entity_risk.entity
           AND c.day > d.today - k.window_days AND c.day <= d.today),
  s AS (SELECT coalesce(sum(c.frauds), 0)::bigint AS f, coalesce(sum(c.labelled), 0)::bigint AS n
          FROM @extschema@.entity_counts c, k, d
         WHERE c.kind = '*' AND c.entity = '*' AND c.day > d.today - k.window_days AND c.day <= d.today),
  r AS (SELECT e.f, e.n, s.f AS sf, s.n AS sn, k.window_days, k.prior_strength,
               (s.f + 1.0) / (s.n + 2.0) AS p0 FROM e, s, k)
  SELECT r.f, r.n, r.sf, r.sn, r.window_days, r.prior_strength,
         (r.f + r.prior_strength * r.p0) / (r.n + r.prior_strength), r.p0,
         ln(((r.f + r.prior_strength * r.p0) / (r.n + r.prior_strength))
            / (1 - (r.f + r.prior_strength * r.p0) / (r.n + r.prior_strength))) - ln(r.p0 / (1 - r.p0))
    FROM r
$$;
COMMENT ON FUNCTION @extschema@.entity_risk(text, text, timestamptz) IS
  'Counters, smoothed fraud rate and log-odds lift of one entity over the window of its kind, as the entity rule '
  'of a transaction at `at` sees them (all verdicts recorded so far)';

-- --------------------------------------------------------------------- verdicts
DROP FUNCTION @extschema@.label(bigint, text, text);
CREATE FUNCTION @extschema@.label(transaction_id bigint, label text, note text DEFAULT NULL,
                                  labelled_at timestamptz DEFAULT now())
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v record;
BEGIN
  IF label IS NULL OR label NOT IN ('fraud', 'legitimate', 'unknown') THEN
    RAISE EXCEPTION 'label must be fraud, legitimate or unknown, got %', coalesce(label, 'NULL')
      USING ERRCODE = '22023';
  END IF;
  IF labelled_at IS NULL OR NOT isfinite(labelled_at) OR labelled_at > now() THEN
    RAISE EXCEPTION 'labelled_at must be a finite time not in the future, got %', coalesce(labelled_at::text, 'NULL')
      USING ERRCODE = '22023';
  END IF;
  PERFORM 1 FROM public.transactions x WHERE x.id = label.transaction_id FOR NO KEY UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'transaction % does not exist', label.transaction_id USING ERRCODE = 'P0002';
  END IF;
  INSERT INTO public.transaction_labels (transaction_id, label, labelled_at, note)
  VALUES (label.transaction_id, label.label, label.labelled_at, label.note);
  -- transactions.label/labelled_at: the current verdict (the latest by labelled_at)
  SELECT l.label, l.labelled_at INTO v FROM public.transaction_labels l
   WHERE l.transaction_id = label.transaction_id ORDER BY l.labelled_at DESC, l.id DESC LIMIT 1;
  UPDATE public.transactions x
     SET label = v.label, labelled_at = CASE WHEN v.label = 'unknown' THEN NULL ELSE v.labelled_at END
   WHERE x.id = label.transaction_id;
END $$;
COMMENT ON FUNCTION @extschema@.label(bigint, text, text, timestamptz) IS
  'An analyst''s verdict at labelled_at (default now(), never in the future): appended to transaction_labels (every '
  'change kept; the entity counters follow) and transactions.label/labelled_at set to the latest verdict';

-- 10-state-writes: the scoring state stays equal to a recomputation from the transactions after a
-- DELETE, an UPDATE of a column it depends on and a TRUNCATE (before 0.8 it kept deleted rows and
-- old values until rebuild_state()). The triggers are created by the sqitch change
-- fraud_state_writes (AFTER ... FOR EACH STATEMENT on public.transactions); an INSERT runs none of it.

CREATE FUNCTION @extschema@.refresh_state(customers bigint[], source text DEFAULT 'public.transactions')
RETURNS bigint
AS 'MODULE_PATHNAME', 'techmart_refresh_state'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.refresh_state(bigint[], text) IS
  'rebuild_state_for(customers, source) under row locks instead of table locks: the customers'' state rows '
  'created if missing and locked FOR UPDATE in id order (as the scoring trigger locks them), their history '
  'read with a snapshot taken after the locks, their state and risk_score recomputed from it and written in '
  'place (an empty state, n = 0, when no history is left); writers of other customers are not blocked. Returns '
  'the customers with history written. '
  'Called by the triggers after DELETE / UPDATE of transactions (techmart 0.8)';
REVOKE EXECUTE ON FUNCTION @extschema@.refresh_state(bigint[], text) FROM PUBLIC;

-- AFTER DELETE FOR EACH STATEMENT REFERENCING OLD TABLE AS old_rows
CREATE FUNCTION @extschema@.state_delete_trigger() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  ids bigint[];
BEGIN
  SELECT array_agg(DISTINCT o.customer_id ORDER BY o.customer_id) INTO ids FROM old_rows o;
  IF ids IS NOT NULL THEN
    PERFORM @extschema@.refresh_state(ids, format('%I.%I', TG_TABLE_SCHEMA, TG_TABLE_NAME));
  END IF;
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.state_delete_trigger() IS
  'AFTER DELETE FOR EACH STATEMENT (transition table old_rows) on transactions: the fraud state and risk_score '
  'of the customers of the deleted rows recomputed from what is left (techmart.refresh_state)';

-- AFTER UPDATE FOR EACH STATEMENT REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows: only rows
-- whose state columns changed (customer_id, amount, transaction_time, country, latitude, longitude,
-- payment_method, fraud_score, id); the customers before and after
CREATE FUNCTION @extschema@.state_update_trigger() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  ids bigint[];
BEGIN
  SELECT array_agg(DISTINCT v.c ORDER BY v.c) INTO ids
    FROM old_rows o FULL JOIN new_rows n ON n.id = o.id
   CROSS JOIN LATERAL (VALUES (o.customer_id), (n.customer_id)) v(c)
   WHERE v.c IS NOT NULL
     AND (o.id IS NULL OR n.id IS NULL
          OR (o.customer_id, o.amount, o.transaction_time, o.country, o.latitude, o.longitude,
              o.payment_method, o.fraud_score)
             IS DISTINCT FROM
             (n.customer_id, n.amount, n.transaction_time, n.country, n.latitude, n.longitude,
              n.payment_method, n.fraud_score));
  IF ids IS NOT NULL THEN
    PERFORM @extschema@.refresh_state(ids, format('%I.%I', TG_TABLE_SCHEMA, TG_TABLE_NAME));
  END IF;
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.state_update_trigger() IS
  'AFTER UPDATE FOR EACH STATEMENT (transition tables old_rows, new_rows) on transactions: the fraud state and '
  'risk_score of the customers (before and after) of rows whose customer_id, amount, transaction_time, country, '
  'latitude, longitude, payment_method, fraud_score or id changed recomputed (techmart.refresh_state); an UPDATE '
  'of other columns (status, label, ...) recomputes nothing';

-- AFTER TRUNCATE FOR EACH STATEMENT
CREATE FUNCTION @extschema@.state_truncate_trigger() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  DELETE FROM @extschema@.customer_state;
  EXECUTE format('UPDATE %I.customers SET risk_score = 0 WHERE risk_score <> 0', TG_TABLE_SCHEMA);
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.state_truncate_trigger() IS
  'AFTER TRUNCATE FOR EACH STATEMENT on transactions: every customer''s fraud state deleted and risk_score 0, '
  'as a recomputation from an empty table gives';

REVOKE EXECUTE ON FUNCTION @extschema@.state_delete_trigger(), @extschema@.state_update_trigger(),
  @extschema@.state_truncate_trigger() FROM PUBLIC;

-- the live state against a recomputation: one row per customer whose state row or risk_score differs
-- from what rebuild_state() / refresh_state() compute from source (an empty state row, n = 0, is no state) (doubles rounded as below: the live Welford sums
-- were accumulated in arrival order, the recomputation in time order). Runs the recomputation in a
-- subtransaction it rolls back; holds a SHARE lock on source meanwhile (writers wait).
CREATE FUNCTION @extschema@.customer_state_check(customers bigint[] DEFAULT NULL,
                                                 source text DEFAULT 'public.transactions')
RETURNS TABLE (customer_id bigint, live jsonb, recomputed jsonb)
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  src regclass := source::regclass;
  nsp text := (SELECT quote_ident(n.nspname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.oid = src);
  snap text := $q$
    SELECT coalesce(jsonb_object_agg(s.customer_id, jsonb_build_object(
             'n', s.n, 'mean', round(s.mean::numeric, 9), 'm2', round(s.m2::numeric, 6),
             'amount_hist', s.amount_hist, 'recent_t', s.recent_t, 'recent_a', s.recent_a,
             'hour_profile', (SELECT array_agg(round(x::numeric, 9)) FROM unnest(s.hour_profile) x),
             'profile_time', s.profile_time, 'last_transaction_time', s.last_transaction_time,
             'last_amount', s.last_amount, 'last_lat', s.last_lat, 'last_lon', s.last_lon,
             'last_country', s.last_country, 'methods', s.methods, 'risk', round(s.risk::numeric, 9),
             'risk_time', s.risk_time, 'risk_score', c.risk_score)), '{}')
      FROM @extschema@.customer_state s LEFT JOIN %s.customers c ON c.id = s.customer_id
     WHERE s.n > 0 AND ($1 IS NULL OR s.customer_id = ANY ($1))$q$;
  scores text := $q$
    SELECT coalesce(jsonb_object_agg(c.id, c.risk_score), '{}') FROM %s.customers c
     WHERE c.risk_score <> 0 AND ($1 IS NULL OR c.id = ANY ($1))$q$;
  live_states jsonb;
  live_scores jsonb;
  diffs jsonb;
BEGIN
  IF src IS NULL THEN
    RAISE EXCEPTION 'customer_state_check: the source is required' USING ERRCODE = '22004';
  END IF;
  BEGIN
    EXECUTE format('LOCK TABLE %s IN SHARE MODE', src);
    EXECUTE format(snap, nsp) INTO live_states USING customers;
    EXECUTE format(scores, nsp) INTO live_scores USING customers;
    IF customers IS NULL THEN
      PERFORM @extschema@.rebuild_state(source);
    ELSE
      PERFORM @extschema@.refresh_state(customers, source);
    END IF;
    EXECUTE format($q$
      WITH r AS (SELECT (%s) AS states, (%s) AS scores)
      SELECT coalesce(jsonb_agg(jsonb_build_object('customer_id', k::bigint,
                                                   'live', l.v, 'recomputed', n.v) ORDER BY k::bigint), '[]')
        FROM r, LATERAL (SELECT k FROM jsonb_object_keys($2 || $3) k
                         UNION SELECT k FROM jsonb_object_keys(r.states || r.scores) k) keys,
             LATERAL (SELECT coalesce($2 -> k, jsonb_build_object('risk_score', $3 -> k))) l(v),
             LATERAL (SELECT coalesce(r.states -> k, jsonb_build_object('risk_score', r.scores -> k))) n(v)
       WHERE l.v IS DISTINCT FROM n.v$q$,
      format(snap, nsp), format(scores, nsp)) INTO diffs USING customers, live_states, live_scores;
    RAISE SQLSTATE 'TMCHK';  -- undo the recomputation
  EXCEPTION WHEN SQLSTATE 'TMCHK' THEN
    NULL;
  END;
  RETURN QUERY SELECT (d ->> 'customer_id')::bigint, d -> 'live', d -> 'recomputed'
                 FROM jsonb_array_elements(diffs) d;
END
$$;
COMMENT ON FUNCTION @extschema@.customer_state_check(bigint[], text) IS
  'Customers (all, or those given) whose fraud state or risk_score differs from a recomputation from source '
  '(rebuild_state / refresh_state in a subtransaction rolled back; doubles compared rounded: mean, risk, '
  'hour_profile to 9 decimals, m2 to 6); no row when exact. Holds a SHARE lock on source while it runs (techmart 0.8)';
REVOKE EXECUTE ON FUNCTION @extschema@.customer_state_check(bigint[], text) FROM PUBLIC;

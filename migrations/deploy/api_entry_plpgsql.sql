-- Deploy techmart:api_entry_plpgsql to pg
-- requires: alert_event_cheaper
-- requires: api_list_consistency
--
-- The read endpoints' SQL functions in PL/pgSQL. The service calls one api function per request; the
-- ones below were LANGUAGE sql and SECURITY DEFINER, which PostgreSQL never inlines: every call parsed
-- and planned the body again (a SQL function keeps its plan only within one calling query, and each
-- request is a new one), and a masked variant calling its unmasked one paid it twice. PL/pgSQL keeps
-- its statements' plans for the session: GET /transactions/{id} as psql measures it, 0.52 -> 0.28 ms
-- (bench/RESULTS.md). Each body is the SQL function's single SELECT, unchanged, with INTO: the first
-- row as the SQL function returned it (NULL when none); column names win over parameter names as in
-- SQL functions (#variable_conflict use_column). Same volatility, SECURITY DEFINER, search_path,
-- comments and privileges (CREATE OR REPLACE keeps them). The revert restores the SQL bodies.
BEGIN;

CREATE OR REPLACE FUNCTION api.fraud_explain(p_id bigint)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $fn$
#variable_conflict use_column
DECLARE
  tm_result jsonb;
BEGIN
  SELECT CASE WHEN EXISTS (SELECT 1 FROM transactions WHERE id = p_id) THEN
      (SELECT coalesce(jsonb_agg(jsonb_build_object('rule', e.rule, 'observed', e.observed, 'threshold', e.threshold,
                                                    'weight', e.weight, 'contribution', e.contribution,
                                                    'detail', e.detail) ORDER BY e.o), '[]')
         FROM techmart.explain(p_id) WITH ORDINALITY AS e(rule, observed, threshold, weight, contribution, detail, o))
    END
  INTO tm_result;
  RETURN tm_result;
END $fn$;

CREATE OR REPLACE FUNCTION api.fraud_explain(p_id bigint, p_role text)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $fn$
#variable_conflict use_column
DECLARE
  tm_result jsonb;
BEGIN
  SELECT CASE WHEN api.role_sees_private(p_role) THEN e ELSE api.mask_reasons(e) END
      FROM api.fraud_explain(p_id) e
  INTO tm_result;
  RETURN tm_result;
END $fn$;

CREATE OR REPLACE FUNCTION api.fraud_rules()
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $fn$
#variable_conflict use_column
DECLARE
  tm_result jsonb;
BEGIN
  SELECT jsonb_build_object('items', coalesce(jsonb_agg(jsonb_build_object(
                                          'name', r.rule, 'enabled', r.enabled, 'weight', r.weight,
                                          'threshold', r.threshold, 'params', r.params, 'updated_at', r.updated_at)
                                        ORDER BY r.rule), '[]'),
                              'count', count(*))
      FROM techmart.rule_config r
  INTO tm_result;
  RETURN tm_result;
END $fn$;

CREATE OR REPLACE FUNCTION api.fraud_shadow()
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $fn$
#variable_conflict use_column
DECLARE
  tm_result jsonb;
BEGIN
  SELECT jsonb_build_object(
      'configs', (SELECT coalesce(jsonb_agg(jsonb_build_object('name', s.name, 'active', s.active, 'config', s.config,
                                                               'note', s.note, 'created_at', s.created_at)
                                            ORDER BY s.name), '[]') FROM techmart.shadow_config s),
      'items', (SELECT coalesce(jsonb_agg(to_jsonb(c) ORDER BY c.name), '[]') FROM shadow_comparison c))
  INTO tm_result;
  RETURN tm_result;
END $fn$;

CREATE OR REPLACE FUNCTION api.get_alert(p_id bigint)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $fn$
#variable_conflict use_column
DECLARE
  tm_result jsonb;
BEGIN
  SELECT api.alert_json(a) FROM alerts a WHERE a.id = p_id
  INTO tm_result;
  RETURN tm_result;
END $fn$;

CREATE OR REPLACE FUNCTION api.get_alert(p_id bigint, p_role text)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $fn$
#variable_conflict use_column
DECLARE
  tm_result jsonb;
BEGIN
  SELECT api.mask_alert(api.get_alert(p_id), p_role)
  INTO tm_result;
  RETURN tm_result;
END $fn$;

CREATE OR REPLACE FUNCTION api.get_category(p_id bigint)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $fn$
#variable_conflict use_column
DECLARE
  tm_result jsonb;
BEGIN
  SELECT to_jsonb(c) || jsonb_build_object('product_count', (SELECT count(*) FROM products WHERE category_id = c.id))
      FROM categories c WHERE c.id = p_id
  INTO tm_result;
  RETURN tm_result;
END $fn$;

CREATE OR REPLACE FUNCTION api.get_customer(p_id bigint)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $fn$
#variable_conflict use_column
DECLARE
  tm_result jsonb;
BEGIN
  SELECT to_jsonb(c) || jsonb_build_object('stats', (
             SELECT jsonb_build_object('transactions', count(*), 'amount', coalesce(sum(t.amount), 0),
                                       'suspicious', count(*) FILTER (WHERE t.is_suspicious),
                                       'first_transaction_at', min(t.transaction_time),
                                       'last_transaction_at', max(t.transaction_time))
               FROM transactions t WHERE t.customer_id = c.id))
      FROM customers c WHERE c.id = p_id
  INTO tm_result;
  RETURN tm_result;
END $fn$;

CREATE OR REPLACE FUNCTION api.get_customer(p_id bigint, p_role text)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $fn$
#variable_conflict use_column
DECLARE
  tm_result jsonb;
BEGIN
  SELECT api.mask_customer(api.get_customer(p_id), p_role)
  INTO tm_result;
  RETURN tm_result;
END $fn$;

CREATE OR REPLACE FUNCTION api.get_product(p_id bigint)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $fn$
#variable_conflict use_column
DECLARE
  tm_result jsonb;
BEGIN
  SELECT to_jsonb(pr) FROM products pr WHERE pr.id = p_id
  INTO tm_result;
  RETURN tm_result;
END $fn$;

CREATE OR REPLACE FUNCTION api.get_supplier(p_id bigint)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $fn$
#variable_conflict use_column
DECLARE
  tm_result jsonb;
BEGIN
  SELECT to_jsonb(s) || jsonb_build_object('product_count', (SELECT count(*) FROM products WHERE supplier_id = s.id))
      FROM suppliers s WHERE s.id = p_id
  INTO tm_result;
  RETURN tm_result;
END $fn$;

CREATE OR REPLACE FUNCTION api.get_transaction(p_id bigint)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $fn$
#variable_conflict use_column
DECLARE
  tm_result jsonb;
BEGIN
  SELECT api.transaction_json(t) || jsonb_build_object('explanation', api.fraud_explain(t.id))
      FROM transactions t WHERE t.id = p_id
  INTO tm_result;
  RETURN tm_result;
END $fn$;

CREATE OR REPLACE FUNCTION api.get_transaction(p_id bigint, p_role text)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $fn$
#variable_conflict use_column
DECLARE
  tm_result jsonb;
BEGIN
  SELECT api.mask_transaction(api.get_transaction(p_id), p_role)
  INTO tm_result;
  RETURN tm_result;
END $fn$;

CREATE OR REPLACE FUNCTION api.get_user(p_id bigint)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $fn$
#variable_conflict use_column
DECLARE
  tm_result jsonb;
BEGIN
  SELECT api.user_json(u) FROM users u WHERE u.id = p_id
  INTO tm_result;
  RETURN tm_result;
END $fn$;

CREATE OR REPLACE FUNCTION api.health()
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $fn$
#variable_conflict use_column
DECLARE
  tm_result jsonb;
BEGIN
  SELECT jsonb_build_object(
      'database', 'up',
      'server_version', current_setting('server_version'),
      'extension_version', (SELECT extversion FROM pg_extension WHERE extname = 'techmart'),
      'time', now())
  INTO tm_result;
  RETURN tm_result;
END $fn$;

CREATE OR REPLACE FUNCTION api.list_alerts(p jsonb, p_role text)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $fn$
#variable_conflict use_column
DECLARE
  tm_result jsonb;
BEGIN
  SELECT api.mask_items(api.list_alerts(p), p_role, 'alert')
  INTO tm_result;
  RETURN tm_result;
END $fn$;

CREATE OR REPLACE FUNCTION api.list_customers(p jsonb, p_role text)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $fn$
#variable_conflict use_column
DECLARE
  tm_result jsonb;
BEGIN
  SELECT api.mask_items(api.list_customers(p), p_role, 'customer')
  INTO tm_result;
  RETURN tm_result;
END $fn$;

CREATE OR REPLACE FUNCTION api.list_inventory(p jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $fn$
#variable_conflict use_column
DECLARE
  tm_result jsonb;
BEGIN
  SELECT api._inventory_list(p, false)
  INTO tm_result;
  RETURN tm_result;
END $fn$;

CREATE OR REPLACE FUNCTION api.list_transactions(p jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $fn$
#variable_conflict use_column
DECLARE
  tm_result jsonb;
BEGIN
  SELECT api.list_transactions(p, 'admin')
  INTO tm_result;
  RETURN tm_result;
END $fn$;

CREATE OR REPLACE FUNCTION api.low_stock(p jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $fn$
#variable_conflict use_column
DECLARE
  tm_result jsonb;
BEGIN
  SELECT api._inventory_list(p, true)
  INTO tm_result;
  RETURN tm_result;
END $fn$;

CREATE OR REPLACE FUNCTION api.recent_transactions(p_limit integer DEFAULT 20)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $fn$
#variable_conflict use_column
DECLARE
  tm_result jsonb;
BEGIN
  SELECT api.recent_transactions(p_limit, 'admin')
  INTO tm_result;
  RETURN tm_result;
END $fn$;

CREATE OR REPLACE FUNCTION api.suspicious_transactions(p jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $fn$
#variable_conflict use_column
DECLARE
  tm_result jsonb;
BEGIN
  SELECT api.list_transactions(
      jsonb_build_object('sort', '-transaction_time') || coalesce(p, '{}') || '{"suspicious":"true"}')
  INTO tm_result;
  RETURN tm_result;
END $fn$;

CREATE OR REPLACE FUNCTION api.suspicious_transactions(p jsonb, p_role text)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $fn$
#variable_conflict use_column
DECLARE
  tm_result jsonb;
BEGIN
  SELECT api.list_transactions(
      jsonb_build_object('sort', '-transaction_time') || coalesce(p, '{}') || '{"suspicious":"true"}', p_role)
  INTO tm_result;
  RETURN tm_result;
END $fn$;

COMMIT;

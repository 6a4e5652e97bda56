-- Deploy techmart:api_transaction_actor to pg
-- requires: stock_sales inventory_put_clock
--
-- POST /transactions names the API's user in inventory_history.changed_by, as PATCH
-- /transactions/{id} (change stock_sales) and PUT /inventory do: the sale's stock move recorded the
-- session's user, techmart_api (a SECURITY DEFINER function in between does not change it).
-- api.create_transaction(p, p_actor) and api.create_transaction_idempotent(scope, key, p, p_actor)
-- set techmart.actor for the transaction (set_config(..., true): the request's transaction only,
-- never string-built SQL) and answer as the variants without an actor, which stay for psql.
BEGIN;

CREATE FUNCTION api.create_transaction(p jsonb, p_actor text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
  PERFORM set_config('techmart.actor', coalesce(p_actor, ''), true);
  RETURN api.create_transaction(p);
END
$$;
COMMENT ON FUNCTION api.create_transaction(jsonb, text) IS
  'POST /transactions: api.create_transaction(p) with techmart.actor set to p_actor (the API''s user) for the '
  'transaction, so the sale''s inventory_history rows name it in changed_by (change api_transaction_actor)';

CREATE FUNCTION api.create_transaction_idempotent(p_scope text, p_key text, p jsonb, p_actor text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
  PERFORM set_config('techmart.actor', coalesce(p_actor, ''), true);
  RETURN api.create_transaction_idempotent(p_scope, p_key, p);
END
$$;
COMMENT ON FUNCTION api.create_transaction_idempotent(text, text, jsonb, text) IS
  'POST /transactions with an Idempotency-Key: api.create_transaction_idempotent(scope, key, p) with '
  'techmart.actor set to p_actor (the API''s user) for the transaction (change api_transaction_actor)';

REVOKE EXECUTE ON FUNCTION api.create_transaction(jsonb, text), api.create_transaction_idempotent(text, text, jsonb, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.create_transaction(jsonb, text), api.create_transaction_idempotent(text, text, jsonb, text) TO techmart_api;

COMMIT;

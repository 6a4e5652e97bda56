-- Revert techmart:catalogue_conflicts from pg (the bodies of api_endpoints)
BEGIN;

CREATE OR REPLACE FUNCTION api.create_category(p jsonb)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE v categories;
BEGIN
  PERFORM api._require_object(p);
  PERFORM api._raise_if(api._category_errors(p, true), 'invalid category');
  INSERT INTO categories (name, description) VALUES (p->>'name', p->>'description') RETURNING * INTO v;
  RETURN to_jsonb(v);
END $$;

CREATE OR REPLACE FUNCTION api.update_category(p_id bigint, p jsonb)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE v categories;
BEGIN
  PERFORM api._require_object(p);
  PERFORM api._raise_if(api._category_errors(p, false)
    || api._err('name', CASE WHEN p ? 'name' AND jsonb_typeof(p->'name') = 'null' THEN 'must not be null' END), 'invalid category');
  UPDATE categories SET name = CASE WHEN p ? 'name' THEN p->>'name' ELSE name END,
                        description = CASE WHEN p ? 'description' THEN p->>'description' ELSE description END,
                        updated_at = now()
   WHERE id = p_id RETURNING * INTO v;
  IF NOT FOUND THEN RETURN NULL; END IF;
  RETURN to_jsonb(v);
END $$;

CREATE OR REPLACE FUNCTION api.create_supplier(p jsonb)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE v suppliers;
BEGIN
  PERFORM api._require_object(p);
  PERFORM api._raise_if(api._supplier_errors(p, true), 'invalid supplier');
  INSERT INTO suppliers (name, reliability_score, country, contact_email)
  VALUES (p->>'name', coalesce((p->>'reliability_score')::numeric, 0.9), p->>'country', p->>'contact_email')
  RETURNING * INTO v;
  RETURN to_jsonb(v);
END $$;

CREATE OR REPLACE FUNCTION api.update_supplier(p_id bigint, p jsonb)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE v suppliers;
BEGIN
  PERFORM api._require_object(p);
  PERFORM api._raise_if(api._supplier_errors(p, false), 'invalid supplier');
  UPDATE suppliers SET name = CASE WHEN p ? 'name' THEN p->>'name' ELSE name END,
                       reliability_score = CASE WHEN p ? 'reliability_score' THEN coalesce((p->>'reliability_score')::numeric, 0.9) ELSE reliability_score END,
                       country = CASE WHEN p ? 'country' THEN p->>'country' ELSE country END,
                       contact_email = CASE WHEN p ? 'contact_email' THEN p->>'contact_email' ELSE contact_email END,
                       updated_at = now()
   WHERE id = p_id RETURNING * INTO v;
  IF NOT FOUND THEN RETURN NULL; END IF;
  RETURN to_jsonb(v);
END $$;


COMMIT;

-- Revert techmart:list_search_literal from pg (the bodies of api_endpoints)
BEGIN;

CREATE OR REPLACE FUNCTION api.list_categories(p jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF p IS NULL OR jsonb_typeof(p) <> 'object' THEN p := '{}'; END IF;
  PERFORM api._raise_if(api._check_keys(p, ARRAY['q', 'sort', 'limit', 'offset'])
    || api._check_text(p, 'q', false, 100) || api._check_page(p, ARRAY['id', 'name', 'created_at']), 'invalid query');
  RETURN api._list('categories', p, '($1[1] IS NULL OR r.name ILIKE ''%'' || $1[1] || ''%'')',
                   ARRAY['id', 'name', 'created_at'], 'name', p->>'q');
END $$;

CREATE OR REPLACE FUNCTION api.list_suppliers(p jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF p IS NULL OR jsonb_typeof(p) <> 'object' THEN p := '{}'; END IF;
  PERFORM api._raise_if(api._check_keys(p, ARRAY['q', 'country', 'sort', 'limit', 'offset'])
    || api._check_text(p, 'q', false, 100)
    || api._check_text(p, 'country', false, 2, '^[A-Z]{2}$', 'must be an ISO 3166-1 alpha-2 code such as GB')
    || api._check_page(p, ARRAY['id', 'name', 'country', 'reliability_score', 'created_at']), 'invalid query');
  RETURN api._list('suppliers', p, '($1[1] IS NULL OR r.name ILIKE ''%'' || $1[1] || ''%'') AND ($1[2] IS NULL OR r.country = $1[2])',
                   NULL, 'name', p->>'q', p->>'country');
END $$;

CREATE OR REPLACE FUNCTION api.list_products(p jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF p IS NULL OR jsonb_typeof(p) <> 'object' THEN p := '{}'; END IF;
  PERFORM api._raise_if(api._check_keys(p, ARRAY['q', 'category_id', 'supplier_id', 'min_price', 'max_price', 'sort', 'limit', 'offset'])
    || api._check_text(p, 'q', false, 100)
    || api._check_int(p, 'category_id', 1, 9223372036854775807)
    || api._check_int(p, 'supplier_id', 1, 9223372036854775807)
    || api._check_num(p, 'min_price', 0, 99999999999) || api._check_num(p, 'max_price', 0, 99999999999)
    || api._check_page(p, ARRAY['id', 'sku', 'name', 'price', 'stock_quantity', 'category_id', 'supplier_id', 'created_at']),
    'invalid query');
  RETURN api._list('products', p,
    '($1[1] IS NULL OR r.name ILIKE ''%'' || $1[1] || ''%'' OR r.sku ILIKE ''%'' || $1[1] || ''%'')
     AND ($1[2] IS NULL OR r.category_id = $1[2]::bigint) AND ($1[3] IS NULL OR r.supplier_id = $1[3]::bigint)
     AND ($1[4] IS NULL OR r.price >= $1[4]::numeric) AND ($1[5] IS NULL OR r.price <= $1[5]::numeric)',
    NULL, 'id', p->>'q', p->>'category_id', p->>'supplier_id', p->>'min_price', p->>'max_price');
END $$;

CREATE OR REPLACE FUNCTION api.list_customers(p jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF p IS NULL OR jsonb_typeof(p) <> 'object' THEN p := '{}'; END IF;
  PERFORM api._raise_if(api._check_keys(p, ARRAY['q', 'country', 'min_risk', 'sort', 'limit', 'offset'])
    || api._check_text(p, 'q', false, 100)
    || api._check_text(p, 'country', false, 2, '^[A-Z]{2}$', 'must be an ISO 3166-1 alpha-2 code such as GB')
    || api._check_num(p, 'min_risk', 0, 100)
    || api._check_page(p, ARRAY['id', 'name', 'email', 'country', 'registration_date', 'total_spent', 'risk_score']),
    'invalid query');
  RETURN api._list('customers', p,
    '($1[1] IS NULL OR r.name ILIKE ''%'' || $1[1] || ''%'' OR r.email ILIKE ''%'' || $1[1] || ''%'')
     AND ($1[2] IS NULL OR r.country = $1[2]) AND ($1[3] IS NULL OR r.risk_score >= $1[3]::numeric)',
    NULL, 'id', p->>'q', p->>'country', p->>'min_risk');
END $$;


COMMIT;

-- Verify techmart:entity_reason_predicate
SELECT 'api.has_entity_reason(jsonb)'::regprocedure;
SELECT 1/(position('has_entity_reason' IN pg_get_functiondef('api.mask_alert(jsonb,text)'::regprocedure)) > 0)::int;

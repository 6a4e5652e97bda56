-- Deploy techmart:entity_reason_predicate to pg
-- requires: alert_event_cheaper
-- requires: api_viewer_privacy_lists
--
-- Which reasons name an entity (a device, an IP, a network, a payment fingerprint) was written twice:
-- in api.mask_reasons (change api_viewer_privacy_lists) and again in api.mask_alert's early test
-- (change alert_event_cheaper). One predicate now, api.has_entity_reason(reasons), used by both. It is
-- an SQL function PostgreSQL inlines (IMMUTABLE, one expression), in SQL and in PL/pgSQL expressions
-- alike: no call at run time. Same answers.
BEGIN;

CREATE FUNCTION api.has_entity_reason(p_reasons jsonb)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT jsonb_typeof(p_reasons) = 'array'
     AND p_reasons @? '$[*] ? (@.rule == "entity_device" || @.rule == "entity_ip" || @.rule == "entity_ip24" || @.rule == "entity_payment")'
$$;
-- a helper like the other masking functions: the owner's (the SECURITY DEFINER entry points run as it)
REVOKE EXECUTE ON FUNCTION api.has_entity_reason(jsonb) FROM PUBLIC;
COMMENT ON FUNCTION api.has_entity_reason(jsonb) IS
  'Whether a reasons array holds a reason of an entity rule (entity_device, entity_ip, entity_ip24, entity_payment): '
  'the reasons api.mask_reasons rewrites for a viewer';

CREATE OR REPLACE FUNCTION api.mask_reasons(p_reasons jsonb)
RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN api.has_entity_reason(p_reasons) THEN
    (SELECT coalesce(jsonb_agg(
              CASE WHEN jsonb_typeof(r) = 'object' AND r->>'rule' IN ('entity_device', 'entity_ip', 'entity_ip24', 'entity_payment')
                   THEN jsonb_set(r, '{detail}', to_jsonb(
                          CASE WHEN r->>'detail' ~ '^(device|IP|network|payment fingerprint) .*: [0-9]+ confirmed fraud'
                               -- greedy: up to the last ": N confirmed fraud", whatever the identifier holds
                               THEN regexp_replace(r->>'detail', '^(device|IP|network|payment fingerprint) .*(: [0-9]+ confirmed fraud)',
                                                   '\1 (withheld)\2')
                               ELSE 'detail withheld' END))
                   ELSE r END ORDER BY o), '[]')
       FROM jsonb_array_elements(p_reasons) WITH ORDINALITY e(r, o))
  ELSE p_reasons END
$$;

CREATE OR REPLACE FUNCTION api.mask_alert(j jsonb, p_role text)
RETURNS jsonb LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  IF api.role_sees_private(p_role) OR j IS NULL OR jsonb_typeof(j) <> 'object' THEN RETURN j; END IF;
  IF jsonb_typeof(j->'metadata') = 'object' AND api.has_entity_reason(j#>'{metadata,reasons}') THEN
    j := jsonb_set(j, '{metadata,reasons}', api.mask_reasons(j#>'{metadata,reasons}'));
  END IF;
  RETURN j;
END $$;

COMMIT;

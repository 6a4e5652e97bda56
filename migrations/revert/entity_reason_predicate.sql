-- Revert techmart:entity_reason_predicate from pg
-- api.mask_reasons as change api_viewer_privacy_lists made it, api.mask_alert as alert_event_cheaper did
BEGIN;

CREATE OR REPLACE FUNCTION api.mask_reasons(p_reasons jsonb)
RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN jsonb_typeof(p_reasons) = 'array'
                   AND p_reasons @? '$[*] ? (@.rule == "entity_device" || @.rule == "entity_ip" || @.rule == "entity_ip24" || @.rule == "entity_payment")' THEN
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
  IF jsonb_typeof(j->'metadata') = 'object' AND jsonb_typeof(j#>'{metadata,reasons}') = 'array'
     AND j#>'{metadata,reasons}' @? '$[*] ? (@.rule == "entity_device" || @.rule == "entity_ip" || @.rule == "entity_ip24" || @.rule == "entity_payment")' THEN
    j := jsonb_set(j, '{metadata,reasons}', api.mask_reasons(j#>'{metadata,reasons}'));
  END IF;
  RETURN j;
END $$;

DROP FUNCTION api.has_entity_reason(jsonb);

COMMIT;

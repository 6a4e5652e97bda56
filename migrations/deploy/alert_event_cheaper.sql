-- Deploy techmart:alert_event_cheaper to pg
-- requires: api_viewer_privacy
--
-- The live-stream event of an alert (api.alert_event, called by the alerts_notify trigger for every new
-- alert; the fraud engine inserts alerts in the writing transaction) cost ~250-340 us per alert on a
-- single-row INSERT (track_functions, bench/RESULTS.md):
--  * it was an SQL function that PostgreSQL cannot inline (a FROM clause), called from PL/pgSQL: such a
--    function is parsed and planned again in every transaction, and each single-row INSERT is one;
--  * its masking subquery was pulled up into a CASE naming the result twice: api.mask_alert ran twice;
--  * api.mask_alert called api.mask_reasons (again a non-inlined SQL function) for every alert with
--    reasons, though it changes only the reasons of the entity rules.
-- Now: api.alert_event in PL/pgSQL (its statements' plans are kept by the session), masking once;
-- api.mask_alert calls api.mask_reasons only when a reason of an entity rule is there (the same test
-- api.mask_reasons makes). Same payloads (pgTAP alert_event_cheaper.sql, api_viewer_privacy.sql).
BEGIN;

CREATE OR REPLACE FUNCTION api.alert_event(a alerts)
RETURNS jsonb LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
  j jsonb := api.mask_alert(to_jsonb(a), 'viewer');
BEGIN
  IF octet_length(j::text) <= 7900 THEN
    RETURN j;
  END IF;
  RETURN (j - 'metadata') || jsonb_build_object('message', left(a.message, 1000), 'truncated', true);
END $$;

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

COMMIT;

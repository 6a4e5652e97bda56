-- Revert techmart:alert_event_cheaper from pg
-- api.alert_event and api.mask_alert as change api_viewer_privacy made them
BEGIN;

CREATE OR REPLACE FUNCTION api.alert_event(a alerts)
RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN octet_length(j::text) <= 7900 THEN j
              ELSE (j - 'metadata') || jsonb_build_object('message', left(a.message, 1000), 'truncated', true)
         END
    FROM (SELECT api.mask_alert(to_jsonb(a), 'viewer') AS j) s
$$;

CREATE OR REPLACE FUNCTION api.mask_alert(j jsonb, p_role text)
RETURNS jsonb LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  IF api.role_sees_private(p_role) OR j IS NULL OR jsonb_typeof(j) <> 'object' THEN RETURN j; END IF;
  IF jsonb_typeof(j->'metadata') = 'object' AND j->'metadata' ? 'reasons' THEN
    j := jsonb_set(j, '{metadata,reasons}', api.mask_reasons(j#>'{metadata,reasons}'));
  END IF;
  RETURN j;
END $$;

COMMIT;

-- Deploy techmart:entity_shadow to pg
-- requires: entity_risk
-- requires: api_rest
--
-- Backtests and shadow configurations for analysts (docs/entity-risk.md): the view
-- shadow_comparison and the functions behind GET /api/v1/fraud/backtest and /fraud/shadow.
BEGIN;

CREATE VIEW shadow_comparison AS SELECT * FROM techmart.shadow_compare();
COMMENT ON VIEW shadow_comparison IS
  'Each shadow configuration (techmart.shadow_config) against the live one on the transactions both scored: '
  'suspicious counts, precision and recall against the current verdicts, mean score difference';

CREATE FUNCTION api.fraud_backtest(p_from timestamptz, p_to timestamptz, p_shadow text, p_top_k integer)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_config jsonb := '{}';
BEGIN
  PERFORM api._raise_if(api._err('from', CASE WHEN NOT p_from < p_to THEN 'must be before to' END),
                        'invalid backtest');
  IF p_shadow IS NOT NULL THEN
    SELECT s.config INTO v_config FROM techmart.shadow_config s WHERE s.name = p_shadow;
    PERFORM api._raise_if(api._err('shadow', CASE WHEN v_config IS NULL THEN 'is not a shadow configuration' END),
                          'invalid backtest');
  END IF;
  RETURN jsonb_build_object(
    'from', p_from, 'to', p_to, 'top_k', p_top_k, 'candidate', coalesce(p_shadow, 'live'), 'config', v_config,
    'items', (SELECT coalesce(jsonb_agg(jsonb_build_object('metric', b.metric, 'live', b.live,
                                                             'candidate', b.candidate, 'stored', b.stored)), '[]')
                FROM techmart.backtest(v_config, p_from, p_to, p_top_k) b));
END $$;
COMMENT ON FUNCTION api.fraud_backtest(timestamptz, timestamptz, text, integer) IS
  'GET /api/v1/fraud/backtest: techmart.backtest() of a shadow configuration (or the live one) over [from, to)';

CREATE FUNCTION api.fraud_shadow()
RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT jsonb_build_object(
    'configs', (SELECT coalesce(jsonb_agg(jsonb_build_object('name', s.name, 'active', s.active, 'config', s.config,
                                                             'note', s.note, 'created_at', s.created_at)
                                          ORDER BY s.name), '[]') FROM techmart.shadow_config s),
    'items', (SELECT coalesce(jsonb_agg(to_jsonb(c) ORDER BY c.name), '[]') FROM shadow_comparison c))
$$;
COMMENT ON FUNCTION api.fraud_shadow() IS
  'GET /api/v1/fraud/shadow: the shadow configurations and their comparison with the live one';

REVOKE EXECUTE ON FUNCTION api.fraud_backtest(timestamptz, timestamptz, text, integer), api.fraud_shadow() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.fraud_backtest(timestamptz, timestamptz, text, integer), api.fraud_shadow()
   TO techmart_api;

COMMIT;

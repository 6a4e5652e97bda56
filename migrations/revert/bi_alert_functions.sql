-- Revert techmart:bi_alert_functions from pg
-- the two functions as change overview_rollups defined them (public.alerts through the search path)
BEGIN;

CREATE OR REPLACE FUNCTION analytics.alerts_created(p_from timestamptz, p_to timestamptz) RETURNS bigint
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  h0 timestamptz := analytics.hour_ceil(p_from);
  h1 timestamptz := analytics.hour_floor(p_to);
BEGIN
  IF p_from IS NULL OR p_to IS NULL OR p_to <= p_from THEN
    RETURN 0;
  ELSIF h0 > h1 THEN  -- within one hour
    RETURN (SELECT count(*) FROM alerts a WHERE a.created_at >= p_from AND a.created_at < p_to);
  END IF;
  RETURN coalesce((SELECT sum(s.created) FROM analytics.alerts_hourly s WHERE s.hour >= h0 AND s.hour < h1), 0)
       + (SELECT count(*) FROM alerts a WHERE a.created_at >= p_from AND a.created_at < h0)
       + (SELECT count(*) FROM alerts a WHERE a.created_at >= h1 AND a.created_at < p_to);
END $$;
COMMENT ON FUNCTION analytics.alerts_created(timestamptz, timestamptz) IS
  'Alerts created in [p_from, p_to): whole hours from analytics.alerts_hourly, the partial hours from the index on created_at';

CREATE OR REPLACE FUNCTION analytics.alerts_open_at(p_at timestamptz) RETURNS bigint
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  h timestamptz := analytics.hour_floor(p_at);
BEGIN
  IF p_at IS NULL THEN
    RETURN NULL;
  END IF;
  RETURN coalesce((SELECT sum(s.created - s.closed) FROM analytics.alerts_hourly s WHERE s.hour < h), 0)
       + (SELECT count(*) FROM alerts a WHERE a.created_at >= h AND a.created_at <= p_at)
       - (SELECT count(*) FROM alerts a
           WHERE analytics.alert_closed_at(a.created_at, a.acknowledged_at, a.resolved_at) >= h
             AND analytics.alert_closed_at(a.created_at, a.acknowledged_at, a.resolved_at) <= p_at);
END $$;
COMMENT ON FUNCTION analytics.alerts_open_at(timestamptz) IS
  'Alerts open at p_at (created at or before it, neither acknowledged nor resolved by then): created minus closed '
  'up to p_at, whole hours from analytics.alerts_hourly (one row per hour of history), the last partial hour from '
  'the indexes on alerts';

COMMIT;

-- Deploy techmart:bi_alert_functions to pg
-- requires: overview_rollups
--
-- analytics.alerts_created(from, to) and analytics.alerts_open_at(t) read the partial hours from
-- public.alerts, which the BI role techmart_bi cannot read: a BI login (documented to run the read
-- functions of schema analytics: "they read bi views and rollups only") got 42501 "permission
-- denied for table alerts". They read the same rows through the view bi.alerts now (a plain view:
-- the planner reads the same indexes, alerts_created_idx and alerts_closed_idx), schema-qualified.
-- Same results; api.dashboard_overview (SECURITY DEFINER) is unaffected. The extension's version is
-- unchanged.
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
    RETURN (SELECT count(*) FROM bi.alerts a WHERE a.created_at >= p_from AND a.created_at < p_to);
  END IF;
  RETURN coalesce((SELECT sum(s.created) FROM analytics.alerts_hourly s WHERE s.hour >= h0 AND s.hour < h1), 0)
       + (SELECT count(*) FROM bi.alerts a WHERE a.created_at >= p_from AND a.created_at < h0)
       + (SELECT count(*) FROM bi.alerts a WHERE a.created_at >= h1 AND a.created_at < p_to);
END $$;
COMMENT ON FUNCTION analytics.alerts_created(timestamptz, timestamptz) IS
  'Alerts created in [p_from, p_to): whole hours from analytics.alerts_hourly, the partial hours from the index on created_at '
  '(through bi.alerts: a techmart_bi login may run it)';

CREATE OR REPLACE FUNCTION analytics.alerts_open_at(p_at timestamptz) RETURNS bigint
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  h timestamptz := analytics.hour_floor(p_at);
BEGIN
  IF p_at IS NULL THEN
    RETURN NULL;
  END IF;
  RETURN coalesce((SELECT sum(s.created - s.closed) FROM analytics.alerts_hourly s WHERE s.hour < h), 0)
       + (SELECT count(*) FROM bi.alerts a WHERE a.created_at >= h AND a.created_at <= p_at)
       - (SELECT count(*) FROM bi.alerts a
           WHERE analytics.alert_closed_at(a.created_at, a.acknowledged_at, a.resolved_at) >= h
             AND analytics.alert_closed_at(a.created_at, a.acknowledged_at, a.resolved_at) <= p_at);
END $$;
COMMENT ON FUNCTION analytics.alerts_open_at(timestamptz) IS
  'Alerts open at p_at (created at or before it, neither acknowledged nor resolved by then): created minus closed '
  'up to p_at, whole hours from analytics.alerts_hourly (one row per hour of history), the last partial hour from '
  'the indexes on alerts (through bi.alerts: a techmart_bi login may run it)';

COMMIT;

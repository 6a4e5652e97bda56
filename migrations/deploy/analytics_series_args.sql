-- Deploy techmart:analytics_series_args to pg
-- requires: hourly_sales_utc
--
-- analytics.sales_series (and analytics.revenue_growth, which reads it) with an infinite bound
-- ran away: generate_series from '-infinity' (or to 'infinity') never ends, so
-- SELECT * FROM analytics.sales_series('day', '-infinity', now()) -- a BI tool's open-ended filter --
-- wrote its sort to temporary files until the server's disk was full (53100 "No space left on
-- device", every database of the cluster short of disk meanwhile). An unknown period ('fortnight')
-- failed deep inside date_trunc ("unit ... not recognized for type timestamp without time zone").
-- Now both are refused up front with 22023 by analytics.series_args_valid(), called as a one-time
-- filter of the series' CTEs (evaluated before generate_series starts); NULL bounds or period still
-- give no rows, a finite range the same rows as before. The body is otherwise the one of
-- hourly_sales_utc. The extension's version is unchanged.
BEGIN;

CREATE FUNCTION analytics.series_args_valid(p_period text, p_from timestamptz, p_to timestamptz) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  IF p_period IS NOT NULL AND p_period NOT IN ('hour', 'day', 'week', 'month', 'year') THEN
    RAISE EXCEPTION 'period must be hour, day, week, month or year, got %', p_period
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF NOT isfinite(p_from) OR NOT isfinite(p_to) THEN
    RAISE EXCEPTION 'a sales series needs a finite range, got [%, %)', p_from, p_to
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Give explicit from and to times, e.g. the first and last transaction_time.';
  END IF;
  RETURN true;
END $$;
COMMENT ON FUNCTION analytics.series_args_valid(text, timestamptz, timestamptz) IS
  'true, or 22023 for a period other than hour/day/week/month/year or an infinite bound (NULLs pass): '
  'the guard of analytics.sales_series, whose generate_series would never end on an infinite range';

CREATE OR REPLACE FUNCTION analytics.sales_series(p_period text, p_from timestamptz, p_to timestamptz,
                                       p_dim text DEFAULT 'all', p_key text DEFAULT '')
RETURNS TABLE (period_start timestamptz, label text, revenue numeric, orders bigint, units bigint,
               transactions bigint, refunded_amount numeric, suspicious bigint, avg_order_value numeric)
LANGUAGE sql STABLE AS $$
  WITH z AS (SELECT analytics.business_timezone() AS tz),
  -- hour: the UTC hours from the one containing p_from to before p_to, exactly the rollup rows' hours
  hours AS (
    SELECT g AS period_start
      FROM generate_series(analytics.hour_floor(p_from), p_to - interval '1 microsecond', interval '1 hour') g
     WHERE p_period = 'hour' AND p_to > p_from AND analytics.series_args_valid(p_period, p_from, p_to)
  ),
  hour_agg AS (
    SELECT s.hour AS period_start,
           sum(s.revenue) AS revenue, sum(s.orders) AS orders, sum(s.units) AS units,
           sum(s.transactions) AS transactions, sum(s.refunded_amount) AS refunded_amount, sum(s.suspicious) AS suspicious
      FROM analytics.sales_hourly s
     WHERE p_period = 'hour' AND analytics.series_args_valid(p_period, p_from, p_to) AND s.dim = p_dim AND s.key = p_key
       AND s.hour >= analytics.hour_floor(p_from) AND s.hour < p_to
     GROUP BY 1
  ),
  -- day, week, month, year: periods of the local calendar, each rollup hour in the period containing its start
  buckets AS (
    SELECT g AS local_start
      FROM z, generate_series(date_trunc(p_period, p_from AT TIME ZONE z.tz),
                              (p_to AT TIME ZONE z.tz) - interval '1 microsecond',
                              analytics.period_interval(p_period)) g
     WHERE p_to > p_from AND p_period IS DISTINCT FROM 'hour' AND analytics.series_args_valid(p_period, p_from, p_to)
  ),
  agg AS (
    SELECT date_trunc(p_period, s.hour AT TIME ZONE z.tz) AS local_start,
           sum(s.revenue) AS revenue, sum(s.orders) AS orders, sum(s.units) AS units,
           sum(s.transactions) AS transactions, sum(s.refunded_amount) AS refunded_amount, sum(s.suspicious) AS suspicious
      FROM analytics.sales_hourly s, z
     WHERE p_period IS DISTINCT FROM 'hour' AND analytics.series_args_valid(p_period, p_from, p_to) AND s.dim = p_dim AND s.key = p_key
       AND s.hour >= analytics.hour_floor(p_from) AND s.hour < p_to
     GROUP BY 1
  )
  SELECT u.period_start, u.label, u.revenue, u.orders, u.units, u.transactions, u.refunded_amount, u.suspicious,
         u.avg_order_value
    FROM (SELECT h.period_start AT TIME ZONE 'UTC' AS sort_key, h.period_start,
                 analytics.local_time_label(h.period_start, z.tz) AS label,
                 coalesce(a.revenue, 0) AS revenue, coalesce(a.orders, 0)::bigint AS orders, coalesce(a.units, 0)::bigint AS units,
                 coalesce(a.transactions, 0)::bigint AS transactions, coalesce(a.refunded_amount, 0) AS refunded_amount,
                 coalesce(a.suspicious, 0)::bigint AS suspicious, round(a.revenue / nullif(a.orders, 0), 2) AS avg_order_value
            FROM hours h CROSS JOIN z LEFT JOIN hour_agg a USING (period_start)
          UNION ALL
          SELECT b.local_start, b.local_start AT TIME ZONE z.tz,
                 CASE p_period WHEN 'day' THEN to_char(b.local_start, 'YYYY-MM-DD')
                               WHEN 'week' THEN to_char(b.local_start, 'IYYY-"W"IW')
                               WHEN 'month' THEN to_char(b.local_start, 'YYYY-MM')
                               ELSE to_char(b.local_start, 'YYYY') END,
                 coalesce(a.revenue, 0), coalesce(a.orders, 0)::bigint, coalesce(a.units, 0)::bigint,
                 coalesce(a.transactions, 0)::bigint, coalesce(a.refunded_amount, 0), coalesce(a.suspicious, 0)::bigint,
                 round(a.revenue / nullif(a.orders, 0), 2)
            FROM buckets b CROSS JOIN z LEFT JOIN agg a USING (local_start)) u
   ORDER BY u.sort_key
$$;
COMMENT ON FUNCTION analytics.sales_series(text, timestamptz, timestamptz, text, text) IS
  'Sales per hour/day/week (ISO, Monday)/month/year over [p_from, p_to), zero-filled, from the rollups. hour: one '
  'row per UTC hour from the one containing p_from (analytics.hour_floor) to before p_to, period_start that instant '
  '(strictly increasing: a DST change skips or repeats no row, a zone offset of :30 or :45 does not shift rows), '
  'label its local wall-clock time in the business time zone with the UTC offset (2026-10-25T02:00+02:00, '
  '2026-10-25T02:00+01:00, 2026-12-07T09:30+05:30: analytics.local_time_label). day/week/month/year: periods of the '
  'business time zone''s calendar, each whole UTC hour overlapping the range attributed to the period containing its '
  'start, label the local period (2026-11-21, 2026-W47, 2026-11, 2026); avg_order_value = revenue / orders. '
  '22023 for an unknown period or an infinite p_from / p_to (analytics.series_args_valid)';

COMMIT;

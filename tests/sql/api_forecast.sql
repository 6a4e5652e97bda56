-- pgTAP: api.forecast_revenue (GET /analytics/forecast/revenue) and api.fraud_explain
-- (GET /fraud/explain/{id}) on the seed data; buckets of the business time zone across a DST
-- change. Rolled back.
BEGIN;
SELECT plan(12);

-- the seed ends at the start of today (UTC): 56 complete days of history
SELECT is(jsonb_array_length(api.forecast_revenue('day', 14, 56, 0.95, now()) -> 'forecast'), 14, 'day: 14 forecast points');
SELECT is((SELECT sum((h ->> 'revenue')::numeric) FROM jsonb_array_elements(api.forecast_revenue('day', 7, 28, 0.95, now()) -> 'history') h),
          (SELECT sum(revenue) FROM analytics.sales_series('day', date_trunc('day', now()) - interval '28 days', date_trunc('day', now()))),
          'day: the history is the revenue of the last 28 complete days, to the cent');
SELECT ok((SELECT bool_and((p ->> 'lower')::numeric <= (p ->> 'revenue')::numeric AND (p ->> 'revenue')::numeric <= (p ->> 'upper')::numeric)
             FROM jsonb_array_elements(api.forecast_revenue('hour', 48, 336, 0.9, now()) -> 'forecast') p),
          'hour: lower <= point <= upper at every step');
-- the model is techmart.forecast over the history values
SELECT is((SELECT round(point::numeric, 2) FROM techmart.forecast(
             (SELECT array_agg((h ->> 'revenue')::float8 ORDER BY o)
                FROM jsonb_array_elements(api.forecast_revenue('day', 3, 28, 0.95, now()) -> 'history') WITH ORDINALITY AS x(h, o)),
             3, 7, 0.95) WHERE step = 3),
          greatest((api.forecast_revenue('day', 3, 28, 0.95, now()) -> 'forecast' -> 2 ->> 'revenue')::numeric, 0),
          'the third point is techmart.forecast''s third step');
-- a DST change: days of Europe/Berlin (summer time starts 2027-03-28); three weeks of daily sales
-- before 2027-03-20, the forecast's days land on local midnights (the 28th has 23 hours)
INSERT INTO customers (id, email, name, country) VALUES (930001, 'forecast-test@example.com', 'Forecast test', 'DE');
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country, transaction_time)
SELECT 930001, (SELECT min(id) FROM products), 1, 100 + d % 7 * 10, 'credit_card', 'DE', '2027-02-27 12:00Z'::timestamptz + d * interval '1 day'
  FROM generate_series(0, 20) d;
SET LOCAL analytics.business_timezone = 'Europe/Berlin';
SELECT is((SELECT array_agg(to_char((p ->> 't')::timestamptz AT TIME ZONE 'Europe/Berlin', 'MM-DD HH24:MI') ORDER BY o)
             FROM jsonb_array_elements(api.forecast_revenue('day', 14, 21, 0.95, '2027-03-20 00:00+01') -> 'forecast')
                  WITH ORDINALITY AS x(p, o)),
          (SELECT array_agg(to_char(d, 'MM-DD') || ' 00:00' ORDER BY d) FROM generate_series(date '2027-03-20', date '2027-04-02', interval '1 day') d),
          'forecast days start at local midnight across the DST change (2027-03-20 .. 04-02)');
RESET analytics.business_timezone;
-- validation: 22023 naming the field
SELECT throws_ok($$SELECT api.forecast_revenue('week', 7, 56, 0.95, now())$$, '22023', NULL, 'granularity week is refused');
SELECT throws_ok($$SELECT api.forecast_revenue('day', 91, 56, 0.95, now())$$, '22023', NULL, 'a 91-day horizon is refused');
SELECT throws_ok($$SELECT api.forecast_revenue('day', 7, 13, 0.95, now())$$, '22023', NULL, 'less than two seasons of history is refused');
SELECT throws_ok($$SELECT api.forecast_revenue('day', 7, 56, 0.95, '2001-01-01')$$, '22023', NULL,
                 'no sales before as_of: not enough history');

-- explain
SELECT is((SELECT jsonb_agg(e ->> 'rule') FROM jsonb_array_elements(api.fraud_explain(t.id)) e),
          (SELECT jsonb_agg(r ORDER BY o) FROM techmart.explain(t.id) WITH ORDINALITY AS x(r, b, c, d, e, f, o)),
          'fraud_explain lists the rows of techmart.explain')
  FROM (SELECT id FROM transactions WHERE is_suspicious ORDER BY id LIMIT 1) t;
SELECT is(api.fraud_explain(-1), NULL, 'fraud_explain of an unknown id is NULL (404)');
SELECT is((SELECT api.get_transaction(id) -> 'explanation' FROM transactions ORDER BY id LIMIT 1),
          (SELECT api.fraud_explain(id) FROM transactions ORDER BY id LIMIT 1), 'get_transaction embeds the explanation');

SELECT * FROM finish();
ROLLBACK;

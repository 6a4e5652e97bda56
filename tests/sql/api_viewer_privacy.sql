-- pgTAP: what each API role sees (migration api_viewer_privacy). A psql caller of api.X(..., role)
-- gets what the token of that role gets through the REST API (tests/api/lib/privacy.mjs).
BEGIN;
SELECT plan(22);

INSERT INTO customers (id, email, name, country, city, home_lat, home_lon)
VALUES (990701, 'pgtap-privacy@example.com', 'Privacy Tester', 'DE', 'Berlin', 52.52, 13.40);
INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, payment_method, country, latitude, longitude,
                          device_id, ip_address, payment_fingerprint, transaction_time)
VALUES (990701, 990701, (SELECT min(id) FROM products), 1, 5, 'paypal', 'DE', 48.1, 11.5, 'dev-990701', '2001:db8::7',
        'abcdef0123456789abcdef', '2019-07-01T10:00:00Z');
UPDATE transactions SET fraud_score = 90, is_suspicious = true, fraud_reasons = jsonb_build_array(
    jsonb_build_object('rule', 'entity_ip', 'detail', 'IP 2001:db8::7: 1 confirmed fraud of 1 labelled in 90 days by other customers (smoothed rate 9.0% vs 1.0% shop-wide)'),
    jsonb_build_object('rule', 'entity_ip24', 'detail', 'network 2001:db8::/48: 1 confirmed fraud: 3 confirmed frauds of 4 labelled in 90 days (smoothed rate 9.0% vs 1.0% shop-wide)'),
    jsonb_build_object('rule', 'entity_payment', 'detail', 'something else entirely abcdef0123456789abcdef'),
    jsonb_build_object('rule', 'entity_customer', 'detail', 'customer 990701: 0 confirmed frauds of 1 labelled'))
 WHERE id = 990701;
INSERT INTO alerts (id, type, severity, message, transaction_id, customer_id, metadata)
SELECT 990701, 'fraud', 'high', 'pgtap privacy', 990701, 990701, jsonb_build_object('reasons', fraud_reasons)
  FROM transactions WHERE id = 990701;

CREATE TEMP VIEW private_text AS SELECT ARRAY['2001:db8::7', 'dev-990701', 'abcdef0123456789abcdef', '48.1', '11.5', '52.52', '13.4', '2001:db8::/48'] AS v;
CREATE FUNCTION pg_temp.leaks(j jsonb) RETURNS text[] LANGUAGE sql AS $$
  SELECT coalesce(array_agg(x), '{}') FROM private_text, unnest(v) x WHERE strpos(j::text, x) > 0
$$;

SELECT is(pg_temp.leaks(api.get_transaction(990701, 'viewer')), '{}', 'get_transaction: nothing private for a viewer');
SELECT is(pg_temp.leaks(api.list_transactions('{"customer_id":"990701"}', 'viewer')), '{}', 'list_transactions: nothing private for a viewer');
SELECT is(pg_temp.leaks(api.suspicious_transactions('{"customer_id":"990701"}', 'viewer')), '{}', 'suspicious_transactions: nothing private for a viewer');
SELECT is(pg_temp.leaks(api.fraud_explain(990701, 'viewer')), '{}', 'fraud_explain: nothing private for a viewer');
SELECT is(pg_temp.leaks(api.get_customer(990701, 'viewer')), '{}', 'get_customer: nothing private for a viewer');
SELECT is(pg_temp.leaks(api.list_customers('{"q":"pgtap-privacy@"}', 'viewer')), '{}', 'list_customers: nothing private for a viewer');
SELECT is(pg_temp.leaks(api.get_alert(990701, 'viewer')), '{}', 'get_alert: nothing private for a viewer');
SELECT is(pg_temp.leaks(api.list_alerts('{"customer_id":"990701"}', 'viewer')), '{}', 'list_alerts: nothing private for a viewer');
SELECT is(pg_temp.leaks(api.fraud_geo('2019-07-01', '2019-07-02', 10, 'viewer')), '{}', 'fraud_geo: no coordinates for a viewer');
SELECT is(pg_temp.leaks(api.alert_event(a)), '{}', 'the live stream''s alert event: nothing private') FROM alerts a WHERE id = 990701;

SELECT is(api.fraud_explain(990701, 'viewer') -> 0 ->> 'detail',
          'IP (withheld): 1 confirmed fraud of 1 labelled in 90 days by other customers (smoothed rate 9.0% vs 1.0% shop-wide)',
          'an entity detail keeps its counts, the identifier withheld');
SELECT is(api.fraud_explain(990701, 'viewer') -> 1 ->> 'detail',
          'network (withheld): 3 confirmed frauds of 4 labelled in 90 days (smoothed rate 9.0% vs 1.0% shop-wide)',
          'an identifier holding ": N confirmed fraud" is withheld whole');
SELECT is(api.fraud_explain(990701, 'viewer') -> 2 ->> 'detail', 'detail withheld', 'an entity detail of another shape is withheld');
SELECT is(api.fraud_explain(990701, 'viewer') -> 3, api.fraud_explain(990701) -> 3, 'other rules'' details unchanged');

SELECT is(api.get_transaction(990701, 'analyst'), api.get_transaction(990701), 'analyst: the whole row');
SELECT is(api.get_customer(990701, 'admin'), api.get_customer(990701), 'admin: the whole customer');
SELECT is(api.get_transaction(990701, 'viewer'),
          api.get_transaction(990701) - ARRAY['latitude', 'longitude', 'device_id', 'ip_address', 'payment_fingerprint', 'fraud_reasons', 'explanation']
            || jsonb_build_object('fraud_reasons', api.mask_reasons(api.get_transaction(990701) -> 'fraud_reasons'),
                                  'explanation', api.fraud_explain(990701, 'viewer')),
          'viewer: the row without the five private fields, reasons masked, nothing else changed');
-- the lists mask as they build the page (change api_viewer_privacy_lists): the same answer as
-- masking the analyst's page item by item
SELECT is(api.list_transactions('{"limit":"1000","sort":"-fraud_score"}', 'viewer'),
          api.mask_items(api.list_transactions('{"limit":"1000","sort":"-fraud_score"}', 'analyst'), 'viewer', 'transaction'),
          'list_transactions: a viewer''s page is the analyst''s page masked');
SELECT is(api.recent_transactions(500, 'viewer'), api.mask_items(api.recent_transactions(500, 'admin'), 'viewer', 'transaction'),
          'recent_transactions: a viewer''s answer is the admin''s masked');
SELECT is(api.list_transactions('{"customer_id":"990701"}'), api.list_transactions('{"customer_id":"990701"}', 'admin'),
          'the variant without a role is the admin''s view');
SELECT throws_ok($$SELECT api.get_transaction(990701, 'superuser')$$, '22023', 'invalid role: role must be admin, analyst or viewer',
                 'an unknown role is refused');
SELECT throws_ok($$SELECT api.get_transaction(-1, NULL)$$, '22023', NULL, 'no role is refused, also for a missing row');

SELECT * FROM finish();
ROLLBACK;

-- pgTAP: verdicts as events and entity risk (issue 9, docs/entity-risk.md): label() with
-- labelled_at keeps every change; entity_counts follow every verdict change, retraction,
-- deletion and identifier change and equal the recomputation (entity_check); the entity rules
-- explain themselves, leave a customer's own verdicts out and are combined and fitted with the
-- other rules; the API's PATCH accepts labelled_at. Ids 960001+; rolled back.
BEGIN;
SELECT plan(45);

DELETE FROM techmart.settings;
INSERT INTO techmart.settings (name, value) VALUES ('suspicious_threshold', 70), ('reason_min_contribution', 0), ('bias', -4);
INSERT INTO customers (id, email, name, country, registration_date)
SELECT i, 'entity-' || i || '@example.com', 'Entity ' || i, 'DE', '2020-01-01' FROM generate_series(960001, 960010) i;
INSERT INTO products (id, sku, name, price, stock_quantity) VALUES (960001, 'ENTITY-1', 'Entity product', 40, 1000000);
-- customers 960001..960004 each buy once on device dev-shared (ip 10.7.7.x) 5 days ago
INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, payment_method, country, device_id,
                          ip_address, payment_fingerprint, transaction_time)
SELECT 960000 + c, 960000 + c, 960001, 1, 40, 'credit_card', 'DE', 'dev-shared', ('10.7.7.' || c)::inet,
       repeat('ab', 8), date_trunc('day', now()) - interval '5 days' + c * interval '1 hour'
  FROM generate_series(1, 4) c;
-- an old one (40 days ago) on the same device, and one of customer 960005 on its own device
INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, payment_method, country, device_id,
                          ip_address, transaction_time)
VALUES (960011, 960005, 960001, 1, 40, 'credit_card', 'DE', 'dev-shared', '10.7.7.9', now() - interval '40 days'),
       (960012, 960005, 960001, 1, 40, 'credit_card', 'DE', 'dev-own', '10.8.8.8', now() - interval '3 days');

CREATE FUNCTION pg_temp.cnt(k text, e text) RETURNS text LANGUAGE sql AS $$
  SELECT coalesce(sum(frauds), 0) || '/' || coalesce(sum(labelled), 0) FROM techmart.entity_counts WHERE kind = k AND entity = e $$;

-- ------------------------------------------------------------------------ verdicts
SELECT has_function('techmart', 'label', ARRAY['bigint', 'text', 'text', 'timestamp with time zone'],
                    'label(transaction_id, label, note, labelled_at)');
SELECT throws_ok($$SELECT techmart.label(960001, 'fraud', NULL, now() + interval '1 hour')$$, '22023', NULL,
                 'a verdict in the future: 22023');
SELECT throws_ok($$SELECT techmart.label(960001, 'fraud', NULL, NULL)$$, '22023', NULL, 'labelled_at NULL: 22023');
SELECT techmart.label(960001, 'fraud', 'first', now() - interval '4 days');
SELECT techmart.label(960002, 'fraud', NULL, now() - interval '4 days');
SELECT techmart.label(960003, 'legitimate', NULL, now() - interval '4 days');
SELECT is((SELECT labelled_at FROM transaction_labels WHERE transaction_id = 960001),
          (now() - interval '4 days')::timestamptz, 'labelled_at is recorded as given');
SELECT is(pg_temp.cnt('device', 'dev-shared'), '2/3', 'device counters: 2 frauds of 3 labelled');
SELECT is(pg_temp.cnt('ip24', '10.7.7.0/24'), '2/3', '/24 network counters');
SELECT is(pg_temp.cnt('device/customer', 'dev-shared/960001'), '1/1', 'the customer''s own share is counted apart');
SELECT is((SELECT day FROM techmart.entity_counts WHERE kind = 'customer' AND entity = '960001'),
          ((SELECT transaction_time FROM transactions WHERE id = 960001) AT TIME ZONE 'UTC')::date,
          'bucket = UTC day of the labelled transaction');
-- a verdict change moves the counts; a backdated older verdict changes nothing
SELECT techmart.label(960003, 'fraud', 'changed my mind', now() - interval '2 days');
SELECT is(pg_temp.cnt('device', 'dev-shared'), '3/3', 'legitimate -> fraud moves one count');
SELECT techmart.label(960003, 'legitimate', 'older note', now() - interval '3 days');
SELECT is(pg_temp.cnt('device', 'dev-shared'), '3/3', 'a verdict older than the current one changes nothing');
SELECT is((SELECT label || ' ' || (labelled_at = now() - interval '2 days') FROM transactions WHERE id = 960003),
          'fraud true', 'transactions.label/labelled_at = the latest verdict by labelled_at');
SELECT is((SELECT count(*)::int FROM transaction_labels WHERE transaction_id = 960003), 3, 'every change is kept');
SELECT techmart.label(960002, 'unknown', 'retracted');
SELECT is(pg_temp.cnt('device', 'dev-shared'), '2/2', 'unknown retracts the verdict');
-- direct writes to transaction_labels
INSERT INTO transaction_labels (transaction_id, label, labelled_at) VALUES (960004, 'fraud', now() - interval '1 day');
SELECT is(pg_temp.cnt('device', 'dev-shared'), '3/3', 'a direct INSERT into transaction_labels is counted');
DELETE FROM transaction_labels WHERE transaction_id = 960004;
SELECT is(pg_temp.cnt('device', 'dev-shared'), '2/2', 'deleting the verdict uncounts it');
INSERT INTO transaction_labels (transaction_id, label, labelled_at) VALUES (960004, 'fraud', now() - interval '1 day');
UPDATE transactions SET device_id = 'dev-moved' WHERE id = 960004;
SELECT is(pg_temp.cnt('device', 'dev-shared') || ' ' || pg_temp.cnt('device', 'dev-moved'), '2/2 1/1',
          'changing a labelled transaction''s device moves its counts');
SELECT techmart.label(960011, 'fraud', NULL, now() - interval '39 days');
SELECT is((SELECT count(*)::int FROM techmart.entity_check()), 0, 'entity_check(): counters equal the recomputation');
CREATE TEMP TABLE before_rebuild AS SELECT * FROM techmart.entity_counts WHERE labelled <> 0;
SELECT lives_ok($$SELECT techmart.entity_rebuild()$$, 'entity_rebuild()');
SELECT set_eq($$SELECT * FROM techmart.entity_counts WHERE labelled <> 0$$, $$SELECT * FROM before_rebuild$$,
              'entity_rebuild() gives the counters kept incrementally');

-- ------------------------------------------------------------------- configuration
SELECT is((SELECT count(*)::int FROM techmart.entity_kind WHERE NOT enabled), 7, 'seven entity kinds, disabled by default');
SELECT throws_ok($$UPDATE techmart.entity_kind SET window_days = 0 WHERE kind = 'device'$$, '23514', NULL,
                 'window_days 0 is refused (23514)');
CREATE TEMP TABLE v0 AS SELECT version FROM techmart.config_version;
UPDATE techmart.entity_kind SET enabled = true, weight = 2, threshold = 0 WHERE kind = 'device';
SELECT ok((SELECT enabled AND weight = 2 AND params ->> 'window_days' = '30' FROM techmart.rule_config WHERE rule = 'entity_device')
          AND (SELECT version FROM techmart.config_version) > (SELECT version FROM v0),
          'entity_kind writes rule_config (and the configuration version)');

-- ---------------------------------------------------------------------- scoring
-- some legitimate verdicts on the seed rows of the last 20 days: the shop-wide rate drops
SELECT count(techmart.label(id, 'legitimate')) FROM (SELECT id FROM transactions WHERE id < 960000
   AND transaction_time > now() - interval '20 days' ORDER BY id LIMIT 30) x;
-- customer 960006 (no verdicts of its own) on dev-shared now: 2 frauds of 2 labelled by others in 30 days
INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, payment_method, country, device_id, ip_address)
VALUES (960020, 960006, 960001, 1, 40, 'credit_card', 'DE', 'dev-shared', '10.7.7.20');
SELECT is((SELECT r ->> 'detail' FROM transactions t, jsonb_array_elements(t.fraud_reasons) r
            WHERE t.id = 960020 AND r ->> 'rule' = 'entity_device'),
          'device dev-shared: 2 confirmed frauds of 2 labelled in 30 days by other customers (smoothed rate '
          || (SELECT to_char(100 * rate, 'FM990.0') FROM techmart.entity_risk('device', 'dev-shared')) || '% vs '
          || (SELECT to_char(100 * shop_rate, 'FM990.0') FROM techmart.entity_risk('device', 'dev-shared')) || '% shop-wide)',
          'the reason names the device and its verdicts (the 40-day-old fraud is outside the window)');
SELECT ok((SELECT (r ->> 'observed')::float8 FROM transactions t, jsonb_array_elements(t.fraud_reasons) r
            WHERE t.id = 960020 AND r ->> 'rule' = 'entity_device')
          = (SELECT round(lift::numeric, 4)::float8 FROM techmart.entity_risk('device', 'dev-shared')),
          'observed = the log-odds lift of entity_risk()');
INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, payment_method, country, device_id, ip_address)
VALUES (960021, 960006, 960001, 1, 40, 'credit_card', 'DE', 'dev-clean', '10.9.9.9');
SELECT cmp_ok((SELECT fraud_score FROM transactions WHERE id = 960020), '>',
              (SELECT fraud_score FROM transactions WHERE id = 960021),
              'the same purchase scores higher on the device with confirmed frauds');
-- customer 960001 had one of the two frauds itself: only the other customer's verdict counts
INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, payment_method, country, device_id, ip_address)
VALUES (960022, 960001, 960001, 1, 40, 'credit_card', 'DE', 'dev-shared', '10.7.7.1');
SELECT is((SELECT r ->> 'detail' FROM transactions t, jsonb_array_elements(t.fraud_reasons) r
            WHERE t.id = 960022 AND r ->> 'rule' = 'entity_device') LIKE 'device dev-shared: 1 confirmed fraud of 1 labelled %',
          true, 'a customer''s own verdicts on the device are left out');
SELECT techmart.label(960020, 'fraud');
SELECT techmart.label(960021, 'legitimate');
SELECT ok(EXISTS (SELECT 1 FROM techmart.fit_weights() WHERE item = 'weight:entity_device'),
          'fit_weights() fits the enabled entity rule with the others');

-- ---------------------------------------------------------------- backtest, no leak
-- device dev-leak: a fraud at t0 labelled at t0 + 2 days; the same device at t0 + 1 day (verdict
-- not known yet) and at t0 + 3 days (known)
INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, payment_method, country, device_id, transaction_time)
VALUES (960030, 960007, 960001, 1, 40, 'credit_card', 'DE', 'dev-leak', now() - interval '10 days'),
       (960031, 960008, 960001, 1, 40, 'credit_card', 'DE', 'dev-leak', now() - interval '9 days'),
       (960032, 960009, 960001, 1, 40, 'credit_card', 'DE', 'dev-leak', now() - interval '7 days');
SELECT techmart.label(960030, 'fraud', NULL, now() - interval '8 days');
CREATE TEMP TABLE stored_before AS SELECT id, fraud_score FROM transactions WHERE id BETWEEN 960030 AND 960032;
CREATE TEMP TABLE bt_on AS SELECT * FROM techmart.backtest_scores('{"entity": {"device": {"enabled": true}}}', now() - interval '11 days', now());
CREATE TEMP TABLE bt_off AS SELECT * FROM techmart.backtest_scores('{"entity": {"device": {"enabled": false}}}', now() - interval '11 days', now());
SELECT is((SELECT score FROM bt_on WHERE transaction_id = 960031), (SELECT score FROM bt_off WHERE transaction_id = 960031),
          'replayed before the verdict was given: no entity evidence (no leak of the future)');
SELECT cmp_ok((SELECT score FROM bt_on WHERE transaction_id = 960032), '>', (SELECT score FROM bt_off WHERE transaction_id = 960032),
              'replayed after the verdict: the device''s fraud counts');
SELECT set_eq($$SELECT id, fraud_score FROM transactions WHERE id BETWEEN 960030 AND 960032$$, $$SELECT * FROM stored_before$$,
              'a backtest changes no stored score');
SELECT is((SELECT count(*)::int FROM techmart.backtest('{"settings": {"suspicious_threshold": 50}}', now() - interval '11 days', now())), 11,
          'backtest() reports 11 figures');
SELECT throws_ok($$SELECT * FROM techmart.backtest('{"rules": {"no_such_rule": {}}}', now() - interval '1 day', now())$$, '22023', NULL,
                 'an unknown rule in the candidate: 22023');
SELECT throws_ok($$SELECT * FROM techmart.backtest('{}', now(), now() - interval '1 day')$$, '22023', NULL, 'from >= to: 22023');
SELECT is((SELECT array_agg(round(value::numeric, 4) ORDER BY metric)
             FROM techmart.ranking_metrics(ARRAY[90, 80, 10, 5]::float8[], ARRAY[true, false, true, false], ARRAY[1, 1, 1, 2], 1, 70)
            WHERE metric IN ('roc_auc', 'average_precision', 'top_k_share')),
          ARRAY[0.8333, 0.7500, 0.5000], 'ranking_metrics: AP, AUC and top-k share of a known ranking');

-- ------------------------------------------------------------------------ shadow
SELECT throws_ok($$INSERT INTO techmart.shadow_config (name, config) VALUES ('bad', '{"settings": {"bias": 99}}')$$, '22023', NULL,
                 'an invalid shadow configuration: 22023');
INSERT INTO techmart.shadow_config (name, config) VALUES ('strict', '{"settings": {"suspicious_threshold": 1}, "entity": {"device": {"weight": 5}}}');
-- at noon UTC tomorrow: after the device's verdicts (given now), and at an hour that is not the shop's
-- rare one (at night UTC the live score crossed the threshold and raised an alert: tests 36-37 failed)
INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, payment_method, country, device_id, transaction_time)
VALUES (960040, 960010, 960001, 1, 40, 'credit_card', 'DE', 'dev-shared', date_trunc('day', now()) + interval '1 day 12 hours');
SELECT ok((SELECT s.is_suspicious AND NOT t.is_suspicious AND s.score > t.fraud_score
             FROM techmart.shadow_scores s JOIN transactions t ON t.id = s.transaction_id WHERE s.transaction_id = 960040 AND s.name = 'strict'),
          'the shadow scores every insert with its own configuration, stored apart');
SELECT is((SELECT count(*)::int FROM alerts WHERE transaction_id = 960040), 0, 'a shadow never alerts');
SELECT is((SELECT scored::int || ' ' || shadow_suspicious FROM shadow_comparison WHERE name = 'strict'), '1 1',
          'shadow_comparison compares it with the live configuration');

-- ---------------------------------------------------------------------------- API
SELECT is((SELECT (api.update_transaction(960012, '{"label": "fraud", "labelled_at": "2020-01-02T03:04:05Z"}', 'analyst') -> 'labels' -> 0 ->> 'labelled_at')::timestamptz),
          '2020-01-02T03:04:05Z'::timestamptz, 'PATCH /transactions/{id} records labelled_at');
SELECT throws_ok($$SELECT api.update_transaction(960012, jsonb_build_object('label', 'fraud', 'labelled_at', to_char(now() + interval '1 day', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')), 'analyst')$$,
                 '22023', NULL, 'PATCH with labelled_at in the future: 22023 (422)');

-- ------------------------------------------- entity_version: one bump per statement that changed counts
INSERT INTO transaction_labels (transaction_id, label, labelled_at, labelled_by, note)
SELECT id, 'legitimate', now() - interval '2 hours', 'test', 'bulk' FROM transactions WHERE id IN (960001, 960002, 960003, 960004);
CREATE TEMP TABLE ver0 AS SELECT version FROM techmart.entity_version;
INSERT INTO transaction_labels (transaction_id, label, labelled_at, labelled_by, note)
SELECT id, 'fraud', now() - interval '1 hour', 'test', 'bulk' FROM transactions WHERE id IN (960001, 960002, 960003, 960004);
SELECT is((SELECT version FROM techmart.entity_version) - (SELECT version FROM ver0), 1::bigint,
          'a four-row label statement bumps entity_version once');
SELECT is((SELECT count(*)::int FROM techmart.entity_check()), 0, 'and the counters equal the recomputation');
UPDATE ver0 SET version = (SELECT version FROM techmart.entity_version);
UPDATE transaction_labels SET note = 'same verdict' WHERE note = 'bulk';
SELECT is((SELECT version FROM techmart.entity_version) - (SELECT version FROM ver0), 0::bigint,
          'a statement that changes no counter does not bump it (the scoring caches stay)');
-- the next statement scores with the new counts (cache invalidated by the bump)
UPDATE techmart.rule_config SET enabled = true WHERE rule = 'entity_device';
INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, payment_method, country, device_id, transaction_time)
VALUES (960050, 960006, 960001, 1, 40, 'credit_card', 'DE', 'dev-shared', now());
SELECT ok((SELECT fraud_reasons @> '[{"rule": "entity_device"}]' FROM transactions WHERE id = 960050),
          'an insert after the labelling statement sees the new device counts');

TRUNCATE transaction_labels;
SELECT is((SELECT count(*)::int FROM techmart.entity_counts WHERE labelled <> 0) + (SELECT count(*)::int FROM techmart.entity_check()), 0,
          'TRUNCATE transaction_labels empties the counters');

SELECT * FROM finish();
ROLLBACK;

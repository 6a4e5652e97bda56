-- pgTAP: the live-stream event of an alert (api.alert_event, change alert_event_cheaper): built by
-- PL/pgSQL, masking the alert once, calling api.mask_reasons only for reasons of the entity rules; the
-- payloads as before (the masked row; metadata dropped and message cut over 7,900 bytes). Calls are
-- counted with track_functions in this transaction.
BEGIN;
SELECT plan(9);
SET LOCAL track_functions = 'all';

CREATE FUNCTION pg_temp.calls(f text) RETURNS bigint LANGUAGE sql AS $$
  SELECT coalesce((SELECT calls FROM pg_stat_xact_user_functions WHERE schemaname = 'api' AND funcname = f), 0)
$$;

SELECT is((SELECT l.lanname::text FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
            WHERE p.oid = 'api.alert_event(alerts)'::regprocedure), 'plpgsql',
          'api.alert_event is PL/pgSQL (a non-inlined SQL function is planned again in every transaction)');

INSERT INTO alerts (type, severity, message, metadata)
VALUES ('fraud', 'high', 'alert event: an entity rule',
        '{"reasons": [{"rule": "entity_device", "observed": 2, "detail": "device dev-123: 2 confirmed frauds"},
                      {"rule": "velocity_1h", "observed": 9, "detail": "9 transactions in 1 h"}]}')
RETURNING id AS entity_alert \gset
INSERT INTO alerts (type, severity, message, metadata)
VALUES ('fraud', 'high', 'alert event: no entity rule',
        '{"reasons": [{"rule": "velocity_1h", "observed": 9, "detail": "9 transactions in 1 h"}]}')
RETURNING id AS plain_alert \gset
INSERT INTO alerts (type, severity, message, metadata)
VALUES ('fraud', 'high', repeat('m', 3000), jsonb_build_object('blob', repeat('x', 9000)))
RETURNING id AS big_alert \gset

SELECT pg_temp.calls('mask_alert') AS m0, pg_temp.calls('mask_reasons') AS r0 \gset
SELECT api.alert_event(a) AS ev FROM alerts a WHERE a.id = :entity_alert \gset
SELECT is(pg_temp.calls('mask_alert') - :m0, 1::bigint, 'one event: api.mask_alert called once (it ran twice)');
SELECT is(pg_temp.calls('mask_reasons') - :r0, 1::bigint, 'an entity rule''s reason: api.mask_reasons called');
SELECT is(:'ev'::jsonb #>> '{metadata,reasons,0,detail}', 'device (withheld): 2 confirmed frauds',
          'and the device id withheld in the event');
SELECT is(:'ev'::jsonb, (SELECT api.mask_alert(to_jsonb(a), 'viewer') FROM alerts a WHERE a.id = :entity_alert),
          'the payload is the alert as a viewer may see it');

SELECT pg_temp.calls('mask_reasons') AS r1 \gset
SELECT api.alert_event(a) AS ev2 FROM alerts a WHERE a.id = :plain_alert \gset
SELECT is(pg_temp.calls('mask_reasons') - :r1, 0::bigint, 'no entity rule among the reasons: api.mask_reasons not called');
SELECT is(:'ev2'::jsonb, (SELECT to_jsonb(a) FROM alerts a WHERE a.id = :plain_alert),
          'and the payload is the alert unchanged');

SELECT ok(NOT (api.alert_event(a) ? 'metadata') AND (api.alert_event(a) ->> 'truncated')::boolean
          AND length(api.alert_event(a) ->> 'message') = 1000, 'over 7,900 bytes: metadata dropped, message cut to 1,000')
  FROM alerts a WHERE a.id = :big_alert;
SELECT is(api.mask_alert(to_jsonb(a), 'analyst'), to_jsonb(a), 'an analyst''s view of an alert is the row')
  FROM alerts a WHERE a.id = :entity_alert;

SELECT * FROM finish();
ROLLBACK;

-- pgTAP: what the backtest's replay reads (extension/pg/entity_backtest.cpp; docs/entity-risk.md
-- "Backtests"). The replay streams the transactions of the customers with a row in the period, in
-- time order, and makes the entity keys from the rows' columns: a customer's history before the
-- period is still folded (the live configuration's replay of rows scored live in time order equals
-- their stored scores); a verdict on a transaction of a customer with no row in the period still
-- feeds the entity counters (device, ip, ip24 keys as techmart.entity_keys() writes them); only
-- rows in [from, to) are scored; the verdicts counted are the current ones; backtest() replays the live
-- configuration once when it is also the candidate. Ids 961001+; rolled back.
BEGIN;
SELECT plan(14);
-- function calls counted from the start (a call site's counting is fixed when it is first run; a database
-- copied by CREATE DATABASE ... TEMPLATE lacks the migrations' ALTER DATABASE ... SET track_functions)
SET LOCAL track_functions = 'all';

DELETE FROM techmart.settings;
INSERT INTO techmart.settings (name, value) VALUES ('suspicious_threshold', 70), ('reason_min_contribution', 0), ('bias', -4);
INSERT INTO customers (id, email, name, country, registration_date)
SELECT i, 'replay-' || i || '@example.com', 'Replay ' || i, 'DE', '2020-01-01' FROM generate_series(961001, 961006) i;
INSERT INTO products (id, sku, name, price, stock_quantity) VALUES (961001, 'REPLAY-1', 'Replay product', 40, 1000000);

-- customer 961001: six ordinary purchases a month ago, then a large one two days ago (scored live,
-- in time order, one statement each)
DO $$
BEGIN
  FOR i IN 1..6 LOOP
    INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, payment_method, country, transaction_time)
    VALUES (961000 + i, 961001, 961001, 1, 20 + i % 3, 'credit_card', 'DE', now() - interval '31 days' + i * interval '1 day');
  END LOOP;
  INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, payment_method, country, transaction_time)
  VALUES (961007, 961001, 961001, 10, 40, 'credit_card', 'DE', now() - interval '2 days');
END $$;

-- customer 961002 (no row in the periods below): a purchase 20 days ago on device bt-dev, ip
-- 10.61.1.2, labelled fraud a day later; customers 961003 and 961004 buy yesterday, on the same
-- device and /24 and on another device in the same /24
INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, payment_method, country, device_id,
                          ip_address, transaction_time)
VALUES (961010, 961002, 961001, 1, 40, 'credit_card', 'DE', 'bt-dev', '10.61.1.2', now() - interval '20 days'),
       (961011, 961003, 961001, 1, 40, 'credit_card', 'DE', 'bt-dev', '10.61.1.3', now() - interval '1 day'),
       (961012, 961004, 961001, 1, 40, 'credit_card', 'DE', 'bt-other', '10.61.1.77', now() - interval '1 day' + interval '1 hour'),
       (961013, 961005, 961001, 1, 40, 'credit_card', 'DE', 'bt-far', '10.62.9.9', now() - interval '1 day' + interval '2 hours');
SELECT techmart.label(961010, 'fraud', NULL, now() - interval '19 days');
-- 961011: labelled legitimate, then fraud (the current verdict counts in the metrics)
SELECT techmart.label(961011, 'legitimate', NULL, now() - interval '12 hours');
SELECT techmart.label(961011, 'fraud', NULL, now() - interval '6 hours');

CREATE FUNCTION pg_temp.replayed(cfg jsonb, tx bigint) RETURNS float8 LANGUAGE sql AS $$
  SELECT score FROM techmart.backtest_scores(cfg, now() - interval '3 days', now()) WHERE transaction_id = tx $$;

-- ------------------------------------------------------------ the history before the period is folded
SELECT cmp_ok((SELECT fraud_score FROM transactions WHERE id = 961007), '>', 0::numeric,
              'the large purchase after six ordinary ones scored above 0 live');
SELECT is(pg_temp.replayed('{}', 961007)::numeric, (SELECT fraud_score FROM transactions WHERE id = 961007),
          'replayed with the live configuration over the last 3 days: the stored score (its history a month before was folded)');
SELECT is((SELECT count(*)::int FROM techmart.backtest_scores('{}', now() - interval '3 days', now()) s
            WHERE s.score IS DISTINCT FROM s.stored_score::float8 AND s.transaction_id BETWEEN 961001 AND 961013), 0,
          'every row of this test in the period: replayed score = stored score');

-- ------------------------------------------------------------ verdicts of customers outside the period
SELECT cmp_ok(pg_temp.replayed('{"entity": {"device": {"enabled": true}}}', 961011), '>',
              pg_temp.replayed('{"entity": {"device": {"enabled": false}}}', 961011),
              'device rule: the fraud of a customer with no row in the period counts for the device');
SELECT is(pg_temp.replayed('{"entity": {"device": {"enabled": true}}}', 961012),
          pg_temp.replayed('{"entity": {"device": {"enabled": false}}}', 961012),
          'device rule: another device, no evidence');
SELECT cmp_ok(pg_temp.replayed('{"entity": {"ip24": {"enabled": true}}}', 961012), '>',
              pg_temp.replayed('{"entity": {"ip24": {"enabled": false}}}', 961012),
              'ip24 rule: the same /24 network as the fraud');
SELECT is(pg_temp.replayed('{"entity": {"ip": {"enabled": true}}}', 961012),
          pg_temp.replayed('{"entity": {"ip": {"enabled": false}}}', 961012),
          'ip rule: another address in the /24, no evidence');
SELECT is(pg_temp.replayed('{"entity": {"ip24": {"enabled": true}}}', 961013),
          pg_temp.replayed('{"entity": {"ip24": {"enabled": false}}}', 961013),
          'ip24 rule: another /24, no evidence');

-- ------------------------------------------------------------ only [from, to) is scored
SELECT is((SELECT count(*)::int FROM techmart.backtest_scores('{}', now() - interval '3 days', now() - interval '30 hours')),
          (SELECT count(*)::int FROM transactions WHERE transaction_time >= now() - interval '3 days'
                                                    AND transaction_time < now() - interval '30 hours'),
          'the rows scored are the transactions in [from, to)');
SELECT ok((SELECT bool_and(s.transaction_id IN (961007)) FROM techmart.backtest_scores('{}', now() - interval '3 days', now() - interval '30 hours') s
            WHERE s.transaction_id BETWEEN 961001 AND 961013),
          'of this test''s rows, only 961007 lies in [now - 3 days, now - 30 hours)');

-- ------------------------------------------------------------ the metrics count the current verdicts
SELECT is((SELECT array[live, candidate, stored] FROM techmart.backtest('{}', now() - interval '3 days', now()) WHERE metric = 'frauds'),
          (SELECT array[n, n, n]::float8[] FROM (
             SELECT count(*)::float8 AS n FROM transactions t
              WHERE t.transaction_time >= now() - interval '3 days' AND t.transaction_time < now()
                AND (SELECT l.label FROM transaction_labels l WHERE l.transaction_id = t.id
                      ORDER BY l.labelled_at DESC, l.id DESC LIMIT 1) = 'fraud') x),
          'frauds in the period: the current verdicts (961011: legitimate, then fraud)');

-- ------------------------------------------------------------ the live configuration as the candidate: one replay
CREATE FUNCTION pg_temp.replays() RETURNS bigint LANGUAGE sql AS $$
  SELECT coalesce((SELECT calls FROM pg_stat_xact_user_functions WHERE schemaname = 'techmart' AND funcname = '_replay'), 0) $$;
CREATE TEMP TABLE n0 AS SELECT pg_temp.replays() AS n;
CREATE TEMP TABLE bt_live AS SELECT * FROM techmart.backtest('{}', now() - interval '3 days', now());
SELECT is(pg_temp.replays() - (SELECT n FROM n0), 1::bigint, 'backtest() of the live configuration replays once');
SELECT ok((SELECT bool_and(live IS NOT DISTINCT FROM candidate) FROM bt_live), 'and reports it as both live and candidate');
UPDATE n0 SET n = pg_temp.replays();
CREATE TEMP TABLE bt_other AS SELECT * FROM techmart.backtest('{"settings": {"suspicious_threshold": 50}}', now() - interval '3 days', now());
SELECT is(pg_temp.replays() - (SELECT n FROM n0), 2::bigint, 'another candidate: two replays');

SELECT * FROM finish();
ROLLBACK;

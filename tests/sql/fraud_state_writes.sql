-- pgTAP: the fraud state (techmart.customer_state) and customers.risk_score stay equal to a
-- recomputation from transactions after DELETE, UPDATE and TRUNCATE (techmart 0.8, sqitch change
-- fraud_state_writes). Customers 9702xx, product 970201, lines in March 2020. The recomputation
-- here is techmart.rebuild_state_for() run in a subtransaction that is rolled back, compared
-- column by column (doubles rounded: the live Welford sums were accumulated in arrival order).
BEGIN;
SELECT plan(29);

SELECT has_trigger('transactions', t) FROM unnest(ARRAY['transactions_fraud_state_del', 'transactions_fraud_state_upd',
                                                         'transactions_fraud_state_trunc']) t;
SELECT is((SELECT count(*)::int FROM pg_trigger WHERE tgrelid = 'transactions'::regclass
             AND tgname LIKE 'transactions_fraud_state_%' AND tgtype & 1 = 0 AND tgtype & 4 = 0),
          3, 'the state triggers are statement-level and none fires on INSERT');

CREATE FUNCTION pg_temp.state_of(ids bigint[]) RETURNS jsonb LANGUAGE sql AS $$
  SELECT coalesce(jsonb_object_agg(s.customer_id, jsonb_build_array(
           s.n, round(s.mean::numeric, 9), round(s.m2::numeric, 6), s.amount_hist, s.recent_t, s.recent_a,
           (SELECT array_agg(round(x::numeric, 9)) FROM unnest(s.hour_profile) x), s.profile_time,
           s.last_transaction_time, s.last_amount, s.last_lat, s.last_lon, s.last_country, s.methods,
           round(s.risk::numeric, 9), s.risk_time)), '{}')
    FROM techmart.customer_state s WHERE s.customer_id = ANY (ids) AND s.n > 0
$$;
CREATE FUNCTION pg_temp.scores_of(ids bigint[]) RETURNS jsonb LANGUAGE sql AS $$
  SELECT jsonb_object_agg(id, risk_score) FROM customers WHERE id = ANY (ids)
$$;
-- number of customers of ids whose state or risk_score differs from rebuild_state_for()'s
CREATE FUNCTION pg_temp.diff(ids bigint[]) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  live jsonb := pg_temp.state_of(ids);
  live_scores jsonb := pg_temp.scores_of(ids);
  n int;
BEGIN
  BEGIN
    PERFORM techmart.rebuild_state_for(ids, 'public.transactions');
    SELECT count(*) INTO n FROM unnest(ids) c
     WHERE (live -> c::text) IS DISTINCT FROM (pg_temp.state_of(ids) -> c::text)
        OR (live_scores -> c::text) IS DISTINCT FROM (pg_temp.scores_of(ids) -> c::text);
    RAISE SQLSTATE 'TMTST';
  EXCEPTION WHEN SQLSTATE 'TMTST' THEN NULL;
  END;
  RETURN n;
END $$;
CREATE FUNCTION pg_temp.state_n(c bigint) RETURNS bigint LANGUAGE sql AS $$
  SELECT n FROM techmart.customer_state WHERE customer_id = c
$$;

INSERT INTO products (id, sku, name, price, stock_quantity) VALUES (970201, 'STATE-W-1', 'state writes', 20, 100000);
INSERT INTO customers (id, email, name, country, registration_date)
SELECT 970200 + i, 'statew' || i || '@example.com', 'State writes ' || i, 'FR', '2019-01-01' FROM generate_series(1, 4) i;
-- scored history: 12 lines each for customers 1..3, a few large ones (risk > 0)
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country, latitude, longitude,
                          transaction_time, device_id)
SELECT 970200 + c, 970201, 1, CASE WHEN g % 5 = 0 THEN 2500 + c ELSE 15 + g + c END,
       (ARRAY['credit_card', 'paypal', 'debit_card'])[1 + g % 3], (ARRAY['FR', 'DE', 'US'])[1 + (g + c) % 3],
       48.85 + g % 4, 2.35 - g % 3, timestamptz '2020-03-01 08:00Z' + (g * 37 + c) * interval '1 hour', 'statew-' || c || '-' || g
  FROM generate_series(1, 3) c CROSS JOIN generate_series(1, 12) g ORDER BY c, g;

CREATE TEMP TABLE ids AS SELECT ARRAY[970201, 970202, 970203, 970204]::bigint[] AS a;
SELECT is(pg_temp.diff((SELECT a FROM ids)), 0, 'after the inserts: every state equals the recomputation');
SELECT ok((SELECT bool_and(risk_score > 0) FROM customers WHERE id IN (970201, 970202, 970203)),
          'the history gives each customer a risk_score (the checks below cover it)');

-- DELETE
DELETE FROM transactions WHERE customer_id = 970201 AND amount >= 2500 AND transaction_time < '2020-03-10';
SELECT is(pg_temp.state_n(970201), 11::bigint, 'DELETE of one line: the state counts 11 lines');
SELECT is(pg_temp.diff((SELECT a FROM ids)), 0, 'DELETE: the state and risk_score equal the recomputation');
DELETE FROM transactions WHERE id IN (SELECT id FROM transactions WHERE customer_id IN (970202, 970203)
                                       ORDER BY transaction_time DESC LIMIT 5);
SELECT is(pg_temp.diff((SELECT a FROM ids)), 0, 'DELETE of the latest lines of two customers (last_*, recent_*)');

-- UPDATE of each column the state depends on
UPDATE transactions SET amount = amount * 7 WHERE customer_id = 970201 AND transaction_time < '2020-03-05';
SELECT is(pg_temp.diff((SELECT a FROM ids)), 0, 'UPDATE of amount');
UPDATE transactions SET transaction_time = transaction_time + interval '3 hours 10 minutes'
 WHERE customer_id = 970202 AND transaction_time < '2020-03-08';
SELECT is(pg_temp.diff((SELECT a FROM ids)), 0, 'UPDATE of transaction_time (hour profile, order)');
UPDATE transactions SET country = 'JP', latitude = 35.7, longitude = 139.7
 WHERE id = (SELECT max(id) FROM transactions WHERE customer_id = 970203);
SELECT is(pg_temp.diff((SELECT a FROM ids)), 0, 'UPDATE of country and location of the latest line');
UPDATE transactions SET payment_method = 'crypto' WHERE customer_id = 970203 AND transaction_time < '2020-03-04';
SELECT is(pg_temp.diff((SELECT a FROM ids)), 0, 'UPDATE of payment_method');
UPDATE transactions SET fraud_score = 99 WHERE id = (SELECT max(id) FROM transactions WHERE customer_id = 970202);
SELECT is(pg_temp.diff((SELECT a FROM ids)), 0, 'UPDATE of fraud_score (risk)');
UPDATE transactions SET customer_id = 970204 WHERE customer_id = 970201 AND transaction_time > '2020-03-12';
SELECT ok(pg_temp.state_n(970204) > 0 AND pg_temp.state_n(970201) + pg_temp.state_n(970204) = 11,
          'UPDATE of customer_id: the lines move to the other customer''s state');
SELECT is(pg_temp.diff((SELECT a FROM ids)), 0, 'UPDATE of customer_id: both customers equal the recomputation');
UPDATE transactions SET amount = amount + 1, customer_id = 970201 WHERE customer_id = 970204 AND amount < 100;
SELECT is(pg_temp.diff((SELECT a FROM ids)), 0, 'UPDATE of several columns of several customers in one statement');

-- an UPDATE of other columns recomputes nothing (the state rows are not rewritten)
CREATE TEMP TABLE before_ctid AS SELECT customer_id, ctid::text AS c FROM techmart.customer_state
 WHERE customer_id BETWEEN 970201 AND 970204;
UPDATE transactions SET status = 'pending', label = 'legitimate', labelled_at = '2020-04-01Z', platform = 'ios'
 WHERE customer_id BETWEEN 970201 AND 970204;
SELECT is((SELECT count(*)::int FROM techmart.customer_state s JOIN before_ctid b USING (customer_id) WHERE s.ctid::text = b.c),
          (SELECT count(*)::int FROM before_ctid), 'UPDATE of status, label, platform: no state row rewritten');
UPDATE transactions SET amount = amount WHERE customer_id = 970202;
SELECT is((SELECT count(*)::int FROM techmart.customer_state s JOIN before_ctid b USING (customer_id) WHERE s.ctid::text = b.c),
          (SELECT count(*)::int FROM before_ctid), 'UPDATE setting a state column to its value: no state row rewritten');

-- every line of a customer deleted: an empty state row (as a new one; rebuild_state_for leaves none), risk_score 0
DELETE FROM transactions WHERE customer_id = 970203;
SELECT ok(pg_temp.state_n(970203) = 0 AND (SELECT risk_score FROM customers WHERE id = 970203) = 0,
          'DELETE of every line of a customer: an empty state (n = 0), risk_score 0');
SELECT is(pg_temp.diff((SELECT a FROM ids)), 0, 'and the rest still equal the recomputation');

-- scoring off does not switch the upkeep off (it only skips scoring inserts)
SET LOCAL techmart.scoring = off;
DELETE FROM transactions WHERE id = (SELECT min(id) FROM transactions WHERE customer_id = 970202);
SELECT is(pg_temp.diff((SELECT a FROM ids)), 0, 'DELETE with techmart.scoring = off: the state follows');
RESET techmart.scoring;

-- techmart.customer_state_check()
SELECT is((SELECT count(*)::int FROM techmart.customer_state_check((SELECT a FROM ids))), 0,
          'customer_state_check(ids): no difference');
UPDATE techmart.customer_state SET last_amount = last_amount + 1 WHERE customer_id = 970202;
SELECT is((SELECT array_agg(customer_id) FROM techmart.customer_state_check((SELECT a FROM ids))), ARRAY[970202]::bigint[],
          'customer_state_check(ids) reports a state changed by hand');
SELECT is((SELECT last_amount FROM techmart.customer_state WHERE customer_id = 970202),
          (SELECT max(amount) FILTER (WHERE transaction_time = (SELECT max(transaction_time) FROM transactions WHERE customer_id = 970202)) + 1
             FROM transactions WHERE customer_id = 970202),
          'customer_state_check leaves the state as it was (its recomputation is rolled back)');
UPDATE customers SET risk_score = risk_score + 1 WHERE id = 970201;
SELECT is((SELECT array_agg(customer_id ORDER BY customer_id) FROM techmart.customer_state_check()),
          ARRAY[970201, 970202]::bigint[], 'customer_state_check() over every customer: the two changed by hand');
SELECT is(techmart.refresh_state(ARRAY[970201, 970202]::bigint[]), 2::bigint, 'refresh_state(ids) rewrites both customers');
SELECT is((SELECT count(*)::int FROM techmart.customer_state_check()), 0,
          'refresh_state(ids) repairs them; the whole database equals the recomputation');

-- TRUNCATE: no state at all, every risk_score 0
SET LOCAL client_min_messages = warning;
TRUNCATE transactions CASCADE;
SELECT ok((SELECT count(*) FROM techmart.customer_state) = 0 AND NOT EXISTS (SELECT FROM customers WHERE risk_score <> 0),
          'TRUNCATE: no state row, every risk_score 0');

SELECT * FROM finish();
ROLLBACK;

-- pgTAP: GET /transactions' total without counting every matching row (sqitch change list_transactions_totals).
-- A time range with at most a status or suspicious filter is answered from the hourly rollups plus the two
-- partial hours at its ends, exactly; other filters by count(*) when the planner prices it within
-- analytics.settings 'list_count_budget', else by the planner's estimate with total_exact false.
BEGIN;
SELECT plan(30);

CREATE TEMP TABLE probe (f jsonb) ON COMMIT DROP;
-- odd minutes and seconds, so that both ends of the ranges fall inside hours
INSERT INTO probe
SELECT jsonb_strip_nulls(jsonb_build_object('from', fr, 'to', tt, 'status', st, 'suspicious', su))
  FROM (SELECT min(transaction_time) AS lo, max(transaction_time) AS hi FROM transactions) b,
       LATERAL (VALUES (NULL::timestamptz, NULL::timestamptz),
                       (b.lo + interval '17 min 3 s', NULL), (NULL, b.hi - interval '3 h 41 min'),
                       (b.lo + (b.hi - b.lo) / 3 + interval '7 min', b.hi - (b.hi - b.lo) / 3 + interval '11 s'),
                       (b.lo + (b.hi - b.lo) / 2 + interval '5 min', b.lo + (b.hi - b.lo) / 2 + interval '45 min'),
                       (b.lo + (b.hi - b.lo) / 2 + interval '50 min', b.lo + (b.hi - b.lo) / 2 + interval '70 min'),
                       (b.hi + interval '1 day', NULL), (NULL, b.lo)) r(fr, tt),
       LATERAL (VALUES (NULL::text, NULL::boolean), ('completed', NULL), ('pending', NULL), ('failed', NULL),
                       ('refunded', NULL), ('blocked', NULL), (NULL, true), (NULL, false)) s(st, su);

CREATE FUNCTION pg_temp.exact_count(p jsonb) RETURNS bigint LANGUAGE sql STABLE AS $$
  SELECT count(*) FROM transactions t
   WHERE (p->>'from' IS NULL OR t.transaction_time >= (p->>'from')::timestamptz)
     AND (p->>'to' IS NULL OR t.transaction_time < (p->>'to')::timestamptz)
     AND (p->>'status' IS NULL OR t.status = p->>'status')
     AND (p->>'suspicious' IS NULL OR t.is_suspicious = (p->>'suspicious')::boolean)
     AND (p->>'min_score' IS NULL OR t.fraud_score >= (p->>'min_score')::numeric)
$$;
CREATE FUNCTION pg_temp.mismatches() RETURNS text LANGUAGE sql STABLE AS $$
  SELECT coalesce(string_agg(format('%s: %s (exact %s) vs count %s', f, x.total, x.exact, pg_temp.exact_count(f)), '; '), '')
    FROM probe, LATERAL api._tx_total(f) x
   WHERE x.total IS DISTINCT FROM pg_temp.exact_count(f) OR NOT x.exact
$$;

SELECT is((SELECT count(*) FROM probe), 64::bigint, '64 filters: 8 time ranges x 8 status/suspicious choices');
SELECT is(pg_temp.mismatches(), '', 'time range + status/suspicious: every total from the rollups is exact and equals count(*)');

-- the rollups follow inserts, status changes and deletes in the same transaction
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, transaction_time, status, payment_method, platform)
SELECT c.id, p.id, 1, 10, t.ts, 'pending', 'paypal', 'web'
  FROM (SELECT min(id) AS id FROM customers) c, (SELECT id FROM products WHERE stock_quantity >= 25 ORDER BY id LIMIT 1) p,
       (SELECT max(transaction_time) - g * interval '13 min' AS ts FROM transactions, generate_series(1, 25) g GROUP BY g) t;
UPDATE transactions SET status = 'failed'
 WHERE id IN (SELECT id FROM transactions WHERE status = 'completed' ORDER BY id DESC LIMIT 40);
DELETE FROM transactions WHERE id IN (SELECT id FROM transactions WHERE status = 'refunded' AND kind = 'sale'
                                       ORDER BY id LIMIT 10);
SELECT is(pg_temp.mismatches(), '', 'after inserts, status changes and deletes: still exact');

-- hours before the oldest kept transaction (months dropped by the retention keep their rollups) do not count
INSERT INTO analytics.sales_hourly (dim, hour, key, slot, transactions, completed, suspicious)
SELECT 'all', analytics.hour_floor(min(transaction_time)) - interval '40 days', '', 0, 1000, 900, 7 FROM transactions;
SELECT is(pg_temp.mismatches(), '', 'rollup hours before the oldest transaction are not counted');
SELECT is((SELECT x.total FROM api._tx_total('{}') x), (SELECT count(*) FROM transactions),
          'no filter: the total is the number of transactions');

-- beyond the rollups: count(*) within the budget ...
SELECT is((SELECT x.exact FROM api._tx_total('{"min_score": 10}') x), true,
          'min_score with the default budget on the seed data: counted');
SELECT is((SELECT x.total FROM api._tx_total('{"min_score": 10}') x), pg_temp.exact_count('{"min_score": 10}'),
          'min_score: the counted total equals count(*)');
SELECT is((SELECT x.total FROM api._tx_total(jsonb_build_object('customer_id', c)) x),
          (SELECT count(*) FROM transactions WHERE customer_id = c), 'customer_id: the total equals count(*)')
  FROM (SELECT customer_id AS c FROM transactions GROUP BY 1 ORDER BY count(*) DESC LIMIT 1) x;

-- ... the planner's estimate above it
UPDATE analytics.settings SET value = '0' WHERE key = 'list_count_budget';
SELECT is((SELECT x.exact FROM api._tx_total('{"min_score": 10}') x), false,
          'budget 0: a filter the rollups cannot answer is estimated (total_exact false)');
SELECT cmp_ok((SELECT x.total FROM api._tx_total('{"min_score": 10}') x), '>', 0::bigint,
              'the estimate is a positive number of rows');
SELECT is((SELECT x.exact FROM api._tx_total('{"status": "pending"}') x), true,
          'budget 0: a status filter is still exact (rollups)');

-- the list: a full page carries the estimate (at least the rows up to it and one more), a short last page the exact total
SELECT is((SELECT r->'total_exact' FROM api.list_transactions('{"min_score": 10, "limit": 5}', 'admin') r), 'false'::jsonb,
          'list_transactions: a full page of an estimated filter says total_exact false');
SELECT cmp_ok((SELECT (r->>'total')::bigint FROM api.list_transactions('{"min_score": 10, "limit": 5, "offset": 20}', 'admin') r),
              '>=', 26::bigint, 'an estimated total is never below offset + the page + 1');
SELECT is((SELECT jsonb_build_array(r->'total', r->'total_exact')
             FROM (SELECT pg_temp.exact_count('{"min_score": 10}') AS n) c,
                  LATERAL api.list_transactions(jsonb_build_object('min_score', 10, 'limit', 50, 'offset', c.n - 3), 'admin') r),
          jsonb_build_array(pg_temp.exact_count('{"min_score": 10}'), true),
          'the last page (3 rows) makes the total exact: offset + its rows');
SELECT is((SELECT r - 'items' - 'next_cursor' FROM api.list_transactions('{"status": "pending", "limit": 2}', 'viewer') r),
          jsonb_build_object('total', pg_temp.exact_count('{"status": "pending"}'), 'total_exact', true, 'limit', 2, 'offset', 0),
          'list_transactions: status filter, exact total from the rollups');

SELECT throws_ok($$UPDATE analytics.settings SET value = 'lots' WHERE key = 'list_count_budget'$$, '23514', NULL,
                 'a budget that is not a number of cost units is refused');

-- keyset pages: walking a filter with next_cursor gives the rows offset paging gives, for every kind of sort
-- column (NULLs included: some scores and countries made NULL), and stops with next_cursor NULL
UPDATE transactions SET fraud_score = NULL, country = NULL
 WHERE id IN (SELECT id FROM transactions WHERE status = 'refunded' ORDER BY id LIMIT 9);
CREATE FUNCTION pg_temp.walk(p jsonb) RETURNS bigint[] LANGUAGE plpgsql AS $$
DECLARE r jsonb; ids bigint[] := '{}'; c text; pages int := 0;
BEGIN
  LOOP
    r := api.list_transactions(CASE WHEN c IS NULL THEN p ELSE p || jsonb_build_object('cursor', c) END, 'viewer');
    ids := ids || ARRAY(SELECT (e->>'id')::bigint FROM jsonb_array_elements(r->'items') e);
    c := r->>'next_cursor';
    pages := pages + 1;
    EXIT WHEN c IS NULL OR pages > 1000;
  END LOOP;
  RETURN ids;
END $$;
CREATE FUNCTION pg_temp.by_offset(p jsonb) RETURNS bigint[] LANGUAGE sql AS $$
  SELECT ARRAY(SELECT (e->>'id')::bigint
                 FROM jsonb_array_elements(api.list_transactions(p || '{"limit": 1000}', 'admin')->'items') e)
$$;
SELECT is(pg_temp.walk(jsonb_build_object('status', 'refunded', 'limit', 7, 'sort', s)),
          pg_temp.by_offset(jsonb_build_object('status', 'refunded', 'sort', s)),
          format('cursor pages sorted by %s = offset paging', s))
  FROM unnest(ARRAY['-transaction_time', 'fraud_score', '-fraud_score', 'country', '-country', 'amount', 'status', '-id']) s;
SELECT ok(array_length(pg_temp.by_offset('{"status": "refunded"}'), 1) > 100, 'the walked filter has over 100 rows');

SELECT throws_ok($$SELECT api.list_transactions('{"cursor": "bm90IGEgY3Vyc29y"}', 'admin')$$, '22023',
                 'invalid transaction filter: cursor is not a cursor of this list (use next_cursor of a previous page as it is)',
                 'a string that is not a cursor: 22023 naming the field');
SELECT throws_ok(format($$SELECT api.list_transactions('{"sort": "amount", "cursor": "%s"}', 'admin')$$,
                        api.list_transactions('{"limit": 2}', 'admin')->>'next_cursor'),
                 '22023', 'invalid transaction filter: cursor was made for sort -transaction_time; this request sorts by amount',
                 'a cursor of another sort is refused');
SELECT throws_ok(format($$SELECT api.list_transactions('{"offset": 10, "cursor": "%s"}', 'admin')$$,
                        api.list_transactions('{"limit": 2}', 'admin')->>'next_cursor'),
                 '22023', 'invalid transaction filter: offset cannot be combined with cursor', 'cursor and offset together are refused');

-- the order of a NOT NULL column has no NULLS LAST, so that transactions_time_idx (DESC, NULLS FIRST) serves the
-- newest-first page instead of a sort of the whole table
SELECT is(api._order_by('{}', '-transaction_time', 't.', 'transactions'), 'ORDER BY t.transaction_time DESC, t.id DESC',
          'newest first: the order of transactions_time_idx');
SELECT is(api._order_by('{"sort": "-fraud_score"}', '-transaction_time', 't.', 'transactions'),
          'ORDER BY t.fraud_score DESC NULLS LAST, t.id DESC', 'a column that may be NULL keeps its NULLs last');

SELECT * FROM finish();
ROLLBACK;

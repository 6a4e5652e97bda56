-- pgTAP: the list functions of the api schema (migrations/deploy/api_list_consistency.sql): a range
-- whose to is before its from is 22023 naming to (as analytics.range_errors words it) instead of an
-- empty page; sort is exactly a column or -column (--amount was taken as -amount); api.list_users
-- pages like the other lists. The REST side: tests/api/lib/consistency.mjs.
BEGIN;
SELECT plan(14);

SELECT throws_ok($$SELECT api.list_transactions('{"from":"2026-11-02","to":"2026-11-01"}', 'viewer')$$, '22023',
                 'invalid transaction filter: to must not be before from', 'list_transactions: to before from is 22023');
SELECT throws_ok($$SELECT api.check_transaction_filters('{"from":"2026-11-02T00:00:00Z","to":"2026-11-01T23:59:59Z"}')$$, '22023',
                 NULL, 'the export''s filter check too');
SELECT throws_ok($$SELECT api.list_alerts('{"from":"2026-11-02","to":"2026-11-01"}', 'viewer')$$, '22023',
                 'invalid alert filter: to must not be before from', 'list_alerts: to before from is 22023');
SELECT is(api._check_range('{"from":"2026-11-02","to":"2026-11-01"}'),
          analytics.range_errors('2026-11-02', '2026-11-01'), 'the field error of analytics.range_errors');
SELECT is(api._check_range('{"from":"2026-11-01T10:00:00 02:00","to":"2026-11-01T08:00:00Z"}'), '[]',
          'the same instant (a + offset arrived as a space) is no error');
SELECT is(api._check_range('{"from":"2026-11-02","to":"2026-13-01"}'), '[]', 'an invalid time is _check_time''s error, not this one');
SELECT lives_ok($$SELECT api.list_transactions('{"from":"2026-11-01","to":"2026-11-01","limit":"1"}', 'viewer')$$,
                'from = to (an empty range) stays valid');

SELECT throws_ok($$SELECT api.list_transactions('{"sort":"--amount"}', 'viewer')$$, '22023',
                 NULL, 'sort=--amount is 22023 (before: sorted by -amount)');
SELECT is(api._check_page('{"sort":"-"}', ARRAY['id']) -> 0 ->> 'field', 'sort', 'sort=- names sort');
SELECT is(api._check_page('{"sort":"id-"}', ARRAY['id']) -> 0 ->> 'message', 'must be one of id (prefix - for descending)',
          'sort=id- names the allowed keys');
SELECT is(api._check_page('{"sort":"-id"}', ARRAY['id']) || api._check_page('{"sort":"id"}', ARRAY['id']), '[]',
          'id and -id stay valid');

SELECT is((api.list_users('{"limit":"1","offset":"0"}') ->> 'total')::bigint, (SELECT count(*) FROM users), 'list_users: total');
SELECT is(api.list_users('{}') - 'items' - 'total', '{"limit": 50, "offset": 0}', 'list_users: default limit 50, offset 0');
SELECT throws_ok($$SELECT api.list_users('{"limit":"1001"}')$$, '22023', NULL, 'list_users: limit above 1000 is 22023');

SELECT * FROM finish();
ROLLBACK;

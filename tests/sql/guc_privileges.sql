-- pgTAP: techmart.scoring and techmart.track_stock are superuser settings (PGC_SUSET): any session
-- (the API's role techmart_api, a BI login) could switch scoring off for its own inserts or sell
-- without moving stock. A loader role gets them with GRANT SET ON PARAMETER.
BEGIN;
SELECT plan(14);

SELECT is((SELECT context FROM pg_settings WHERE name = 'techmart.scoring'), 'superuser',
          'techmart.scoring is a superuser setting');
SELECT is((SELECT context FROM pg_settings WHERE name = 'techmart.track_stock'), 'superuser',
          'techmart.track_stock is a superuser setting');

SET LOCAL ROLE techmart_api;
SELECT throws_ok($$SET techmart.scoring = off$$, '42501', NULL, 'techmart_api cannot SET techmart.scoring = off');
SELECT throws_ok($$SET LOCAL techmart.track_stock = off$$, '42501', NULL, 'techmart_api cannot SET LOCAL techmart.track_stock = off');
SELECT throws_ok($$SELECT set_config('techmart.scoring', 'off', true)$$, '42501', NULL,
                 'nor through set_config()');
SELECT is(current_setting('techmart.scoring'), 'on', 'scoring stays on for techmart_api');
SELECT is(current_setting('techmart.track_stock'), 'on', 'stock tracking stays on for techmart_api');
RESET ROLE;

CREATE ROLE tm_test_guc_loader NOLOGIN;
CREATE ROLE tm_test_guc_other NOLOGIN;
SET LOCAL ROLE tm_test_guc_other;
SELECT throws_ok($$SET techmart.track_stock = off$$, '42501', NULL, 'an ordinary role cannot switch stock tracking off');
SELECT throws_ok($$ALTER ROLE tm_test_guc_other SET techmart.scoring = off$$, '42501', NULL,
                 'nor make it its default');
RESET ROLE;

GRANT SET ON PARAMETER techmart.track_stock, techmart.scoring TO tm_test_guc_loader;
SET LOCAL ROLE tm_test_guc_loader;
SELECT lives_ok($$SET LOCAL techmart.track_stock = off$$, 'a role granted SET ON PARAMETER may switch stock tracking off');
SELECT lives_ok($$SET LOCAL techmart.scoring = off$$, 'and scoring');
SELECT is(current_setting('techmart.track_stock') || current_setting('techmart.scoring'), 'offoff', 'both off for it');
RESET ROLE;
SET LOCAL techmart.scoring = on;
SET LOCAL techmart.track_stock = on;

-- the superuser (the seed load, ./techmart import, the benchmarks' loads) still may
SELECT lives_ok($$SET LOCAL techmart.track_stock = off$$, 'a superuser may switch stock tracking off');
SELECT lives_ok($$SET LOCAL techmart.scoring = off$$, 'a superuser may switch scoring off');

SELECT * FROM finish();
ROLLBACK;

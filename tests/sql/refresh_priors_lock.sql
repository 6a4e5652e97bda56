-- pgTAP: techmart.refresh_priors() serialises concurrent refreshes (extension 0.5,
-- sql/upgrades/0.4--0.5/30-refresh-priors-lock.sql). Before, two at once failed with 23505 on
-- amount_prior_pkey (each deleted the rows its snapshot saw and inserted the same keys; four
-- concurrent calls on the seed: three failed). The function now takes SHARE ROW EXCLUSIVE on both
-- prior tables first — a mode that conflicts with itself (another refresh waits) and not with the
-- ACCESS SHARE of readers and the scoring trigger. Checked here through pg_locks of this
-- transaction; the priors it writes are the same as before.
BEGIN;
SELECT plan(5);

SELECT ok((SELECT count(*) FROM techmart.refresh_priors()) > 0, 'refresh_priors computes the priors');
SELECT is((SELECT array_agg(l.relation::regclass::text ORDER BY l.relation::regclass::text) FROM pg_locks l
            WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.mode = 'ShareRowExclusiveLock' AND l.granted
              AND l.relation IN ('techmart.amount_prior'::regclass, 'techmart.hour_prior'::regclass)),
          ARRAY['techmart.amount_prior', 'techmart.hour_prior'],
          'it holds SHARE ROW EXCLUSIVE on amount_prior and hour_prior until commit');
SELECT ok(NOT EXISTS (SELECT FROM pg_locks l
                       WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation'
                         AND l.relation IN ('techmart.amount_prior'::regclass, 'techmart.hour_prior'::regclass)
                         AND l.mode IN ('ExclusiveLock', 'AccessExclusiveLock')),
          'and no mode that would block readers or the scoring trigger');
SELECT is((SELECT n FROM techmart.amount_prior WHERE category_id = 0), (SELECT count(*) FROM transactions),
          'the population prior counts every transaction');
SELECT is((SELECT round(sum(share)::numeric, 9) FROM techmart.hour_prior), 1.000000000, 'the hour shares sum to 1');

SELECT * FROM finish();
ROLLBACK;

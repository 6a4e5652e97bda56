-- pgTAP: techmart.risk_list survives pg_dump / pg_restore (extension 0.5,
-- sql/upgrades/0.4--0.5/10-risk-list-restore.sql). pg_restore runs CREATE EXTENSION, which inserts
-- the default row (payment_method crypto), then COPYs the dumped rows, the default among them: before
-- 0.5 that COPY failed with 23505 and the whole list was not restored. The COPY is replayed here
-- into the live table (same triggers as a restore's COPY), after removing the rows a restore would not
-- have, and the DBA's entries and notes must be there; a plain INSERT of an existing entry replaces
-- its note like rule_config and settings. The shell suite ext-upgrade does the real pg_dump/pg_restore.
BEGIN;
SELECT plan(7);

SELECT ok((SELECT string_to_array(extversion, '.')::int[] >= '{0,5}' FROM pg_extension WHERE extname = 'techmart'),
          'techmart 0.5 or later');
-- the DBA's list: the default plus two countries, the default's note changed
INSERT INTO techmart.risk_list (kind, value, note) VALUES ('country', 'KP', 'test: sanctions'), ('country', 'IR', NULL);
UPDATE techmart.risk_list SET note = 'test: edited default' WHERE kind = 'payment_method' AND value = 'crypto';
CREATE TEMP TABLE dumped AS SELECT * FROM techmart.risk_list;
-- the state after CREATE EXTENSION in the new database: the default row only
DELETE FROM techmart.risk_list WHERE (kind, value) <> ('payment_method', 'crypto');
UPDATE techmart.risk_list SET note = 'irreversible, no chargeback';
SELECT lives_ok($$INSERT INTO techmart.risk_list SELECT * FROM dumped$$,
                'the dumped rows load over the default row (a restore''s COPY)');
SELECT is((SELECT count(*) FROM techmart.risk_list), (SELECT count(*) FROM dumped), 'every dumped row is there');
SELECT is((SELECT note FROM techmart.risk_list WHERE kind = 'payment_method' AND value = 'crypto'), 'test: edited default',
          'the default row carries the dumped note');
SELECT ok(EXISTS (SELECT FROM techmart.risk_list WHERE kind = 'country' AND value = 'KP' AND note = 'test: sanctions'),
          'the DBA''s country is restored');
SELECT lives_ok($$INSERT INTO techmart.risk_list (kind, value, note) VALUES ('country', 'KP', 'test: replaced')$$,
                'an INSERT of an existing entry is no duplicate-key error');
SELECT is((SELECT note FROM techmart.risk_list WHERE kind = 'country' AND value = 'KP'), 'test: replaced',
          'it replaced the note');

SELECT * FROM finish();
ROLLBACK;

-- Revert techmart:rollup_rebuild_insert_c from pg
-- analytics.rollup_rebuild() as change rollup_rebuild_deltas defined it: its deploy script, run again (it
-- only replaces that function, its comment and its grant, in a transaction of its own), then the C
-- function this change declared.
\ir ../deploy/rollup_rebuild_deltas.sql

BEGIN;

DROP FUNCTION analytics.rollup_insert(smallint, integer[], bigint[], text[], timestamptz[], text[], numeric[], integer[],
                                      boolean[], text[], text[], text[], text[], text[], text[], bigint[]);

COMMIT;

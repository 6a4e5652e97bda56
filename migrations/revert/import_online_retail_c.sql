-- Revert techmart:import_online_retail_c from pg
-- import.online_retail() as change import_online_retail_faster defined it: its deploy script, run again
-- (it only replaces that function, its comment and its grant, in a transaction of its own), then the
-- two C functions this change added.
\ir ../deploy/import_online_retail_faster.sql

BEGIN;

DROP FUNCTION import.online_retail_stage(regclass, regclass, regclass, text[], text[], text[], text[]);
DROP FUNCTION import.online_retail_parse(regclass, text[], text[], text[], text[]);

COMMIT;

-- Revert techmart:import_online_retail_faster from pg
-- Restores import.online_retail() as import_online_retail_fast deployed it: that change's deploy script,
-- run again (it only replaces that function, its comment and its grant, in a transaction of its own).
\ir ../deploy/import_online_retail_fast.sql

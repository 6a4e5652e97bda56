-- techmart 0.8 -> 0.7 (sqitch revert of fraud_state_writes, which drops the triggers first): the
-- state no longer follows DELETE / UPDATE / TRUNCATE of transactions; no state check function
\echo Use "ALTER EXTENSION techmart UPDATE TO '0.7'" to load this file. \quit
DROP FUNCTION @extschema@.customer_state_check(bigint[], text);
DROP FUNCTION @extschema@.state_truncate_trigger();
DROP FUNCTION @extschema@.state_update_trigger();
DROP FUNCTION @extschema@.state_delete_trigger();
DROP FUNCTION @extschema@.refresh_state(bigint[], text);

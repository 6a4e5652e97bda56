-- techmart 0.8 -> 0.7 (sqitch revert of fraud_state_writes, which drops the triggers first): the
-- state no longer follows DELETE / UPDATE / TRUNCATE of transactions; no state check function
\echo Use "ALTER EXTENSION techmart UPDATE TO '0.7'" to load this file. \quit
DROP FUNCTION @extschema@.customer_state_check(bigint[], text);
DROP FUNCTION @extschema@.state_truncate_trigger();
DROP FUNCTION @extschema@.state_update_trigger();
DROP FUNCTION @extschema@.state_delete_trigger();
DROP FUNCTION @extschema@.refresh_state(bigint[], text);
-- backtest() as 0.7 had it (two replays also for the live configuration)
CREATE OR REPLACE FUNCTION @extschema@.backtest(config jsonb, from_time timestamptz, to_time timestamptz,
                                     top_k integer DEFAULT 10)
RETURNS TABLE (metric text, live float8, candidate float8, stored float8)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  l record;
  c record;
  a float8[];
  b float8[];
  names text[] := ARRAY['transactions', 'labelled', 'frauds', 'precision', 'recall', 'f1', 'roc_auc',
                        'average_precision', 'top_k_share', 'top_k_precision', 'suspicious'];
BEGIN
  IF from_time IS NULL OR to_time IS NULL OR NOT from_time < to_time THEN
    RAISE EXCEPTION 'backtest needs from_time < to_time' USING ERRCODE = '22023';
  END IF;
  IF top_k IS NULL OR top_k < 1 THEN
    RAISE EXCEPTION 'top_k must be >= 1' USING ERRCODE = '22023';
  END IF;
  l := @extschema@.config_resolve('{}');
  c := @extschema@.config_resolve(config);
  a := @extschema@._replay(l.rules, l.enabled, l.weights, l.thresholds, l.params, from_time, to_time, top_k,
                           l.bias, l.suspicious_threshold);
  b := @extschema@._replay(c.rules, c.enabled, c.weights, c.thresholds, c.params, from_time, to_time, top_k,
                           c.bias, c.suspicious_threshold);
  RETURN QUERY SELECT n.name, a[n.i::int], b[n.i::int], a[n.i::int + 11]
                 FROM unnest(names) WITH ORDINALITY n(name, i) ORDER BY n.i;
END $$;

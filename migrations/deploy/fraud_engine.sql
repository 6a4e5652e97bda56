-- Deploy techmart:fraud_engine to pg
-- requires: schema
--
-- The statement-level companion of the scoring trigger (techmart 0.2): the BEFORE ROW trigger
-- keeps the customers' fraud state in memory for the statement; this trigger writes it back
-- once per customer (with customers.risk_score and the fraud alerts). Without it the engine
-- falls back to writing per row. Also refreshes the priors from what is loaded.
BEGIN;

CREATE TRIGGER transactions_score_flush
  AFTER INSERT ON transactions
  FOR EACH STATEMENT EXECUTE FUNCTION techmart.score_transaction_flush();

COMMIT;

-- Deploy techmart:entity_version_per_statement to pg
-- requires: entity_risk
--
-- entity_recount() (row triggers) no longer bumps techmart.entity_version for each recounted
-- verdict: these statement triggers bump it once per statement that changed the counters
-- (techmart.entity_bump_version). Labelling 50,000 transactions in one statement took 342 s
-- before (each UPDATE of the one version row walked the row versions its own transaction had
-- created: quadratic); see bench/RESULTS.md 'Entity risk'.
BEGIN;

CREATE TRIGGER transaction_labels_entity_version
  AFTER INSERT OR UPDATE OR DELETE ON transaction_labels
  FOR EACH STATEMENT EXECUTE FUNCTION techmart.entity_bump_version();

CREATE TRIGGER transactions_entity_version
  AFTER UPDATE OF customer_id, product_id, device_id, ip_address, payment_fingerprint, country,
                  transaction_time ON transactions
  FOR EACH STATEMENT EXECUTE FUNCTION techmart.entity_bump_version();

COMMIT;

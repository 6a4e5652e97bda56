-- pgTAP: the entity counters (IP addresses, device ids, payment fingerprints, each also with the
-- customer's id) and the shadow scores' reasons are not readable by the BI role, the API role or
-- PUBLIC (migrations/deploy/entity_counts_private.sql); what BI needs stays readable. A verdict on a
-- transaction with an IP, a device and a fingerprint is written, then read as a login of
-- techmart_bi: permission denied (42501).
BEGIN;
SELECT plan(9);

SELECT techmart.label(t.id, 'fraud', 'entity_counts_private test', t.transaction_time + interval '1 minute')
  FROM transactions t
 WHERE t.ip_address IS NOT NULL AND t.device_id IS NOT NULL AND t.payment_fingerprint IS NOT NULL
 ORDER BY t.id LIMIT 1;
SELECT ok(EXISTS (SELECT FROM techmart.entity_counts WHERE kind = 'ip/customer'),
          'the verdict is counted per IP and customer (what must not leak)');

SELECT is((SELECT count(*) FROM pg_class c, aclexplode(c.relacl) a
            WHERE c.oid IN ('techmart.entity_counts'::regclass, 'techmart.shadow_scores'::regclass) AND a.grantee = 0),
          0::bigint, 'no PUBLIC privilege on entity_counts and shadow_scores');
SELECT ok(NOT has_table_privilege('techmart_bi', 'techmart.entity_counts', 'SELECT'), 'techmart_bi cannot read entity_counts');
SELECT ok(NOT has_table_privilege('techmart_bi', 'techmart.shadow_scores', 'SELECT'), 'techmart_bi cannot read shadow_scores');
SELECT ok(NOT has_table_privilege('techmart_api', 'techmart.entity_counts', 'SELECT'), 'techmart_api cannot read entity_counts');

CREATE ROLE tm_test_bi_login LOGIN IN ROLE techmart_bi;
SET LOCAL ROLE tm_test_bi_login;
SELECT throws_ok($$SELECT kind, entity FROM techmart.entity_counts WHERE kind = 'ip/customer'$$, '42501', NULL,
                 'a BI login reading the IP addresses of entity_counts: 42501');
SELECT throws_ok($$SELECT reasons FROM techmart.shadow_scores$$, '42501', NULL, 'a BI login reading shadow_scores: 42501');
-- what BI needs still answers
SELECT ok((SELECT count(*) FROM bi.transactions) > 0, 'a BI login still reads bi.transactions');
SELECT ok((SELECT count(*) FROM techmart.rule_config) > 0, 'and the rule configuration');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;

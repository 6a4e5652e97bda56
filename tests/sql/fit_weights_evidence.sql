-- pgTAP: techmart.fit_weights leaves out the rules without evidence in the labels (extension 0.6,
-- fragment 15-fit-weights-null). A rule whose feature is 0 in every labelled transaction (it never
-- contributed there) has nothing to learn from: before, the regularised fit set its weight to 0
-- and apply => true wrote it, switching a rare rule off after a fit on a few labels. Now it keeps
-- its weight (after = before) and the others are fitted as before. Rolled back.
BEGIN;
SELECT plan(7);

-- three flagged transactions confirmed as fraud, three unflagged as legitimate
SELECT count(techmart.label(id, 'fraud')) FROM (SELECT id FROM transactions WHERE is_suspicious ORDER BY id LIMIT 3) s;
SELECT count(techmart.label(id, 'legitimate')) FROM (SELECT id FROM transactions WHERE NOT is_suspicious ORDER BY id LIMIT 3) s;
CREATE TEMP TABLE evidence AS
SELECT c.rule, c.weight,
       EXISTS (SELECT 1 FROM transactions t, jsonb_array_elements(t.fraud_reasons) r
                WHERE t.label IN ('fraud', 'legitimate') AND r ->> 'rule' = c.rule
                  AND (r ->> 'observed')::float8 > (r ->> 'threshold')::float8) AS seen
  FROM techmart.rule_config c WHERE c.enabled;
SELECT ok((SELECT count(*) FILTER (WHERE seen) > 0 AND count(*) FILTER (WHERE NOT seen AND weight > 0) > 0 FROM evidence),
          'setup: some rules contribute to the labelled rows, some with a weight > 0 to none');

CREATE TEMP TABLE fit AS SELECT * FROM techmart.fit_weights(1.0);
SELECT is((SELECT count(*) FROM fit f JOIN evidence e ON f.item = 'weight:' || e.rule WHERE NOT e.seen AND f.after IS DISTINCT FROM e.weight),
          0::bigint, 'a rule without evidence keeps its weight (after = before; it was fitted to 0)');
SELECT is((SELECT count(*) FROM fit WHERE item LIKE 'weight:%'), (SELECT count(*) FROM evidence),
          'every enabled rule is still listed');
SELECT ok((SELECT bool_and(after >= 0) FROM fit f JOIN evidence e ON f.item = 'weight:' || e.rule WHERE e.seen),
          'the rules with evidence are fitted (>= 0)');

CREATE TEMP TABLE fit_applied AS SELECT * FROM techmart.fit_weights(1.0, apply => true);
SELECT is((SELECT count(*) FROM evidence e JOIN techmart.rule_config c USING (rule) WHERE NOT e.seen AND c.weight <> e.weight),
          0::bigint, 'apply => true leaves the weights of the rules without evidence');
SELECT is((SELECT count(*) FROM fit_applied f JOIN techmart.rule_config c ON f.item = 'weight:' || c.rule WHERE c.weight <> f.after),
          0::bigint, 'and rule_config holds every weight shown');

-- labels on transactions no rule contributed to: nothing to fit, said so
UPDATE transactions SET label = 'unknown', labelled_at = NULL WHERE label IN ('fraud', 'legitimate');
SELECT count(techmart.label(id, 'fraud')) FROM (SELECT id FROM transactions WHERE fraud_reasons = '[]' ORDER BY id LIMIT 1) s;
SELECT count(techmart.label(id, 'legitimate')) FROM (SELECT id FROM transactions WHERE fraud_reasons = '[]' ORDER BY id DESC LIMIT 1) s;
SELECT throws_ok($$SELECT * FROM techmart.fit_weights()$$, '22023',
                 'fit_weights: no enabled rule contributes to any labelled transaction, nothing to fit',
                 'labels without any contributing rule: 22023 (it fitted every weight to 0)');

SELECT * FROM finish();
ROLLBACK;

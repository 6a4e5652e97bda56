-- pgTAP: a DBA's bad row of techmart.rule_config is refused with the reason, and a parameter the
-- rule does not read is reported (extension 0.6, fragment 21-rule-config-diagnose; core
-- RuleRegistry::diagnose). Before: 'violates check constraint "rule_config_valid"' whatever the
-- value, and params || '{"windowz": 5}' (a typo of window_s) was accepted without a word and had no
-- effect. Rolled back.
BEGIN;
SELECT plan(14);

SELECT throws_ok($$UPDATE techmart.rule_config SET params = params || '{"max_kmh": 0}' WHERE rule = 'impossible_travel'$$,
                 '23514', 'invalid rule configuration: impossible_travel: max_kmh must be > 0',
                 'max_kmh 0: 23514 saying which parameter and why');
SELECT throws_ok($$UPDATE techmart.rule_config SET weight = -1 WHERE rule = 'velocity_1h'$$,
                 '23514', 'invalid rule configuration: weight of rule velocity_1h must be >= 0', 'a negative weight: the reason');
SELECT throws_ok($$UPDATE techmart.rule_config SET params = '{"spread": 2}' WHERE rule = 'rare_hour_customer'$$,
                 '23514', 'invalid rule configuration: rule rare_hour_customer: spread must be in [0, 1]', 'spread 2: the reason');
SELECT throws_ok($$UPDATE techmart.rule_config SET params = '{"window_s": "ten"}' WHERE rule = 'velocity_1h'$$,
                 '23514', 'invalid rule configuration: velocity_1h: every value of params must be a number', 'a non-numeric parameter');
SELECT throws_ok($$UPDATE techmart.rule_config SET params = params || '{"bogus": 1}' WHERE rule = 'entity_device'$$,
                 '23514', 'invalid rule configuration: entity_device: unknown parameter bogus', 'an entity rule''s unknown parameter is refused, as before');
CREATE FUNCTION pg_temp.err_field(q text, f text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE h text; c text;
BEGIN
  EXECUTE q;
  RETURN NULL;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS h = PG_EXCEPTION_HINT, c = CONSTRAINT_NAME;
  RETURN CASE f WHEN 'hint' THEN h ELSE c END;
END $$;
SELECT is(pg_temp.err_field($$UPDATE techmart.rule_config SET params = '{"max_kmh": -1}' WHERE rule = 'impossible_travel'$$, 'hint'),
          'Parameters of impossible_travel: cap, max_kmh, min_elapsed_s, min_km.', 'the hint lists the rule''s parameters');
SELECT is(pg_temp.err_field($$UPDATE techmart.rule_config SET params = '{"max_kmh": -1}' WHERE rule = 'impossible_travel'$$, 'constraint'),
          'rule_config_valid', 'the error names the constraint rule_config_valid');

-- a parameter the rule does not read: accepted (a row stored before 0.6 still restores), reported
SELECT is((SELECT (known, problem, reads, unread)::text FROM techmart.rule_config_diagnose('velocity_1h', 0.8, 6, '{"window_s": 600, "windowz": 5}')),
          (true, NULL::text, '{window_s}'::text[], '{windowz}'::text[])::text, 'rule_config_diagnose: windowz is not read, window_s is');
SELECT is((SELECT unread FROM techmart.rule_config_diagnose('rare_hour_shop', 0.5, 1.4, '{"spread": 1}')), '{spread}'::text[],
          'a rule without parameters reads none');
SELECT is((SELECT reads FROM techmart.rule_config_diagnose('amount_zscore', 1.2, 2.5, '{}')),
          '{min_prior_n,prior_mean,prior_sd,prior_weight,use_priors}'::text[], 'amount_zscore''s parameters');
SELECT lives_ok($$UPDATE techmart.rule_config SET params = params || '{"windowz": 5}' WHERE rule = 'velocity_1h'$$,
                'an unread parameter is accepted (with a WARNING naming it and the rule''s parameters)');
SELECT lives_ok($$UPDATE techmart.rule_config SET enabled = NOT enabled WHERE rule = 'velocity_1h'$$,
                'a row holding one can still be switched');
SELECT is((SELECT (known, problem, unread)::text FROM techmart.rule_config_diagnose('some_future_rule', 1, 0, '{"window_minutes": 10}')),
          (false, NULL::text, '{}'::text[])::text, 'a rule unknown to this version: its numbers only');
SELECT lives_ok($$INSERT INTO techmart.rule_config (rule, enabled, weight, threshold, params) VALUES ('some_future_rule', false, 1, 0, '{"window_minutes": 10}')$$,
                'and it is accepted, as before');

SELECT * FROM finish();
ROLLBACK;

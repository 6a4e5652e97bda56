-- ---------------------------------------------------------------------------------------
-- 20-comments: \d+ techmart.rule_config said what 0.1 did ("adds weight * (observed - threshold) to
-- the logit ... an UPDATE takes effect on the next row"); since 0.2 the score has a bias, a rule below
-- its threshold adds nothing, and a change applies to the next statement (docs/fraud.md).
COMMENT ON TABLE @extschema@.rule_config IS
  'Scoring rules: score = 100 * logistic(bias + sum of weight * max(0, observed - threshold)) over the enabled rules '
  '(bias in techmart.settings); a change applies from the next statement, in every session. '
  'INSERT of an existing rule replaces its values';

-- techmart 0.5 -> 0.4 (sqitch revert of risk_list_restore): an INSERT of an existing risk_list
-- entry is a duplicate key again.
\echo Use "ALTER EXTENSION techmart UPDATE TO '0.4'" to load this file. \quit
DROP TRIGGER risk_list_insert_replaces ON @extschema@.risk_list;
CREATE OR REPLACE FUNCTION @extschema@.config_insert_replaces() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF TG_TABLE_NAME = 'rule_config' THEN
    UPDATE @extschema@.rule_config
       SET enabled = NEW.enabled, weight = NEW.weight, threshold = NEW.threshold, params = NEW.params
     WHERE rule = NEW.rule;
  ELSE
    UPDATE @extschema@.settings
       SET value = NEW.value, description = coalesce(NEW.description, description)
     WHERE name = NEW.name;
  END IF;
  IF FOUND THEN
    RETURN NULL;  -- replaced the existing row
  END IF;
  RETURN NEW;
END
$$;
COMMENT ON FUNCTION @extschema@.config_insert_replaces() IS NULL;
COMMENT ON TABLE @extschema@.risk_list IS
  'High-risk countries (ISO alpha-2, upper case) and payment methods, read by the rules high_risk_country '
  'and high_risk_method at the start of each statement';
COMMENT ON TABLE @extschema@.rule_config IS
  'Scoring rules: each enabled rule adds weight * (observed - threshold) to the logit of the score '
  '(score = 100 * logistic(sum)); read on every insert, so an UPDATE takes effect on the next row. '
  'INSERT of an existing rule replaces its values';
CREATE OR REPLACE FUNCTION @extschema@.refresh_priors(source text DEFAULT 'public.transactions',
                                           products text DEFAULT 'public.products')
RETURNS TABLE (category_id bigint, n bigint, mean float8, sd float8)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  DELETE FROM @extschema@.amount_prior;
  EXECUTE format(
    'INSERT INTO @extschema@.amount_prior (category_id, n, mean, sd)
     SELECT coalesce(p.category_id, 0), count(*), avg(ln(1 + t.amount::float8)),
            greatest(coalesce(stddev_samp(ln(1 + t.amount::float8)), 0), 0.05)
       FROM %s t JOIN %s p ON p.id = t.product_id
      GROUP BY GROUPING SETS ((p.category_id), ())
     HAVING count(*) >= 2 AND (grouping(p.category_id) = 1 OR p.category_id IS NOT NULL)',
    source::regclass, products::regclass);
  DELETE FROM @extschema@.hour_prior;
  EXECUTE format(
    'INSERT INTO @extschema@.hour_prior (hour, share)
     SELECT h, coalesce(c, 0)::float8 / greatest(sum(coalesce(c, 0)) OVER (), 1)
       FROM generate_series(0, 23) h
       LEFT JOIN (SELECT @extschema@.local_hour(transaction_time,
                                                CASE WHEN latitude IS NOT NULL THEN longitude END) AS hr,
                         count(*) AS c
                    FROM %s GROUP BY 1) x ON x.hr = h', source::regclass);
  IF (SELECT sum(share) FROM @extschema@.hour_prior) = 0 THEN
    DELETE FROM @extschema@.hour_prior;
  END IF;
  RETURN QUERY SELECT a.category_id, a.n, a.mean, a.sd FROM @extschema@.amount_prior a ORDER BY 1;
END $$;

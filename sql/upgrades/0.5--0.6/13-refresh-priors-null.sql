-- ---------------------------------------------------------------------------------------
-- 13-refresh-priors-null: techmart.refresh_priors(NULL) failed with 42P01 'relation "t" does not
-- exist' (format('%s', NULL::regclass) is an empty string, so the alias became the table name) and
-- a NULL products table likewise named "p". A NULL table is now 22004 naming the argument. The
-- rest is the 0.5 body (30-refresh-priors-lock).

CREATE OR REPLACE FUNCTION @extschema@.refresh_priors(source text DEFAULT 'public.transactions',
                                           products text DEFAULT 'public.products')
RETURNS TABLE (category_id bigint, n bigint, mean float8, sd float8)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF source IS NULL OR products IS NULL THEN
    RAISE EXCEPTION 'refresh_priors: the % table must not be NULL', CASE WHEN source IS NULL THEN 'source' ELSE 'products' END
      USING ERRCODE = '22004', HINT = 'SELECT * FROM techmart.refresh_priors() reads public.transactions and public.products.';
  END IF;
  -- concurrent refreshes one after the other (each DELETE then sees the other's committed rows);
  -- scoring reads the priors under ACCESS SHARE, which this lock does not block
  LOCK TABLE @extschema@.amount_prior, @extschema@.hour_prior IN SHARE ROW EXCLUSIVE MODE;
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

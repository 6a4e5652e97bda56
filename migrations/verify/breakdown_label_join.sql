-- Verify techmart:breakdown_label_join
SELECT 1/(position('LEFT JOIN bi.categories lc' IN pg_get_functiondef('analytics.breakdown(text,timestamptz,timestamptz,integer)'::regprocedure)) > 0)::int;

-- techmart 0.7 -> 0.6 (sqitch revert of extension_dump_config): shadow_config, shadow_scores,
-- entity_counts and entity_counted are no longer dumped by pg_dump. There is no inverse of
-- pg_extension_config_dump (ALTER EXTENSION DROP + ADD would also rewrite the tables' initial
-- privileges): their entries are taken out of extconfig/extcondition, keeping the others in order.
\echo Use "ALTER EXTENSION techmart UPDATE TO '0.6'" to load this file. \quit
UPDATE pg_catalog.pg_extension e
   SET extconfig = k.cfg, extcondition = k.cond
  FROM (SELECT array_agg(x.rel ORDER BY x.n) AS cfg, array_agg(x.cond ORDER BY x.n) AS cond
          FROM pg_catalog.pg_extension e2,
               unnest(e2.extconfig, e2.extcondition) WITH ORDINALITY AS x(rel, cond, n)
         WHERE e2.extname = 'techmart'
           AND x.rel NOT IN ('@extschema@.shadow_config'::regclass, '@extschema@.shadow_scores'::regclass,
                             '@extschema@.entity_counts'::regclass, '@extschema@.entity_counted'::regclass)) k
 WHERE e.extname = 'techmart';

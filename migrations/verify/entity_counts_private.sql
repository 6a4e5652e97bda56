-- Verify techmart:entity_counts_private
-- no PUBLIC privilege on the entity counters and the shadow scores
SELECT 1/(count(*) = 0)::int FROM pg_class c, aclexplode(c.relacl) a
 WHERE c.oid IN ('techmart.entity_counts'::regclass, 'techmart.shadow_scores'::regclass) AND a.grantee = 0;

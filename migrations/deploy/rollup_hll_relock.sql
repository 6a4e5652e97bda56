-- Deploy techmart:rollup_hll_relock to pg
-- requires: rollup_apply_lines
--
-- The customer sketches of an UPDATE or DELETE (steps hll_lock / hll_recompute of the rollup
-- triggers) could keep a removed customer. The lock step locks the slot rows of the touched buckets
-- that ITS snapshot sees; the recomputation then clears those and writes the sketch recomputed from
-- transactions into this backend's slot. A slot row created by another backend's recomputation
-- (its own slot, new in the bucket) and committed after that snapshot was neither locked nor
-- cleared; its sketch had been recomputed before this statement's removal was committed, so it
-- still held the removed line's customer. Two deletes of lines of the same bucket in sessions whose
-- slots had no row there yet: a deletes line A (creates its slot row with the customers of the other
-- lines, B included), b deletes line B and waits for a's locks, a commits, b recomputes without B
-- but leaves a's row with B's customer: one customer too many (rollups-concurrency suite, a minute
-- row with 21 customers where transactions gave 20). tests/sql/rollup_hll_race.sql replays it.
--
-- Now the lock step is repeated (in a new statement: a new snapshot) until no slot row of the buckets
-- is left unlocked; the recomputation (the next statement) clears them all. Any recomputation whose
-- snapshot predates this statement's removal shares a locked slot row with it (the row of the removed
-- line's bucket committed before both), so it commits before this lock step ends and its slot row is
-- seen by the check. A second round happens only in that race.
BEGIN;

LOCK TABLE analytics.sales_hourly IN EXCLUSIVE MODE;

DO $$
DECLARE
  head text := E'    WITH b AS (%s),\n';
  tail text := E'      INTO l_dim, l_hour, l_key, l_slot FROM ins\n';
BEGIN
  IF NOT EXISTS (SELECT 1 FROM analytics.rollup_sql WHERE step = 'hll_lock'
                    AND position(head IN sql) > 0 AND right(sql, length(tail)) = tail
                    AND position('LOOP' IN sql) = 0) THEN
    RAISE EXCEPTION 'rollup_hll_relock: rollup template hll_lock is not the one of change rollups_hll'
      USING HINT = 'an earlier change edited the template: adapt migrations/deploy/rollup_hll_relock.sql';
  END IF;
  UPDATE analytics.rollup_sql
     SET sql = replace(left(sql, length(sql) - length(tail)), head, E'    LOOP\n' || head) || rtrim(tail, E'\n') || $t$;
    -- a slot row of these buckets committed after that statement's snapshot (another backend's
    -- recomputation into its new slot row) is locked too: again, with a new snapshot, until none
    EXIT WHEN (SELECT count(*) FROM analytics.sales_hourly s
                 JOIN (SELECT DISTINCT u.dim, u.hour, u.key FROM unnest(l_dim, l_hour, l_key) u(dim, hour, key)) u
                   ON s.dim = u.dim AND s.hour = u.hour AND s.key = u.key) = coalesce(cardinality(l_dim), 0);
    END LOOP
$t$
   WHERE step = 'hll_lock';
END $$;

-- the three trigger functions regenerated from the templates
\ir ../lib/rollup_triggers.sql

COMMIT;

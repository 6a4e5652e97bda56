-- pgTAP: hostile sketch bytes. Every SQL function that takes a stored sketch (bytea) refuses a
-- malformed one — truncated, wrong version/flags/encoding/precision, NaN/inf settings or range,
-- huge or overflowing counts, out-of-range registers, trailing bytes, random bytes — with SQLSTATE
-- 22023 and never another error (the backend survives: the test goes on after each).
BEGIN;
SELECT plan(16);

-- the functions, as SQL templates over a bytea $1
CREATE TEMP TABLE fn (name text, sql text);
INSERT INTO fn VALUES
  ('qsketch_quantile', 'SELECT techmart.qsketch_quantile($1, 0.5)'),
  ('qsketch_quantiles', 'SELECT techmart.qsketch_quantiles($1, ARRAY[0.1, 0.9])'),
  ('qsketch_cdf', 'SELECT techmart.qsketch_cdf($1, 1.0)'),
  ('qsketch_count', 'SELECT techmart.qsketch_count($1)'),
  ('qsketch_merge_agg', 'SELECT techmart.qsketch_merge_agg(s) FROM (VALUES ($1), ((SELECT techmart.qsketch_agg(1.0::float8)))) v(s)'),
  ('hll_cardinality', 'SELECT techmart.hll_cardinality($1)'),
  ('hll_union left', 'SELECT techmart.hll_union($1, techmart.hll_empty())'),
  ('hll_union right', 'SELECT techmart.hll_union(techmart.hll_empty(), $1)'),
  ('hll_add', 'SELECT techmart.hll_add($1, 42)'),
  ('hll_union_agg', 'SELECT techmart.hll_union_agg(s) FROM (VALUES ($1), (techmart.hll_empty())) v(s)');

-- for each input and function of a family: 'ok', '22023' or the other SQLSTATE raised
CREATE FUNCTION pg_temp.outcomes(p_family text, p_inputs bytea[])
RETURNS TABLE (name text, input integer, outcome text)
LANGUAGE plpgsql AS $$
DECLARE
  f record;
  i integer;
BEGIN
  FOR f IN SELECT * FROM fn WHERE fn.name LIKE p_family || '%' LOOP
    FOR i IN 1 .. coalesce(array_length(p_inputs, 1), 0) LOOP
      name := f.name; input := i;
      BEGIN
        EXECUTE f.sql USING p_inputs[i];
        outcome := 'ok';
      EXCEPTION WHEN OTHERS THEN
        outcome := SQLSTATE;
      END;
      RETURN NEXT;
    END LOOP;
  END LOOP;
END $$;

-- valid sketches to cut and corrupt
CREATE TEMP TABLE valid AS
SELECT (SELECT techmart.qsketch_agg(x::float8 / 3) FROM generate_series(-50, 200) x) AS q,
       (SELECT techmart.hll_add_agg(x) FROM generate_series(1, 300) x) AS hs,       -- sparse
       (SELECT techmart.hll_add_agg(x) FROM generate_series(1, 100000) x) AS hd;    -- dense

SELECT is((SELECT count(*)::int FROM pg_temp.outcomes('qsketch', ARRAY[(SELECT q FROM valid)]) WHERE outcome <> 'ok'), 0,
          'a valid quantile sketch is accepted by every qsketch function');
SELECT is((SELECT count(*)::int FROM pg_temp.outcomes('hll', ARRAY[(SELECT hs FROM valid), (SELECT hd FROM valid)])
            WHERE outcome <> 'ok'), 0,
          'valid sparse and dense hyperloglogs are accepted by every hll function');

-- qsketch layout: version u8, flags u8, alpha f64, max_buckets u32, zero count varint, min f64, max f64, stores
CREATE TEMP TABLE bad_q AS
SELECT array_agg(b) AS inputs FROM (
  SELECT substring(v.q FROM 1 FOR n) AS b FROM valid v, generate_series(0, length(v.q) - 1) n   -- every truncation
  UNION ALL SELECT set_byte(q, 0, 2) FROM valid                                                  -- version 2
  UNION ALL SELECT set_byte(q, 0, 0) FROM valid                                                  -- version 0
  UNION ALL SELECT set_byte(q, 1, 128) FROM valid                                                -- unknown flag
  UNION ALL SELECT overlay(q PLACING '\x000000000000f87f'::bytea FROM 3) FROM valid              -- alpha NaN
  UNION ALL SELECT overlay(q PLACING '\x000000000000f07f'::bytea FROM 3) FROM valid              -- alpha +inf
  UNION ALL SELECT overlay(q PLACING '\x0000000000000000'::bytea FROM 3) FROM valid              -- alpha 0
  UNION ALL SELECT overlay(q PLACING '\xffffffff'::bytea FROM 11) FROM valid                     -- max_buckets 2^32-1
  UNION ALL SELECT overlay(q PLACING '\x00000000'::bytea FROM 11) FROM valid                     -- max_buckets 0
  UNION ALL SELECT q || '\x00'::bytea FROM valid                                                 -- trailing byte
  -- a one-value sketch (1.5) rebuilt with corrupt fields
  UNION ALL SELECT '\x01007b14ae47e17a743f00080000' || c.z || c.mn || c.mx || c.st
    FROM (VALUES ('\x00'::bytea, '\x000000000000f83f'::bytea, '\x000000000000f83f'::bytea, '\x5201010000'::bytea)) d(z0, mn0, mx0, st0),
    LATERAL (VALUES
      ('\x00'::bytea, '\x000000000000f87f'::bytea, mx0, st0),                 -- min NaN
      (z0, mn0, '\x000000000000f07f'::bytea, st0),                             -- max +inf
      (z0, '\x000000000000f0ff'::bytea, mx0, st0),                             -- min -inf
      (z0, mx0, '\x0000000000000000'::bytea, st0),                             -- min > max
      (z0, mn0, mx0, '\x5202ffffffffffffffffff01ffffffffffffffffff010000'::bytea),  -- two buckets of 2^64-1: overflow
      ('\xffffffffffffffffff01'::bytea, mn0, mx0, st0),                       -- zero count 2^64-1 plus one: overflow
      (z0, mn0, mx0, '\x52ffffffff0f010000'::bytea),                           -- 2^32-1 buckets announced
      (z0, mn0, mx0, '\xfeffffffffffffffff01010000'::bytea),                   -- bucket offset far out of range
      (z0, mn0, mx0, '\x5201000000'::bytea),                                  -- a zero count bucket (non-canonical)
      (z0, mn0, mx0, '\x5201ffffffffffffffffffff010000'::bytea),               -- an 11-byte varint
      (z0, mn0, mx0, '\x00000000'::bytea),                                    -- count 0 with a range
      (z0, mn0, mx0, '\x5201010000'::bytea || '\x0000'::bytea)                 -- trailing bytes
    ) c(z, mn, mx, st)
) x;
SELECT is((SELECT count(*)::int FROM pg_temp.outcomes('qsketch', (SELECT inputs FROM bad_q)) WHERE outcome <> '22023'), 0,
          'malformed quantile sketches (every truncation, version, flags, NaN/inf/0 alpha, bucket limits, NaN/inf/'
          'inverted range, overflowing counts, huge bucket counts, offsets, varints, trailing bytes): 22023 from every function');
SELECT cmp_ok((SELECT array_length(inputs, 1) FROM bad_q), '>=', 300, 'at least 300 malformed quantile sketches were tried');
SELECT throws_ok($$SELECT techmart.qsketch_count('\x02'::bytea)$$, '22023', NULL, 'qsketch wrong version: 22023');
SELECT throws_like($$SELECT techmart.qsketch_quantile('\x01007b14ae47e17a743f00080000ffffffffffffffffff01000000000000f83f000000000000f83f5201ffffffffffffffffff010000'::bytea, 0.5)$$,
                   '%overflow%', 'qsketch counts summing past 2^64: a clear error');

-- hyperloglog layout: version u8, precision u8, encoding u8 (1 dense 2^p registers, 2 sparse (u16 index, u8 value)...)
CREATE TEMP TABLE bad_h AS
SELECT array_agg(b) AS inputs FROM (
  SELECT substring(v.hs FROM 1 FOR n) AS b FROM valid v, generate_series(0, length(v.hs) - 1) n
   WHERE n < 3 OR n % 3 <> 0                                                                    -- truncations (not at a triple)
  UNION ALL SELECT substring(hd FROM 1 FOR n) FROM valid, generate_series(0, 16386, 997) n      -- dense truncations
  UNION ALL SELECT set_byte(hs, 0, 2) FROM valid                                                -- version 2
  UNION ALL SELECT set_byte(hs, 1, p) FROM valid, unnest(ARRAY[0, 3, 17, 255]) p                -- precision out of range
  UNION ALL SELECT set_byte(hs, 1, 13) FROM valid                                               -- p 13: some sparse indices beyond 2^13
  UNION ALL SELECT set_byte(hs, 2, e) FROM valid, unnest(ARRAY[0, 3, 255]) e                    -- unknown encoding
  UNION ALL SELECT set_byte(hd, 3 + 77, 52) FROM valid                                          -- dense register > 64 - p + 1
  UNION ALL SELECT set_byte(hd, 3 + 77, 255) FROM valid
  UNION ALL SELECT hd || '\x00'::bytea FROM valid                                               -- dense with a trailing byte
  UNION ALL SELECT '\x010e02' || '\x050001'::bytea || '\x040001'::bytea                         -- sparse out of order
  UNION ALL SELECT '\x010e02' || '\x050001'::bytea || '\x050001'::bytea                         -- sparse duplicate index
  UNION ALL SELECT '\x010e02' || '\xffff01'::bytea                                              -- sparse index >= 2^14
  UNION ALL SELECT '\x010e02' || '\x050000'::bytea                                              -- sparse register 0
  UNION ALL SELECT '\x010e02' || '\x0500ff'::bytea                                              -- sparse register 255
  UNION ALL SELECT '\x010402' || '\x0f0001'::bytea || '\x100001'::bytea                         -- p 4: index 16 out of range
  UNION ALL SELECT '\x010e02' || decode(repeat('000001', 1), 'hex') || '\x00'::bytea            -- trailing partial triple
) x WHERE b IS NOT NULL;
SELECT is((SELECT count(*)::int FROM pg_temp.outcomes('hll', (SELECT inputs FROM bad_h))
            WHERE outcome <> '22023'), 0,
          'malformed hyperloglogs (truncations, version, precision, encoding, register values, dense length, sparse order/'
          'duplicates/range/zero, trailing bytes): 22023 from every function');
SELECT cmp_ok((SELECT array_length(inputs, 1) FROM bad_h), '>=', 60, 'at least 60 malformed hyperloglogs were tried');
SELECT throws_ok($$SELECT techmart.hll_cardinality('\x01'::bytea)$$, '22023', 'invalid hyperloglog: truncated', 'hll truncated: 22023 with the reason');
SELECT throws_ok($$SELECT techmart.hll_cardinality('\x020e02'::bytea)$$, '22023', 'invalid hyperloglog: unknown format version',
                 'hll wrong version: 22023 with the reason');
SELECT throws_ok($$SELECT techmart.hll_union(techmart.hll_empty(), '\x010c02'::bytea)$$, '22023', NULL,
                 'hll_union of two precisions: 22023');

-- random bytes, and random bytes behind a valid header: accepted or 22023, nothing else
SELECT setseed(0.42);
CREATE TEMP TABLE rnd AS
SELECT array_agg(decode(b, 'hex')) AS inputs FROM (
  SELECT string_agg(lpad(to_hex((random() * 255)::int), 2, '0'), '') AS b
    FROM generate_series(1, 150) i, generate_series(1, 1 + (i * 7) % 60) j GROUP BY i
) x;
CREATE TEMP TABLE rnd_hdr AS
SELECT array_agg(hdr || r) AS inputs
  FROM unnest((SELECT inputs FROM rnd)) r,
       unnest(ARRAY['\x01007b14ae47e17a743f00080000'::bytea, '\x010e02'::bytea, '\x010e01'::bytea, '\x010402'::bytea]) hdr;
SELECT is((SELECT count(*)::int FROM pg_temp.outcomes('', (SELECT inputs FROM rnd)) WHERE outcome NOT IN ('ok', '22023')), 0,
          '150 random byte strings: every sketch function accepts or raises 22023');
SELECT is((SELECT count(*)::int FROM pg_temp.outcomes('', (SELECT inputs FROM rnd_hdr)) WHERE outcome NOT IN ('ok', '22023')), 0,
          '600 random bodies behind valid sketch headers: accepted or 22023');
SELECT cmp_ok((SELECT count(*)::int FROM pg_temp.outcomes('', (SELECT inputs FROM rnd_hdr)) WHERE outcome = '22023'), '>', 0,
              'random bodies are refused (the test exercises the checks)');

-- NULL handling stays as documented
SELECT is(techmart.hll_union(NULL, techmart.hll_empty()), techmart.hll_empty(), 'hll_union: a NULL side yields the other');
SELECT is(techmart.qsketch_count(NULL), NULL, 'qsketch_count(NULL) is NULL (strict)');

SELECT * FROM finish();
ROLLBACK;

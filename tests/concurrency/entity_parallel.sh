#!/usr/bin/env bash
# Concurrency test of entity risk (docs/entity-risk.md): WRITERS pgbench clients insert
# transactions sharing 6 devices, 4 networks and 5 payment fingerprints (entity rules device,
# ip24 and payment enabled, so every insert reads the counters) while LABELLERS clients record
# verdicts at random past times through techmart.label(), insert verdicts directly into
# transaction_labels, retract them ('unknown') and move labelled transactions to another device.
# Afterwards techmart.entity_check() must be empty: the incrementally kept counters equal a
# recomputation from transaction_labels, and no client may have failed.
#
#   PGHOST=... PGPORT=... PGUSER=postgres PGDATABASE=techmart tests/concurrency/entity_parallel.sh
#
# Uses ids 980001..980020 (customers) and 980001 (product); removes its rows at the end and
# restores the entity rules' settings. Env: WRITERS (4), LABELLERS (4), SECONDS_PER_RUN (12).
# Prints TAP; exit 1 on failure.
WRITERS="${WRITERS:-4}"
LABELLERS="${LABELLERS:-4}"
DURATION="${SECONDS_PER_RUN:-12}"
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cleanup_sql="
  DELETE FROM alerts WHERE customer_id BETWEEN 980001 AND 980020;
  DELETE FROM transactions WHERE customer_id BETWEEN 980001 AND 980020;
  DELETE FROM techmart.customer_state WHERE customer_id BETWEEN 980001 AND 980020;
  DELETE FROM customers WHERE id BETWEEN 980001 AND 980020;
  DELETE FROM products WHERE id = 980001;"
"${PSQL[@]}" -c "$cleanup_sql"
saved="$("${PSQL[@]}" -tAc "SELECT string_agg(format('UPDATE techmart.entity_kind SET enabled = %L WHERE kind = %L;', enabled, kind), ' ') FROM techmart.entity_kind")"
"${PSQL[@]}" <<'SQL'
INSERT INTO products (id, sku, name, price, stock_quantity) VALUES (980001, 'ENTITY-CONC-1', 'entity concurrency', 25, 100000);
INSERT INTO customers (id, email, name, country, registration_date)
SELECT 980000 + i, 'entityconc' || i || '@example.com', 'Entity concurrency ' || i, 'FR', '2024-01-01' FROM generate_series(1, 20) i;
UPDATE techmart.entity_kind SET enabled = true WHERE kind IN ('device', 'ip24', 'payment');
-- some history to label from the start
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country, device_id, ip_address,
                          payment_fingerprint, transaction_time)
SELECT 980001 + g % 20, 980001, 1, 10 + g % 50, 'credit_card', 'FR', 'conc-dev-' || g % 6, ('10.9.' || g % 4 || '.' || g % 200)::inet,
       repeat(to_hex(10 + g % 5), 16), now() - make_interval(hours => g)
  FROM generate_series(1, 120) g;
SQL
cat > "$DIR/write.sql" <<'SQL'
\set c random(980001, 980020)
\set d random(0, 5)
\set n random(0, 3)
\set h random(1, 200)
\set p random(10, 14)
\set a random(100, 90000)
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country, device_id, ip_address,
                          payment_fingerprint, transaction_time)
VALUES (:c, 980001, 1, :a / 1000.0, 'credit_card', 'FR', 'conc-dev-' || :d, ('10.9.' || :n || '.' || :h)::inet,
        repeat(to_hex(:p), 16), clock_timestamp());
SQL
cat > "$DIR/label.sql" <<'SQL'
\set r random(0, 9)
\set back random(0, 259200)
SELECT techmart.label(id, (ARRAY['fraud', 'fraud', 'legitimate', 'legitimate', 'unknown'])[1 + :r % 5], 'conc',
                      least(now(), greatest(transaction_time, now() - make_interval(secs => :back))))
  FROM transactions WHERE customer_id BETWEEN 980001 AND 980020
 ORDER BY random() LIMIT 1;
SQL
cat > "$DIR/direct.sql" <<'SQL'
\set r random(0, 1)
INSERT INTO transaction_labels (transaction_id, label, labelled_at, note)
SELECT id, (ARRAY['fraud', 'legitimate'])[1 + :r], now() - interval '1 hour', 'conc direct'
  FROM transactions WHERE customer_id BETWEEN 980001 AND 980020 ORDER BY random() LIMIT 1;
SQL
cat > "$DIR/move.sql" <<'SQL'
\set d random(0, 5)
UPDATE transactions SET device_id = 'conc-dev-' || :d
 WHERE id = (SELECT transaction_id FROM techmart.entity_counted c JOIN transactions t ON t.id = c.transaction_id
              WHERE t.customer_id BETWEEN 980001 AND 980020 ORDER BY random() LIMIT 1);
SQL
echo "# $WRITERS writers and $LABELLERS labellers for ${DURATION}s"
pgbench -n -c "$WRITERS" -j "$WRITERS" -T "$DURATION" -f "$DIR/write.sql" >"$DIR/writers.out" 2>&1 &
wpid=$!
pgbench -n -c "$LABELLERS" -j "$LABELLERS" -T "$DURATION" -f "$DIR/label.sql@6" -f "$DIR/direct.sql@2" -f "$DIR/move.sql@1" \
  >"$DIR/labellers.out" 2>&1 || true
wait "$wpid" || true
grep -hE 'number of (transactions|failed)|tps' "$DIR/writers.out" "$DIR/labellers.out" | sed 's/^/# /' || true
if grep -qiE 'deadlock|ERROR|aborted|failed transactions: [1-9]' "$DIR/writers.out" "$DIR/labellers.out"; then
  grep -hiE 'deadlock|ERROR|aborted|failed transactions: [1-9]' "$DIR/writers.out" "$DIR/labellers.out" | head -5 | sed 's/^/# /'
  echo "not ok 1 - a writer or labeller failed"; fail=1
else
  echo "ok 1 - $WRITERS writers and $LABELLERS labellers, no error and no deadlock"
fi
labels="$("${PSQL[@]}" -tAc "SELECT count(*) FROM transaction_labels l JOIN transactions t ON t.id = l.transaction_id WHERE t.customer_id BETWEEN 980001 AND 980020")"
counted="$("${PSQL[@]}" -tAc "SELECT count(*) FROM techmart.entity_counted c JOIN transactions t ON t.id = c.transaction_id WHERE t.customer_id BETWEEN 980001 AND 980020")"
echo "# $labels verdicts recorded, $counted transactions counted"
if [ "$labels" -gt 20 ] && [ "$counted" -gt 0 ]; then echo "ok 2 - verdicts were recorded and counted"; else echo "not ok 2 - only $labels verdicts, $counted counted"; fail=1; fi
diffs="$("${PSQL[@]}" -tAc "SELECT count(*) FROM techmart.entity_check()")"
if [ "$diffs" = 0 ]; then echo "ok 3 - entity_counts equal the recomputation from transaction_labels"; else
  "${PSQL[@]}" -c "SELECT * FROM techmart.entity_check() LIMIT 5"; echo "not ok 3 - $diffs counter rows differ from the recomputation"; fail=1; fi
scored="$("${PSQL[@]}" -tAc "SELECT count(*) FROM transactions WHERE customer_id BETWEEN 980001 AND 980020 AND fraud_reasons @> '[{\"rule\": \"entity_device\"}]'")"
echo "# $scored inserts carried an entity_device reason"
"${PSQL[@]}" -c "$cleanup_sql"
after="$("${PSQL[@]}" -tAc "SELECT count(*) FROM techmart.entity_check()")"
if [ "$after" = 0 ]; then echo "ok 4 - deleting the transactions removed their counts exactly"; else echo "not ok 4 - $after rows differ after the cleanup"; fail=1; fi
"${PSQL[@]}" -c "$saved"
finish 4

#!/usr/bin/env bash
# How much of the scored single-row INSERT's durable-commit gap is its WAL volume alone.
#
# Three copies of transactions (same columns, indexes, constraints and foreign keys, as speed.sh):
#   bench_plain   no trigger;
#   bench_scored  the two scoring triggers;
#   bench_pad     no trigger, plus a text column whose constant default is incompressible hex
#                 (STORAGE EXTERNAL: stored inline, not compressed) sized so that a bench_pad INSERT
#                 writes as much WAL as a bench_scored one (calibrated on PAD_CAL single-row
#                 INSERTs into each): the scored row's WAL volume without any of its CPU;
#   msg           bench_plain's INSERT, in the same statement a non-transactional
#                 pg_logical_emit_message of as many bytes: the WAL volume without the bigger rows
#                 (the pad's heap grows faster: more new pages).
# 1. WAL per single-row INSERT by record type (pg_waldump --stats=record over PAD_CAL INSERTs of
#    each table; skipped when pg_waldump or the server's pg_wal is not readable from here).
# 2. ROUNDS rounds of SECONDS_PER_RUN-second pgbench runs (2 clients, the workload of speed.sh)
#    of each variant, the order rotating from round to round, synchronous_commit SYNC; per run the
#    tps and the WAL bytes per transaction. Printed: median tps of each, the medians of the
#    per-round ratios to plain, and the share of the scored gap that the pad and the message
#    reproduce.
# Needs a database with the migrations and seed data (PGHOST/PGPORT/PGDATABASE, a superuser) and
# nothing else writing to the cluster meanwhile (WAL is counted cluster-wide).
# Env: ROUNDS (12), SECONDS_PER_RUN (3), SYNC (on), PAD_CAL (200).
set -Eeuo pipefail
ROUNDS="${ROUNDS:-12}"; SECS="${SECONDS_PER_RUN:-3}"; SYNC="${SYNC:-on}"; PAD_CAL="${PAD_CAL:-200}"
PSQL=(psql -X -q -v ON_ERROR_STOP=1)
q() { "${PSQL[@]}" -tA -c "$1"; }
"${PSQL[@]}" <<'SQL'
DROP TABLE IF EXISTS bench_plain, bench_scored, bench_pad;
CREATE TABLE bench_plain (LIKE transactions INCLUDING ALL);
CREATE TABLE bench_scored (LIKE transactions INCLUDING ALL);
CREATE TABLE bench_pad (LIKE transactions INCLUDING ALL);
ALTER TABLE bench_plain ADD FOREIGN KEY (customer_id) REFERENCES customers (id), ADD FOREIGN KEY (product_id) REFERENCES products (id);
ALTER TABLE bench_scored ADD FOREIGN KEY (customer_id) REFERENCES customers (id), ADD FOREIGN KEY (product_id) REFERENCES products (id);
ALTER TABLE bench_pad ADD FOREIGN KEY (customer_id) REFERENCES customers (id), ADD FOREIGN KEY (product_id) REFERENCES products (id);
ALTER TABLE bench_pad ADD COLUMN pad text;
ALTER TABLE bench_pad ALTER COLUMN pad SET STORAGE EXTERNAL;
CREATE TRIGGER bench_score BEFORE INSERT ON bench_scored FOR EACH ROW EXECUTE FUNCTION techmart.score_transaction();
CREATE TRIGGER bench_score_flush AFTER INSERT ON bench_scored FOR EACH STATEMENT EXECUTE FUNCTION techmart.score_transaction_flush();
SQL
maxc=$(q "SELECT max(id) FROM customers"); maxp=$(q "SELECT max(id) FROM products")
for tbl in bench_plain bench_scored bench_pad; do
  printf '\\set c random(1, %s)\n\\set p random(1, %s)\nINSERT INTO %s (customer_id, product_id, quantity, unit_price, amount, payment_method) VALUES (:c, :p, 1, 19.99, 19.99, %s);\n' \
    "$maxc" "$maxp" "$tbl" "'paypal'" >"/tmp/bench_gap_$tbl.sql"
done
lsn() { q "SELECT pg_current_wal_insert_lsn()"; }
# N single-row INSERTs into TABLE, one transaction each, from one session (customers 1 + 37 i mod
# max, products 1 + i mod max); prints "start_lsn end_lsn"
inserts() {
  local a b
  a=$(lsn)
  awk -v n="$2" -v t="$1" -v mc="$maxc" -v mp="$maxp" 'BEGIN {for (i = 1; i <= n; i++)
    printf "INSERT INTO %s (customer_id, product_id, quantity, unit_price, amount, payment_method) VALUES (%d, %d, 1, 19.99, 19.99, '"'"'paypal'"'"');\n",
      t, 1 + (37 * i) % mc, 1 + i % mp}' | "${PSQL[@]}"
  b=$(lsn); echo "$a $b"
}
bytes() { q "SELECT '$2'::pg_lsn - '$1'::pg_lsn"; }
# calibrate the pad: the scored INSERT's extra WAL over the plain one (after a warm-up of each)
inserts bench_plain "$PAD_CAL" >/dev/null; inserts bench_scored "$PAD_CAL" >/dev/null
read -r p0 p1 < <(inserts bench_plain "$PAD_CAL"); read -r s0 s1 < <(inserts bench_scored "$PAD_CAL")
wp=$(( $(bytes "$p0" "$p1") / PAD_CAL )); ws=$(( $(bytes "$s0" "$s1") / PAD_CAL ))
padlen=$(( ws > wp ? (ws - wp) & ~1 : 2 ))
hex=$(head -c $((padlen / 2)) /dev/urandom | od -An -tx1 | tr -d ' \n')
q "ALTER TABLE bench_pad ALTER COLUMN pad SET DEFAULT '$hex'" >/dev/null
printf '\\set c random(1, %s)\n\\set p random(1, %s)\nINSERT INTO bench_plain (customer_id, product_id, quantity, unit_price, amount, payment_method) SELECT :c, :p, 1, 19.99, 19.99, %s FROM (SELECT pg_logical_emit_message(false, %s, %s)) m;\n' \
  "$maxc" "$maxp" "'paypal'" "'bench_gap'" "'${hex:0:$((padlen - 160 > 0 ? padlen - 160 : 0))}'" >/tmp/bench_gap_msg.sql
inserts bench_pad "$PAD_CAL" >/dev/null; read -r d0 d1 < <(inserts bench_pad "$PAD_CAL")
wd=$(( $(bytes "$d0" "$d1") / PAD_CAL ))
echo "WAL per single-row INSERT ($PAD_CAL each, one session): plain $wp B, scored $ws B, pad $wd B (pad column $padlen bytes)"
waldir="$(q "SHOW data_directory")/pg_wal"
if command -v pg_waldump >/dev/null && [ -r "$waldir" ]; then
  for t in "plain $p0 $p1" "scored $s0 $s1" "pad $d0 $d1"; do
    set -- $t
    echo "  $1: WAL records per INSERT by type (pg_waldump --stats=record), bytes per INSERT"
    pg_waldump -p "$waldir" -s "$2" -e "$3" --stats=record 2>/dev/null |
      awk -v n="$PAD_CAL" '{gsub(/\([^)]*\)/, "")} $1 ~ /\// && $2 > 0 {printf "    %-22s %6.2f records %7.1f B\n", $1, $2 / n, $5 / n}'
  done
else
  echo "  (pg_waldump or $waldir not readable here: records by type skipped)"
fi
# 2. durable runs
wal_now() { q "SELECT pg_current_wal_insert_lsn() - '0/0'"; }
run() {  # run TABLE: one pgbench run; prints "tps wal_bytes_per_tx"
  local w0 w1 out n
  w0=$(wal_now)
  out=$(PGOPTIONS="-c synchronous_commit=$SYNC" PGAPPNAME=bench_gap pgbench -n -c 2 -j 2 -T "$SECS" -f "/tmp/bench_gap_$1.sql" 2>&1) ||
    { echo "$out" >&2; return 1; }
  for _ in $(seq 1 50); do
    [ "$(q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'bench_gap'")" = 0 ] && break
    sleep 0.1
  done
  w1=$(wal_now)
  n=$(awk '/number of transactions actually processed/ {print $NF}' <<<"$out" | cut -d/ -f1)
  echo "$(awk '/^tps/ {print $3; exit}' <<<"$out") $(( (w1 - w0) / n ))"
}
"${PSQL[@]}" -c "VACUUM bench_plain, bench_scored, bench_pad, techmart.customer_state, customers" -c "CHECKPOINT"
for t in bench_plain bench_scored bench_pad msg; do run "$t" >/dev/null; done  # warm-up
f=/tmp/bench_gap_runs.txt; : >"$f"; l0=$(cut -d' ' -f1 /proc/loadavg)
tables=(bench_plain bench_pad bench_scored msg)
for r in $(seq 1 "$ROUNDS"); do
  "${PSQL[@]}" -c "VACUUM bench_plain, bench_scored, bench_pad, techmart.customer_state, customers"
  for k in 0 1 2 3; do t=${tables[$(( (k + r) % 4 ))]}; echo "$r $t $(run "$t")" >>"$f"; done
done
l1=$(cut -d' ' -f1 /proc/loadavg)
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
col() { awk -v t="$1" -v c="$2" '$2 == t {print $c}' "$f" | median; }
ratio() { awk -v a="$1" '{t[$1 " " $2] = $3} END {for (r = 1; (r " bench_plain") in t; r++) print t[r " " a] / t[r " bench_plain"]}' "$f" | median; }
rp=$(ratio bench_pad); rs=$(ratio bench_scored); rm=$(ratio msg)
printf 'pgbench single-row, 2 clients, synchronous_commit=%s, %d rounds of %ss (order rotating), load average %s -> %s\n' "$SYNC" "$ROUNDS" "$SECS" "$l0" "$l1"
printf '  median tps: plain %.0f, pad %.0f, msg %.0f, scored %.0f; WAL per transaction: plain %s B, pad %s B, msg %s B, scored %s B\n' \
  "$(col bench_plain 3)" "$(col bench_pad 3)" "$(col msg 3)" "$(col bench_scored 3)" \
  "$(col bench_plain 4)" "$(col bench_pad 4)" "$(col msg 4)" "$(col bench_scored 4)"
awk -v p="$rp" -v s="$rs" -v m="$rm" 'BEGIN {g = (s < 1) ? 1 - s : 0;
  printf "  median of the rounds, %% of plain: pad %.1f, msg %.1f, scored %.1f; of the scored gap the pad reproduces %.0f%%, the message %.0f%%\n",
  100 * p, 100 * m, 100 * s, g ? 100 * (1 - p) / g : 0, g ? 100 * (1 - m) / g : 0}'
echo "  runs (round table tps WAL-B/tx): $(tr '\n' ';' <"$f")"
"${PSQL[@]}" -c "DROP TABLE bench_plain, bench_scored, bench_pad"

#!/usr/bin/env bash
# Entity risk (docs/entity-risk.md): detection quality and insert speed, with and without it.
#
# Quality: generates a held-out set (SEED 7 is used by no test) with the compromised-device
# scenario and delayed verdicts (techmart-gen --compromised-devices N --verdicts), loads it into a
# fresh database DB (migrations, data/load.sql: every row scored in time order; the verdicts
# into transaction_labels, shifted like the transactions), then replays the last HOLDOUT_DAYS
# with techmart.backtest_scores() -- verdicts known at each moment only (labelled_at < t) --
# once with the live configuration ("without") and once with the entity rules device, ip and
# ip24 enabled ("with"). Per planted pattern (its rows against all legitimate rows of the
# period) and overall: ROC AUC, average precision and precision among the TOP_K highest scores
# of each day, computed by techmart.ranking_metrics() from the ground truth of the generator.
# Then the other patterns once more with the legitimate rows on a planted device left out (the
# generator makes 20 % of a compromised device's rows legitimate, indistinguishable from its fraud
# rows: any device evidence lifts them too), and (CONTROL=1, default) the whole quality part on the
# same seed without planted devices: what the entity rules do to the other patterns by themselves.
#
# Speed: bulk scored insert throughput (one INSERT ... SELECT of BULK_ROWS rows through the
# scoring trigger, rolled back) with the three entity rules on vs off, alternating, REPEAT runs
# each in the same run, median rows/s and their ratio.
#
#   PGHOST=... PGPORT=... PGUSER=postgres bench/entity/run.sh
# Env: SEED (7), TRANSACTIONS (30000), CUSTOMERS (4000), DEVICES (40), HOLDOUT_DAYS (20),
#      TOP_K (10), BULK_ROWS (20000), REPEAT (5), DB (techmart_entity_bench; the control DB_control), CONTROL (1), GEN.
set -Eeuo pipefail
# Transactions of a generated history or on random products: the stock upkeep (change stock_sales)
# is off, as for any load of past transactions (its own cost: bench/RESULTS.md "Sales move the stock").
export PGOPTIONS="${PGOPTIONS:-} -c techmart.track_stock=off"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SEED="${SEED:-7}"
DB="${DB:-techmart_entity_bench}"
GEN="${GEN:-$ROOT/build/data/generator/techmart-gen}"
HOLDOUT_DAYS="${HOLDOUT_DAYS:-20}"
TOP_K="${TOP_K:-10}"
BULK_ROWS="${BULK_ROWS:-20000}"
REPEAT="${REPEAT:-5}"
ON='{"entity": {"device": {"enabled": true}, "ip": {"enabled": true}, "ip24": {"enabled": true}}}'
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
load_set() {  # $1 = database, $2 = compromised devices planted
  mkdir -p "$dir/$1"
  "$GEN" --out "$dir/$1" --seed "$SEED" --transactions "${TRANSACTIONS:-30000}" --customers "${CUSTOMERS:-4000}" \
    --compromised-devices "$2" --verdicts
  cp "$dir/$1/transactions.csv" "$dir/$1/truth.csv"
  # data/load.sql records planted_fraud, whose CHECK knows the five classic patterns only
  sed -i 's/,compromised_device$/,/' "$dir/$1/transactions.csv"
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1"
  (cd "$ROOT/migrations" && sqitch --quiet deploy "db:pg:$1")
  (cd "$dir/$1" && psql -X -q -1 -v ON_ERROR_STOP=1 -d "$1" -f "$ROOT/data/load.sql")
  psql -X -q -v ON_ERROR_STOP=1 -d "$1" <<SQL
CREATE TABLE bench_truth (id bigint, customer_id bigint, product_id bigint, quantity integer, unit_price numeric,
  transaction_time timestamptz, status text, payment_method text, platform text, order_number text,
  country text, latitude float8, longitude float8, device_id text, ip_address inet,
  payment_fingerprint text, fraud_pattern text);
\copy bench_truth FROM '$dir/$1/truth.csv' WITH (FORMAT csv, HEADER)
CREATE TEMP TABLE gen_labels (transaction_id bigint, label text, labelled_at timestamptz);
\copy gen_labels FROM '$dir/$1/transaction_labels.csv' WITH (FORMAT csv, HEADER)
-- the same shift as data/load.sql applied to the transactions; verdicts not given yet are dropped
INSERT INTO transaction_labels (transaction_id, label, labelled_at, labelled_by, note)
SELECT l.transaction_id, l.label, l.labelled_at + (t.transaction_time - b.transaction_time), 'generator', 'bench'
  FROM gen_labels l JOIN transactions t ON t.id = l.transaction_id JOIN bench_truth b ON b.id = l.transaction_id
 WHERE l.labelled_at + (t.transaction_time - b.transaction_time) < now()
 ORDER BY 3;
ANALYZE;
SQL
  echo "# seed $SEED: $(psql -X -tA -d "$1" -c "SELECT count(*) || ' transactions, ' || (SELECT count(*) FROM bench_truth WHERE fraud_pattern <> '') || ' planted fraud (' || (SELECT count(*) FROM bench_truth WHERE fraud_pattern = 'compromised_device') || ' compromised_device), ' || (SELECT count(*) FROM transaction_labels) || ' verdicts' FROM transactions")"
  echo "# entity counters exact after the load: $(psql -X -tA -d "$1" -c "SELECT count(*) = 0 FROM techmart.entity_check()")"
}

quality() {  # $1 = database
  echo
  echo "## Quality: last $HOLDOUT_DAYS days replayed, verdicts known at each moment; without = live configuration, with = + entity_device, entity_ip, entity_ip24"
  psql -X -q -v ON_ERROR_STOP=1 -d "$1" -v on="$ON" -v holdout="$HOLDOUT_DAYS" -v k="$TOP_K" <<'SQL'
\pset footer off
SELECT max(transaction_time) + interval '1 second' AS to_t, max(transaction_time) - make_interval(days => :holdout) AS from_t
  FROM transactions \gset
CREATE TEMP TABLE scores AS
SELECT 'without' AS config, s.transaction_id, s.score FROM techmart.backtest_scores('{}', :'from_t', :'to_t') s
UNION ALL
SELECT 'with', s.transaction_id, s.score FROM techmart.backtest_scores(:'on', :'from_t', :'to_t') s;
CREATE TEMP TABLE rows AS
SELECT s.config, s.score, nullif(b.fraud_pattern, '') AS pattern,
       ((t.transaction_time AT TIME ZONE 'UTC')::date - date '2000-01-01') AS day,
       coalesce(b.device_id IN (SELECT device_id FROM bench_truth WHERE fraud_pattern = 'compromised_device'), false)
         AS planted_device
  FROM scores s JOIN transactions t ON t.id = s.transaction_id JOIN bench_truth b ON b.id = s.transaction_id;
CREATE TEMP TABLE groups AS
SELECT DISTINCT pattern AS grp FROM rows WHERE pattern IS NOT NULL UNION ALL SELECT 'overall';
CREATE TEMP TABLE figures AS
SELECT g.grp, r.config, m.metric, m.value
  FROM groups g
  CROSS JOIN LATERAL (SELECT config, array_agg(score) AS s, array_agg(pattern IS NOT NULL) AS y, array_agg(day) AS d
                        FROM rows WHERE pattern IS NULL OR pattern = g.grp OR g.grp = 'overall'
                       GROUP BY config) r
  CROSS JOIN LATERAL techmart.ranking_metrics(r.s, r.y, r.d, :k, 70) m;
SELECT grp AS pattern,
       max(value) FILTER (WHERE config = 'without' AND metric = 'frauds')::int AS positives,
       round(max(value) FILTER (WHERE config = 'without' AND metric = 'roc_auc')::numeric, 3) AS auc_without,
       round(max(value) FILTER (WHERE config = 'with' AND metric = 'roc_auc')::numeric, 3) AS auc_with,
       round(max(value) FILTER (WHERE config = 'without' AND metric = 'average_precision')::numeric, 4) AS ap_without,
       round(max(value) FILTER (WHERE config = 'with' AND metric = 'average_precision')::numeric, 4) AS ap_with,
       round((max(value) FILTER (WHERE config = 'with' AND metric = 'average_precision')
              / nullif(max(value) FILTER (WHERE config = 'without' AND metric = 'average_precision'), 0))::numeric, 6) AS ap_ratio,
       round(max(value) FILTER (WHERE config = 'without' AND metric = 'top_k_precision')::numeric, 3) AS topk_prec_without,
       round(max(value) FILTER (WHERE config = 'with' AND metric = 'top_k_precision')::numeric, 3) AS topk_prec_with
  FROM figures GROUP BY grp ORDER BY grp = 'overall', grp;
SELECT EXISTS (SELECT FROM rows WHERE planted_device) AS planted \gset
\if :planted
-- where a fall of the other patterns comes from: the same figures with the legitimate rows on a
-- planted compromised device (the generator's 20 %, indistinguishable from its fraud rows) left out
CREATE TEMP TABLE figures_off AS
SELECT g.grp, r.config, m.metric, m.value
  FROM groups g
  CROSS JOIN LATERAL (SELECT config, array_agg(score) AS s, array_agg(pattern IS NOT NULL) AS y, array_agg(day) AS d
                        FROM rows WHERE (pattern IS NULL AND NOT planted_device) OR pattern = g.grp
                       GROUP BY config) r
  CROSS JOIN LATERAL techmart.ranking_metrics(r.s, r.y, r.d, :k, 70) m
 WHERE g.grp NOT IN ('overall', 'compromised_device');
SELECT grp AS "pattern (legitimate rows on planted devices left out)",
       round(max(value) FILTER (WHERE config = 'without' AND metric = 'average_precision')::numeric, 4) AS ap_without,
       round(max(value) FILTER (WHERE config = 'with' AND metric = 'average_precision')::numeric, 4) AS ap_with,
       round((max(value) FILTER (WHERE config = 'with' AND metric = 'average_precision')
              / nullif(max(value) FILTER (WHERE config = 'without' AND metric = 'average_precision'), 0))::numeric, 6) AS ap_ratio
  FROM figures_off GROUP BY grp ORDER BY grp;
\endif
SQL
}

load_set "$DB" "${DEVICES:-40}"
quality "$DB"

echo
echo "## Speed: one INSERT ... SELECT of $BULK_ROWS rows through the scoring trigger (rolled back), $REPEAT runs each, alternating"
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" -v n="$BULK_ROWS" <<'SQL'
CREATE TABLE bench_bulk AS
SELECT t.customer_id, t.product_id, t.quantity, t.unit_price, t.payment_method, t.country, t.latitude, t.longitude,
     t.device_id, t.ip_address, t.payment_fingerprint,
     now() - interval '1 day' + (row_number() OVER (ORDER BY t.transaction_time, t.id)) * interval '1 second' AS transaction_time
FROM (SELECT * FROM transactions ORDER BY transaction_time DESC LIMIT :n) t;
SQL
kinds="('device', 'ip', 'ip24')"
run_once() {  # $1 = on|off -> seconds
  local flag=false
  [ "$1" = on ] && flag=true
  psql -X -q -d "$DB" -c "UPDATE techmart.entity_kind SET enabled = $flag WHERE kind IN $kinds" >/dev/null
  local t0 t1
  t0="$(date +%s.%N)"
  psql -X -q -v ON_ERROR_STOP=1 -d "$DB" >/dev/null <<'SQL'
BEGIN;
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country, latitude, longitude,
                        device_id, ip_address, payment_fingerprint, transaction_time)
SELECT * FROM bench_bulk;
ROLLBACK;
SQL
  t1="$(date +%s.%N)"
  echo "$t1 - $t0" | bc -l
}
run_once off >/dev/null  # warm-up
offs=() ons=()
for _ in $(seq "$REPEAT"); do
  offs+=("$(run_once off)")
  ons+=("$(run_once on)")
done
psql -X -q -d "$DB" -c "UPDATE techmart.entity_kind SET enabled = false WHERE kind IN $kinds" >/dev/null
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2)}'; }
m_off="$(median "${offs[@]}")"
m_on="$(median "${ons[@]}")"
printf '| entity risk | median seconds | rows/s |\n|---|---|---|\n'
printf '| off | %.3f | %.0f |\n' "$m_off" "$(echo "$BULK_ROWS / $m_off" | bc -l)"
printf '| on (device, ip, ip24) | %.3f | %.0f |\n' "$m_on" "$(echo "$BULK_ROWS / $m_on" | bc -l)"
printf 'throughput with / without: %.3f (runs off: %s; on: %s)\n' "$(echo "$m_off / $m_on" | bc -l)" "${offs[*]}" "${ons[*]}"

if [ "${CONTROL:-1}" = 1 ]; then
  # the control: the same seed without the planted devices (the generator draws them from a stream of
  # their own: every other row, fraud and verdict is the same), so any change of the other patterns'
  # figures there is the entity rules' own doing, not the planted devices' legitimate rows
  echo
  echo "## Control: seed $SEED without compromised devices"
  load_set "${DB}_control" 0
  quality "${DB}_control"
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS ${DB}_control"
fi

#!/usr/bin/env bash
# The cost of a viewer's masking (changes api_viewer_privacy, api_viewer_privacy_lists): one page of
# LIMIT transactions as api.list_transactions(p, 'viewer') against the same page for 'admin', CALLS
# calls each, ROUNDS rounds alternating; prints each round's ratio viewer/admin and the median.
# Against the database of the PG* environment (migrated and seeded), e.g.
#   PGHOST=... PGPORT=... PGUSER=postgres PGDATABASE=techmart flock -o /tmp/techmart-bench.lock bench/api/viewer_mask.sh
set -euo pipefail
LIMIT="${LIMIT:-1000}" CALLS="${CALLS:-20}" ROUNDS="${ROUNDS:-7}"
one() {  # one ROLE -> ms for CALLS pages (offset varies so no call is folded into another)
  psql -XAtq -v ON_ERROR_STOP=1 <<SQL | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p'
\timing on
SELECT sum(length(api.list_transactions(jsonb_build_object('limit', '$LIMIT', 'offset', (g % 3)::text), '$1')::text))
  FROM generate_series(1, $CALLS) g;
SQL
}
ratios=()
for r in $(seq 1 "$ROUNDS"); do
  a="$(one admin)" v="$(one viewer)"
  ratio="$(awk -v a="$a" -v v="$v" 'BEGIN { printf "%.3f", v / a }')"
  ratios+=("$ratio")
  echo "round $r: admin ${a} ms, viewer ${v} ms, viewer/admin ${ratio}"
done
echo "median viewer/admin (page of $LIMIT): $(printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"

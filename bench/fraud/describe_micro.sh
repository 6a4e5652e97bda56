#!/usr/bin/env bash
# Cost of the fraud rules' detail texts (Rule::describe, which builds the "detail" of each reason)
# without a database: bench/fraud/describe_micro.cpp compiled (-O2, as RelWithDebInfo) with the
# core of each tree given, each rule kind's describe() on a typical feature of speed.sh's rows.
# Then one whole row: Scorer::score of the default rules on a row with 5 reasons.
# Per kind: ns per call (ITER calls; moves with the load) and instructions per call counted by
# valgrind callgrind as (Ir of 2*CG_ITER calls - Ir of CG_ITER calls) / CG_ITER (does not).
#   bench/fraud/describe_micro.sh [TREE ...]   TREE: a git revision of this repository or "work"
#                                              (the work tree); default: work
# Env: ITER (200000), CG_ITER (2000). Needs valgrind for the instruction counts (else skipped).
set -Eeuo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ITER="${ITER:-200000}"; CG_ITER="${CG_ITER:-2000}"
T="$(mktemp -d /tmp/techmart-describe.XXXXXX)"
trap 'rm -rf "$T"' EXIT
[ $# -gt 0 ] || set -- work
echo "# $(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), ITER=$ITER CG_ITER=$CG_ITER"
for tree in "$@"; do
  src="$ROOT"
  if [ "$tree" != work ]; then
    src="$T/src-$tree"; mkdir -p "$src"
    git -C "$ROOT" archive "$tree" extension/core | tar -x -C "$src"
  fi
  exe="$T/micro-$tree"
  c++ -O2 -g -std=c++17 -I"$src/extension/core/include" -DTECHMART_SQL_VERSION='"bench"' \
    "$src"/extension/core/src/*.cpp "$ROOT/bench/fraud/describe_micro.cpp" -o "$exe"
  echo "## $tree ($( [ "$tree" = work ] && echo "work tree of $(git -C "$ROOT" rev-parse --short HEAD)" || git -C "$ROOT" rev-parse --short "$tree"))"
  "$exe" "$ITER" >"$T/ns.txt"
  kinds=$(wc -l <"$T/ns.txt")
  for k in $(seq 0 $((kinds - 1))); do
    ir="-"
    if command -v valgrind >/dev/null; then
      a=$(valgrind --tool=callgrind --callgrind-out-file="$T/cg" "$exe" "$CG_ITER" "$k" 2>&1 >/dev/null | awk '/refs:/ {gsub(",", "", $NF); print $NF}')
      b=$(valgrind --tool=callgrind --callgrind-out-file="$T/cg" "$exe" $((2 * CG_ITER)) "$k" 2>&1 >/dev/null | awk '/refs:/ {gsub(",", "", $NF); print $NF}')
      ir=$(( (b - a) / CG_ITER ))
    fi
    line=$(sed -n "$((k + 1))p" "$T/ns.txt")
    printf '%-20s %6s Ir %s\n' "$(echo "$line" | awk '{print $1}')" "$ir" "$(echo "$line" | cut -c22-)"
  done
  # a whole row: Scorer::score with the default rules, 5 reasons (describe_micro.cpp)
  ns=$("$exe" "$((ITER / 10))" score 2>&1)
  ir="-"
  if command -v valgrind >/dev/null; then
    a=$(valgrind --tool=callgrind --callgrind-out-file="$T/cg" "$exe" "$((CG_ITER / 10))" score 2>&1 >/dev/null | awk '/refs:/ {gsub(",", "", $NF); print $NF}')
    b=$(valgrind --tool=callgrind --callgrind-out-file="$T/cg" "$exe" $((2 * CG_ITER / 10)) score 2>&1 >/dev/null | awk '/refs:/ {gsub(",", "", $NF); print $NF}')
    ir=$(( (b - a) / (CG_ITER / 10) ))
  fi
  printf '%-20s %6s Ir %s\n' "Scorer::score" "$ir" "$ns"
done

#!/usr/bin/env bash
# Micro-benchmarks of the C++ core (bench/README.md, "Core micro-benchmarks (bench/core/run.sh)").
#   bench/core/run.sh [BINARY] [GOOGLE-BENCHMARK-FLAGS...]
# BINARY: a built techmart-core-bench; default: build it (target techmart-core-bench) in
# $TECHMART_BUILD_DIR (default build/; configured RelWithDebInfo first when it is not).
# Runs it under flock -o /tmp/techmart-bench.lock with --benchmark_repetitions=$REPETITIONS (5)
# --benchmark_report_aggregates_only=true --benchmark_enable_random_interleaving=true (the
# repetitions of all the benchmarks in random order: a slow patch of a shared machine spreads over
# them instead of falling on one, which keeps the ratios steadier), then prints, from the same run, a Markdown table of the
# medians (CPU time per operation, the coefficient of variation of the repetitions, items/s) and
# the ratios of the scoring benchmarks to the baselines measured in the same binary. Extra flags go
# to the binary (e.g. --benchmark_filter=BM_Score). The JSON of the run is kept in $OUT (default: a
# temporary file, removed).
set -Eeuo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
REPETITIONS="${REPETITIONS:-5}"

BIN=""
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
  BIN="$1"
  shift
fi
if [ -z "$BIN" ]; then
  BUILD_DIR="$(realpath -m -- "${TECHMART_BUILD_DIR:-$ROOT/build}")"
  if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
    cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  fi
  cmake --build "$BUILD_DIR" -j2 --target techmart-core-bench >/dev/null \
    || { echo "build of techmart-core-bench failed (TECHMART_BUILD_BENCH off, or libbenchmark-dev missing?)" >&2; exit 1; }
  BIN="$BUILD_DIR/bench/core/techmart-core-bench"
fi
[ -x "$BIN" ] || { echo "not an executable: $BIN" >&2; exit 1; }

# BM_OnlineRetailParseFile runs when TECHMART_ONLINE_RETAIL names a file: default, the shared three
# months beside the checkout (or beside the main checkout of a worktree), as tests/import finds them.
if [ -z "${TECHMART_ONLINE_RETAIL:-}" ]; then
  f="$ROOT/../shared/data/online-retail-2010-12_2011-02.csv"
  if [ ! -r "$f" ]; then
    common="$(git -C "$ROOT" rev-parse --path-format=absolute --git-common-dir 2>/dev/null || true)"
    [ -n "$common" ] && f="$(dirname "$common")/../shared/data/online-retail-2010-12_2011-02.csv"
  fi
  [ -r "$f" ] && export TECHMART_ONLINE_RETAIL="$(readlink -f "$f")"
fi

JSON="${OUT:-}"
if [ -z "$JSON" ]; then
  JSON="$(mktemp /tmp/techmart-core-bench.XXXXXX.json)"
  trap 'rm -f "$JSON"' EXIT
fi

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -n), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# TECHMART_ONLINE_RETAIL=${TECHMART_ONLINE_RETAIL:-(unset: no BM_OnlineRetailParseFile)}"
echo "# commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo ' (modified)'), binary $BIN"
flock -o /tmp/techmart-bench.lock "$BIN" --benchmark_repetitions="$REPETITIONS" \
  --benchmark_report_aggregates_only=true --benchmark_enable_random_interleaving=true \
  --benchmark_out="$JSON" --benchmark_out_format=json "$@"

# The medians and cv of every benchmark, then the ratios (CPU time; every benchmark is one thread).
awk -v reps="$REPETITIONS" '
  function ns(v, unit) { return unit == "us" ? v * 1e3 : unit == "ms" ? v * 1e6 : unit == "s" ? v * 1e9 : v }
  /"family_index":/ { gsub(/,/, "", $2); fam = $2 + 0 }
  /"per_family_instance_index":/ { gsub(/,/, "", $2); inst = $2 + 0 }
  /"run_name":/ { gsub(/[",]/, "", $2); run = $2 }
  /"aggregate_name":/ { gsub(/[",]/, "", $2); agg = $2 }
  /"cpu_time":/ { gsub(/,/, "", $2); cpu = $2 + 0 }
  /"time_unit":/ {
    gsub(/[",]/, "", $2)
    if (agg == "median") { med[run] = ns(cpu, $2); order[++n] = run; pos[run] = fam * 1000 + inst }
    if (agg == "cv") cv[run] = cpu
  }
  /"items_per_second":/ { gsub(/,/, "", $2); if (agg == "median") ips[run] = $2 + 0 }
  /"error_message":/ { sub(/^ *"error_message": */, ""); if (!(run in err)) ++errors; err[run] = $0 }
  function t(x) { return x >= 1e6 ? sprintf("%.2f ms", x / 1e6) : x >= 1e3 ? sprintf("%.2f us", x / 1e3) : sprintf("%.1f ns", x) }
  function rate(x) { return x >= 1e6 ? sprintf("%.2f M/s", x / 1e6) : sprintf("%.0f k/s", x / 1e3) }
  function ratio(a, b) { return (a in med) && (b in med) && med[b] > 0 ? sprintf("%.1f", med[a] / med[b]) : "-" }
  END {
    for (i = 2; i <= n; ++i) {  # in the order of the source (the runs were interleaved)
      r = order[i]
      for (j = i - 1; j >= 1 && pos[order[j]] > pos[r]; --j) order[j + 1] = order[j]
      order[j + 1] = r
    }
    printf "\nMedians of %d repetitions (CPU time per iteration; cv = stddev/mean of the repetitions)\n\n", reps
    print "| benchmark | per iteration | cv | items/s |"
    print "|---|---:|---:|---:|"
    for (i = 1; i <= n; ++i) {
      r = order[i]
      printf "| %s | %s | %.1f %% | %s |\n", r, t(med[r]), 100 * cv[r], (r in ips) ? rate(ips[r]) : "-"
    }
    for (r in err) printf "ERROR %s: %s\n", r, err[r]
    print "\nRatios in this run (medians; baselines: compact_decode of the same state, a memcpy of the"
    print "CustomerState struct, a memcpy of the full history row'"'"'s compact bytes)\n"
    print "| history | score | / decode | / memcpy state | / memcpy row | trigger row | / decode | fold (copy + fold) | / memcpy state |"
    print "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    split("little full", hs, " ")
    for (k = 1; k <= 2; ++k) {
      h = hs[k]; s = "BM_Score/" h; d = "BM_CompactDecode/" h; tr = "BM_TriggerRow/" h; f = "BM_Fold/" h
      printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", h, (s in med) ? t(med[s]) : "-",
        ratio(s, d), ratio(s, "BM_BaselineMemcpyState"), ratio(s, "BM_BaselineMemcpyRow/full"),
        (tr in med) ? t(med[tr]) : "-", ratio(tr, d), (f in med) ? t(med[f]) : "-",
        ratio(f, "BM_BaselineMemcpyState")
    }
    exit errors > 0
  }' "$JSON"

#!/usr/bin/env bash
# Build the libFuzzer targets (clang, -fsanitize=fuzzer,address,undefined) and run each for
# SECONDS (default 20) on its corpus (fuzz/corpus/<target>, seeds committed; new inputs found are
# kept in build-fuzz/corpus/<target>, not committed). Exit 1 on the first crash; the crashing
# input is left in build-fuzz/crashes/<target>/ — turn it into a regression test
# (fuzz/regressions/<target>/, replayed by this script before fuzzing).
#   fuzz/run.sh [SECONDS] [TARGET...]        ./techmart fuzz 300 runs it for 5 minutes per target
set -Eeuo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SECONDS_PER_TARGET="${1:-20}"; shift || true
# libFuzzer reads -max_total_time=0 (or 5m, abc: 0) as "no limit": refuse anything but a count
[[ "$SECONDS_PER_TARGET" =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [SECONDS [TARGET...]] (SECONDS a whole number > 0)" >&2; exit 2; }
B="${TECHMART_FUZZ_BUILD_DIR:-$ROOT/build-fuzz}"
command -v clang++ >/dev/null || { echo "clang++ not found (apt-get install clang)"; exit 1; }

cmake -S "$ROOT" -B "$B" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
      -DTECHMART_FUZZ=ON -DTECHMART_BUILD_EXTENSION=OFF -DBUILD_TESTING=OFF >"$B.configure.log" 2>&1 \
  || { tail -30 "$B.configure.log"; exit 1; }
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in "$ROOT"/fuzz/*_fuzz.cpp; do n="$(basename "$f" _fuzz.cpp)"; targets+=("$n"); done
fi
cmake --build "$B" -j"$(nproc)" --target "${targets[@]/#/fuzz_}" >"$B.build.log" 2>&1 \
  || { grep -E 'error' "$B.build.log" | head -30; exit 1; }

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
total_runs=0 failed=0
for t in "${targets[@]}"; do
  bin="$B/fuzz/fuzz_$t"
  seeds="$ROOT/fuzz/corpus/$t"; work="$B/corpus/$t"; crashes="$B/crashes/$t"; regress="$ROOT/fuzz/regressions/$t"
  mkdir -p "$seeds" "$work" "$crashes"
  # 1. the regression inputs (past crashes) must pass
  if [ -d "$regress" ] && [ -n "$(ls -A "$regress" 2>/dev/null)" ]; then
    if ! "$bin" -runs=0 "$regress"/* >"$B/$t.regress.log" 2>&1; then
      echo "not ok - $t: a regression input fails again (log: $B/$t.regress.log)"; failed=1; continue
    fi
  fi
  # 2. fuzz for the time budget, starting from the committed seeds and earlier finds
  maxlen=8192; [ "$t" = sketch ] && maxlen=20000  # a dense HyperLogLog is 16,387 bytes
  if "$bin" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 -max_len="$maxlen" \
       -print_final_stats=1 -artifact_prefix="$crashes/" "$work" "$seeds" >"$B/$t.log" 2>&1; then
    runs="$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$B/$t.log" | grep -Eo '[0-9]+$' || echo 0)"
    cov="$(grep -Eo 'cov: [0-9]+' "$B/$t.log" | tail -1 | grep -Eo '[0-9]+' || echo '?')"
    total_runs=$((total_runs + runs))
    echo "ok - $t: $runs runs in ${SECONDS_PER_TARGET}s, coverage $cov edges, corpus $(ls "$work" | wc -l) inputs"
  else
    echo "not ok - $t: crash (log: $B/$t.log, input: $(ls -t "$crashes" | head -1))"
    grep -E 'ERROR|fuzz invariant|runtime error' "$B/$t.log" | head -5 | sed 's/^/#   /'
    failed=1
  fi
done
echo "checks: ${#targets[@]} targets, $total_runs runs, $([ $failed = 0 ] && echo 'no crash' || echo 'CRASH')"
exit $failed

#!/usr/bin/env bash
# Import benchmark, before vs after in ONE run, alternating round by round (bench/README.md,
# section "Import"):
#   PGHOST=... PGPORT=... PGUSER=postgres bench/import/compare.sh BEFORE_DIR [FILE.csv] [ROUNDS]
# BEFORE_DIR: a tree of the earlier commit (git archive REV | tar -x -C BEFORE_DIR); its
# bench/import/run.sh and migrations make the "before" rounds, this checkout's the "after" rounds
# (the same cluster, so the same installed techmart.so). Each round: run.sh FILE 1 of one side,
# then of the other, ROUNDS (6) times. Prints the medians of every phase, of the import end to end
# and of the bare COPY per side, the median of the rounds' ratios import/COPY, and the load average.
set -Eeuo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BEFORE="$(cd "${1:?usage: $0 BEFORE_DIR [FILE.csv] [ROUNDS]}" && pwd)"
FILE="$(readlink -f "${2:-${TECHMART_ONLINE_RETAIL:-$ROOT/../shared/data/online-retail-2010-12_2011-02.csv}}")"
ROUNDS="${3:-6}"
[ -x "$BEFORE/bench/import/run.sh" ] || { echo "no bench/import/run.sh in $BEFORE" >&2; exit 1; }
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
for i in $(seq 1 "$ROUNDS"); do
  for side in before after; do
    dir="$ROOT"; [ $side = before ] && dir="$BEFORE"
    echo "=== $side round $i, load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$log"
    "$dir/bench/import/run.sh" "$FILE" 1 | tee -a "$log"
  done
done
echo "=== end, load $(cut -d' ' -f1-3 /proc/loadavg)"
awk '
  function median(s,   n, a, i, j, t) {
    n = split(s, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  /^=== / { side = $2; next }
  /^round [0-9]+: bare COPY/ {
    copy = $5; imp = $8
    v[side, "bare COPY"] = v[side, "bare COPY"] " " copy; v[side, "import end to end"] = v[side, "import end to end"] " " imp
    v[side, "ratio"] = v[side, "ratio"] " " imp / copy; next
  }
  /^    \[/ {
    p = substr($0, 6, index($0, "]") - 6)
    if (match($0, /\([0-9]+ ms\)/)) { ms = substr($0, RSTART + 1, RLENGTH - 5); v[side, p] = v[side, p] " " ms; seen[p] = 1 }
  }
  END {
    n = split("checks copy 1/7 2/7 3/7 4/7 5/7 6/7 7/7", order, " ")
    printf "%-20s %12s %12s   (medians, ms)\n", "phase", "before", "after"
    for (i = 1; i <= n; i++) if (order[i] in seen)
      printf "%-20s %12s %12s\n", "[" order[i] "]", median(v["before", order[i]]), median(v["after", order[i]])
    printf "%-20s %12s %12s\n", "import end to end", median(v["before", "import end to end"]), median(v["after", "import end to end"])
    printf "%-20s %12s %12s\n", "bare COPY", median(v["before", "bare COPY"]), median(v["after", "bare COPY"])
    printf "%-20s %12.1f %12.1f   (median of the rounds, target <= 4)\n", "ratio import/COPY", median(v["before", "ratio"]), median(v["after", "ratio"])
  }' "$log"

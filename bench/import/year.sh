#!/usr/bin/env bash
# The import at the full UCI year's size: a synthetic file of COPIES x the three-month file (default 5:
# 526,675 lines; the real year has 541,909), copy k with its dates moved k x 91 days (13 weeks: same weekdays,
# shop hours clear of the DST gap) and its invoice numbers k x 10,000 higher (C-invoices too), so every copy is
# new history for the import; then bench/import/run.sh on it and on the three-month file, same cluster, back
# to back. The file is written to a temporary directory (never into the repository) and removed afterwards.
#   PGHOST=... PGPORT=... PGUSER=postgres bench/import/year.sh [ROUNDS]
# Env: COPIES (5), SRC (the three-month file).
set -Eeuo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SRC="${SRC:-$ROOT/../shared/data/online-retail-2010-12_2011-02.csv}"
ROUNDS="${1:-2}"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
python3 - "$SRC" "$tmp/online-retail-year.csv" "${COPIES:-5}" <<'PY'
import csv, datetime, sys
src, dst, copies = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(dst, 'w', newline='', encoding='utf-8') as out:
    w = csv.writer(out, lineterminator='\n')
    for k in range(copies):
        with open(src, newline='', encoding='utf-8') as f:
            r = csv.reader(f)
            header = next(r)
            if k == 0:
                w.writerow(header)
            for row in r:
                c = row[0].startswith('C')
                row[0] = ('C' if c else '') + str(int(row[0][1:] if c else row[0]) + 10000 * k)
                t = datetime.datetime.strptime(row[4], '%Y-%m-%d %H:%M:%S') + datetime.timedelta(days=91 * k)
                row[4] = t.strftime('%Y-%m-%d %H:%M:%S')
                w.writerow(row)
PY
echo "three months ($SRC):"
"$ROOT/bench/import/run.sh" "$SRC" "$ROUNDS" | tail -1
echo "synthetic year (${COPIES:-5} copies, $(( $(wc -l < "$tmp/online-retail-year.csv") - 1 )) lines):"
"$ROOT/bench/import/run.sh" "$tmp/online-retail-year.csv" "$ROUNDS" | tail -1

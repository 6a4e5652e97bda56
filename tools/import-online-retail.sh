#!/usr/bin/env bash
# Import an Online Retail CSV file (docs/import.md) into the database of the PG* environment:
#
#   PGHOST=... PGPORT=... PGUSER=... PGDATABASE=... tools/import-online-retail.sh [--encoding LATIN1] FILE.csv
#
# (./techmart import online-retail FILE.csv sets the environment to the local cluster.)
# Checks the file first and reports every problem with its line number: the header, the
# encoding (UTF-8 unless --encoding says otherwise), the number of fields of every record
# (RFC 4180 quoting: "a ""quoted"", description" is one field). Then, in ONE transaction:
# TRUNCATE import.online_retail_raw, \copy the file into it, SELECT * FROM import.online_retail(FILE)
# (validation of every value with line numbers, the import, the rebuilds; progress on stderr).
# Any error leaves the database as it was. Exit status 0 on success, 1 on invalid input.
set -Eeuo pipefail
enc=UTF8
usage() { echo "usage: $0 [--encoding ENC] FILE.csv${1:+ ($1)}" >&2; exit 1; }
if [ "${1:-}" = "--encoding" ]; then
  [ -n "${2:-}" ] || usage "--encoding needs a value, e.g. LATIN1"
  enc="$2"; shift 2
fi
# one file: a second one was ignored without a word
[ $# -eq 1 ] || usage "$([ $# -eq 0 ] && echo "no file" || echo "one file at a time, got $#: $*")"
file="$1"
[ -r "$file" ] || { echo "error: cannot read $file" >&2; exit 1; }
say() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
fail() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

t_checks=$(date +%s%N)
size=$(wc -c <"$file")
say "checking $file ($((size / 1024)) KiB)"
expected='InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country'
header="$(head -n 1 "$file" | tr -d '\r' | sed 's/^\xEF\xBB\xBF//')"
[ "$header" = "$expected" ] || fail "line 1: the header is \"$header\", expected \"$expected\" (nothing imported)"

# The checks of every line (encoding, field counts) run while the import runs in its transaction;
# the transaction is committed only once they have passed, else rolled back (then their report is
# shown, not the error the import may have met on the same lines).
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
check_encoding() {
  [ "$enc" = UTF8 ] || [ "$enc" = UTF-8 ] || return 0
  local bad n
  bad="$(LC_ALL=C.UTF-8 grep -naxv '.*' "$file" | cut -d: -f1 | head -n 20 | paste -sd, -)" || true
  if [ -n "$bad" ]; then
    n="$(LC_ALL=C.UTF-8 grep -caxv '.*' "$file" || true)"
    echo "$n line(s) are not valid UTF-8 (lines $bad$([ "$n" -gt 20 ] && echo ', ...')); convert the file or pass --encoding LATIN1 (nothing imported)"
    return 1
  fi
}
# fields per record: split on commas outside double quotes (records are single lines)
check_fields() {
  local bad
  bad="$(LC_ALL=C awk '
    NR == 1 { next }
    {
      sub(/\r$/, "")
      if (index($0, "\"") == 0) { n = split($0, f, ","); }
      else {
        n = 1; q = 0; s = $0; L = length(s)
        for (i = 1; i <= L; i++) {
          c = substr(s, i, 1)
          if (c == "\"") q = !q
          else if (c == "," && !q) n++
        }
        if (q) { print NR ": unterminated quoted field"; bad++; next }
      }
      if (n != 8) { print NR ": " n " fields, expected 8" (n < 8 ? " (missing columns)" : " (extra columns)"); bad++ }
    }
    END { exit bad > 0 }' "$file" | head -n 50)" || true
  [ -z "$bad" ] || { printf 'records with a wrong number of fields (nothing imported):\n%s\n' "$bad"; return 1; }
}

# The SQL, fed to psql as it goes: the import, then COMMIT only when the checks passed. psql
# stops at the first error (ON_ERROR_STOP); a transaction left open at the end is rolled back.
feed() {
  set +e
  check_encoding > "$work/encoding" 2>&1 & local pe=$!
  check_fields > "$work/fields" 2>&1 & local pf=$!
  trap '' PIPE  # (after starting the checks) psql may stop early, on an error: go on until the checks are done
  cat <<SQL
\set QUIET on
BEGIN;
LOCK TABLE import.online_retail_raw IN ACCESS EXCLUSIVE MODE;
TRUNCATE import.online_retail_raw;
SELECT clock_timestamp() AS t_copy \gset
\copy import.online_retail_raw FROM '$(printf '%s' "$file" | sed "s/'/''/g")' WITH (FORMAT csv, HEADER, ENCODING '$enc')
SELECT round(extract(epoch FROM clock_timestamp() - :'t_copy'::timestamptz) * 1000) AS ms_copy \gset
\warn 'NOTICE:  import [copy] file staged in import.online_retail_raw (':ms_copy' ms)'
SELECT section, reason, lines, amount FROM import.online_retail(:'file');
SQL
  local ok=1
  wait $pe || ok=0
  wait $pf || ok=0
  if [ $ok = 1 ]; then
    touch "$work/checked"
    { echo "\\warn 'NOTICE:  import [checks] header, encoding and field counts checked, while importing ($(( ($(date +%s%N) - t_checks) / 1000000 )) ms)'"
      echo "COMMIT;"; } 2>/dev/null
  else
    echo "ROLLBACK;" 2>/dev/null
  fi
  return 0
}
say "importing (one transaction: staging copy, validation, import, rollups and fraud state rebuilt; the file checks meanwhile)"
# psql's stdout (the summary) goes to ours; of its stderr, the progress lines are shown as they
# come and the rest is kept until we know whether the checks passed
: > "$work/psql.err"
exec 4>&1
{ set +e
  feed 2>/dev/null | psql -X -q -v ON_ERROR_STOP=1 -v file="$(basename "$file")" -P footer=off 2>&1 >&4 4>&-
  echo "${PIPESTATUS[1]}" > "$work/rc"; } |
  while IFS= read -r l; do
    case "$l" in
      'NOTICE:  import ['*) printf '%s\n' "$l" >&2 ;;
      *) printf '%s\n' "$l" >> "$work/psql.err" ;;
    esac
  done
if [ ! -f "$work/checked" ]; then
  report="$(cat "$work/encoding" "$work/fields" 2>/dev/null | grep -v '^$' | head -n 60)" || true
  [ -n "$report" ] || { cat "$work/psql.err" >&2; fail "the import stopped before the file checks finished (nothing imported)"; }
  fail "$report"
fi
cat "$work/psql.err" >&2
exit "$(cat "$work/rc" 2>/dev/null || echo 1)"

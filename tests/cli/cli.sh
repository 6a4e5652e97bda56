#!/usr/bin/env bash
# The ./techmart command line as a user meets it (suite `cli` of ./techmart test): wrong and
# missing arguments are refused at once with a message naming the problem (nothing built, nothing
# started), taken ports are reported before the build, `stop` stops the API of its own run
# directory and no other process, relative and unreachable run directories. Everything runs in
# private temporary directories on free ports; the only processes started are techmart-api
# instances and a port holder of this script, stopped at the end.
#
#   TECHMART_BUILD_DIR=build tests/cli/cli.sh        (needs the built build/api/techmart-api)
# Optional: TECHMART_TEST_CLUSTER_DIR / TECHMART_TEST_CLUSTER_PORT, a running cluster made by
# ./techmart's cluster_init (./techmart test passes its own): psql finds it by its running port.
set -Euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TM="$ROOT/techmart"
BUILD_DIR="$(realpath -m -- "${TECHMART_BUILD_DIR:-$ROOT/build}")"
API_BIN="$BUILD_DIR/api/techmart-api"
[ -x "$API_BIN" ] || { echo "not built: $API_BIN"; exit 1; }
export TECHMART_BUILD_DIR="$BUILD_DIR"
unset TECHMART_RUN_DIR TECHMART_PG_PORT TECHMART_API_PORT TECHMART_DB_NAME

n=0 failed=0 pids=()
ok()   { n=$((n + 1)); echo "ok $n - $*"; }
nok()  { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
T="$(mktemp -d /tmp/techmart-cli.XXXXXX)"
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$T"
}
trap cleanup EXIT

free_port() {
  local p
  for _ in $(seq 1 100); do
    p=$(( 20000 + RANDOM % 30000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}
wait_port() { for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

# refused DESC WANT CMD...: CMD exits non-zero within 30 s, says WANT (fixed string), and neither
# builds nor claims to be up
refused() {
  local desc="$1" want="$2" out rc; shift 2
  out="$(timeout 30 "$@" 2>&1)"; rc=$?
  if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -qF -- "$want" <<<"$out" && ! grep -qE 'building|TechMart is up' <<<"$out"; then
    ok "$desc"
  else
    nok "$desc (exit $rc)"; sed 's/^/#   /' <<<"$out"
  fi
}

# ---- wrong arguments: refused before anything is built or started
export TECHMART_RUN_DIR="$T/run" TECHMART_PG_PORT="$(free_port)" TECHMART_API_PORT="$(free_port)"
refused "up with a misspelt option (--datset) is refused, not the seed product started" \
  "unknown argument: --datset" "$TM" up --datset online-retail x.csv
refused "up with an extra argument is refused" "unknown argument: extra" "$TM" up extra
refused "up --dataset with a file that does not exist names the file" \
  "cannot read $T/missing.csv" "$TM" up --dataset online-retail "$T/missing.csv"
refused "up --dataset with an unknown dataset" "the one dataset is online-retail" "$TM" up --dataset retail "$T/x.csv"
refused "up --dataset online-retail without a file" "usage: ./techmart up" "$TM" up --dataset online-retail
for c in start-db stop reset build; do
  refused "$c with an argument is refused" "./techmart $c takes no arguments (got: now)" "$TM" "$c" now
done
refused "test with an unknown option is refused (before waiting for the test lock)" "usage: ./techmart test [--keep]" "$TM" test --kep
refused "fuzz 5m is refused (libFuzzer reads it as no time limit)" "SECONDS a whole number > 0" "$TM" fuzz 5m
refused "fuzz 0 is refused" "SECONDS a whole number > 0" "$TM" fuzz 0
refused "fuzz/run.sh 0 is refused" "SECONDS a whole number > 0" "$ROOT/fuzz/run.sh" 0
refused "soak abc is refused" "usage: ./techmart soak [SCALE]" "$TM" soak abc
refused "soak 0 is refused" "usage: ./techmart soak [SCALE]" "$TM" soak 0
refused "import of two files is refused (the second was ignored)" "one file at a time, got 2" \
  "$ROOT/tools/import-online-retail.sh" a.csv b.csv
refused "import --encoding without a value" "--encoding needs a value" "$ROOT/tools/import-online-retail.sh" --encoding
refused "token --ttl abc is refused (it signed a token that expired at once)" "--ttl must be a whole number of seconds" \
  env TECHMART_JWT_SECRET=cli-test-secret-0123456789abcdef0123456789 "$TM" token --role admin --ttl abc
refused "token --ttl 1h is refused (read as 1 second)" "--ttl must be a whole number of seconds" \
  env TECHMART_JWT_SECRET=cli-test-secret-0123456789abcdef0123456789 "$TM" token --role admin --ttl 1h
refused "unknown subcommand" "unknown subcommand: upp" "$TM" upp
refused "backup with two files is refused" "usage: ./techmart backup [FILE]" "$TM" backup a.tar b.tar
refused "backup without a running cluster" "the local cluster is not running" "$TM" backup "$T/b.tar"
refused "restore without a file" "usage: ./techmart restore FILE" "$TM" restore
refused "restore with a misspelt option is refused (not read as the file)" "unknown option: --replce" "$TM" restore x.tar --replce
refused "restore --db without a name" "usage: ./techmart restore FILE" "$TM" restore x.tar --db
refused "restore of a file that does not exist names it" "cannot read $T/missing.tar" "$TM" restore "$T/missing.tar"
refused "psql without a running cluster" "the local cluster is not running" "$TM" psql -c 'SELECT 1'

# ---- a relative TECHMART_RUN_DIR is taken from the current directory (PostgreSQL read it
# against its data directory: the first start failed on the socket's lock file)
mkdir -p "$T/cwd"
out="$(cd "$T/cwd" && TECHMART_RUN_DIR=rel "$TM" start-db 2>&1)"
if grep -qF "no local cluster yet in $T/cwd/rel" <<<"$out"; then ok "a relative TECHMART_RUN_DIR is made absolute"
else nok "a relative TECHMART_RUN_DIR is made absolute"; sed 's/^/#   /' <<<"$out"; fi

# ---- taken ports: reported before the build, with the variable to change
HOLD_PORT="$(free_port)"
node -e "require('net').createServer().listen($HOLD_PORT, '127.0.0.1')" & pids+=($!)
if wait_port "$HOLD_PORT"; then
  refused "up on a taken API port says so before building (it printed 'TechMart is up' and then failed)" \
    "port $HOLD_PORT is in use" env TECHMART_API_PORT="$HOLD_PORT" "$TM" up
  refused "up on a taken PostgreSQL port says so before building" \
    "set TECHMART_PG_PORT to a free port" env TECHMART_PG_PORT="$HOLD_PORT" "$TM" up
else
  nok "port holder on $HOLD_PORT did not listen"
fi

# ---- stop: the API of its own run directory only
start_api() {  # start_api RUN_DIR|-: an API like ./techmart up runs it (pid file), or a foreign one
  local dir="$1" port; port="$(free_port)"
  local envs=(TECHMART_ENV=development TECHMART_JWT_SECRET=cli-test-secret-0123456789abcdef0123456789
              TECHMART_API_ADDRESS=127.0.0.1 TECHMART_API_PORT="$port"
              "TECHMART_DATABASE_URL=host=$T/nodb port=1 dbname=none connect_timeout=1")
  if [ "$dir" = - ]; then
    env "${envs[@]}" "$API_BIN" >"$T/api-$port.log" 2>&1 &
  else
    mkdir -p "$dir"
    env "${envs[@]}" bash -c 'echo $$ >"$1/api.pid"; exec "$2"' _ "$dir" "$API_BIN" >"$T/api-$port.log" 2>&1 &
  fi
  pids+=($!)
  wait_port "$port" || { echo "# api on $port did not start:"; sed 's/^/#   /' "$T/api-$port.log"; }
  API_STARTED=$!
}
start_api "$T/runA"; A=$API_STARTED
start_api -; B=$API_STARTED
refused "up while the API of this run directory runs says so" "TechMart is already running for $T/runA (API pid $A)" \
  env TECHMART_RUN_DIR="$T/runA" "$TM" up
: >"$T/runA/jwt_secret.from-env"   # what up leaves when the API got TECHMART_JWT_SECRET from its environment
refused "token without the TECHMART_JWT_SECRET the running API was given says so (its token got 401)" \
  "the running API was started with TECHMART_JWT_SECRET from its environment" env TECHMART_RUN_DIR="$T/runA" "$TM" token --role admin
tok="$(TECHMART_RUN_DIR="$T/runA" TECHMART_JWT_SECRET=cli-test-secret-0123456789abcdef0123456789 "$TM" token --role admin 2>/dev/null)"
port_a="$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$T"/api-*.log | head -1)"
bad="$(TECHMART_RUN_DIR="$T/runA" TECHMART_JWT_SECRET=another-secret-0123456789abcdef0123456789ab "$TM" token --role admin 2>/dev/null)"
code() { curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $1" "http://127.0.0.1:$port_a/api/v1/users/me"; }
if [ -n "$tok" ] && [ "$(code "$tok")" != 401 ] && [ "$(code "$bad")" = 401 ]; then
  ok "token with the API's TECHMART_JWT_SECRET is accepted (another secret's: 401)"
else nok "token with the API's TECHMART_JWT_SECRET is accepted (another secret's: 401)"; fi
out="$(TECHMART_RUN_DIR="$T/runB" "$TM" stop 2>&1)"
if kill -0 "$A" 2>/dev/null && kill -0 "$B" 2>/dev/null && grep -qF "no API of ./techmart up is running for $T/runB" <<<"$out" \
   && grep -qF "no local cluster in $T/runB" <<<"$out"; then
  ok "stop for another run directory stops no API and says there is nothing to stop"
else nok "stop for another run directory stops no API and says there is nothing to stop"; sed 's/^/#   /' <<<"$out"; fi
out="$(TECHMART_RUN_DIR="$T/runA" "$TM" stop 2>&1)"
if ! kill -0 "$A" 2>/dev/null && kill -0 "$B" 2>/dev/null && grep -qF "stopped the API (pid $A)" <<<"$out" \
   && [ ! -e "$T/runA/api.pid" ]; then
  ok "stop stops the API of its run directory (and waits for it), not another one of the same build"
else nok "stop stops the API of its run directory (and waits for it), not another one of the same build"; sed 's/^/#   /' <<<"$out"; fi
out="$(TECHMART_RUN_DIR="$T/runA" "$TM" stop 2>&1)"; rc=$?
if [ $rc = 0 ] && kill -0 "$B" 2>/dev/null && grep -qF "no API of ./techmart up is running" <<<"$out"; then
  ok "stop when nothing runs: exit 0, says so"
else nok "stop when nothing runs: exit 0, says so (exit $rc)"; sed 's/^/#   /' <<<"$out"; fi

# ---- the local cluster's port is the one it runs on (TECHMART_PG_PORT of another shell)
if [ -n "${TECHMART_TEST_CLUSTER_DIR:-}" ]; then
  out="$(TECHMART_RUN_DIR="$TECHMART_TEST_CLUSTER_DIR" TECHMART_PG_PORT=1 TECHMART_DB_NAME=postgres "$TM" psql -tAXc 'SHOW port' 2>&1)"
  if [ "$out" = "${TECHMART_TEST_CLUSTER_PORT:-}" ]; then ok "psql reaches the running cluster whatever TECHMART_PG_PORT says"
  else nok "psql reaches the running cluster whatever TECHMART_PG_PORT says"; sed 's/^/#   /' <<<"$out"; fi
fi

# ---- reset keeps the admin account: the users table goes with the database, and the admin of
# ./techmart up could not log in until the next up (a database of its own on the test cluster)
if [ -n "${TECHMART_TEST_CLUSTER_DIR:-}" ]; then
  rdb="techmart_cli_reset_$$" rpw="cli-reset-$$-pw"
  out="$(TECHMART_RUN_DIR="$TECHMART_TEST_CLUSTER_DIR" TECHMART_DB_NAME="$rdb" TECHMART_ADMIN_EMAIL="reset-admin@cli.invalid" \
         TECHMART_ADMIN_PASSWORD="$rpw" timeout 300 "$TM" reset 2>&1)"; rc=$?
  login="$(printf '%s\n' "SELECT api.login(jsonb_build_object('email', 'reset-admin@cli.invalid', 'password', :'pw')) #>> '{user,role}';" \
           | TECHMART_RUN_DIR="$TECHMART_TEST_CLUSTER_DIR" TECHMART_DB_NAME="$rdb" "$TM" psql -tAX -v pw="$rpw" 2>&1)"
  if [ $rc = 0 ] && [ "$login" = admin ]; then ok "reset: the admin account logs in afterwards (it was dropped until the next up)"
  else nok "reset: the admin account logs in afterwards (exit $rc, login: $login)"; sed 's/^/#   /' <<<"$out"; fi
  TECHMART_RUN_DIR="$TECHMART_TEST_CLUSTER_DIR" TECHMART_DB_NAME=postgres "$TM" psql -qXc "DROP DATABASE IF EXISTS \"$rdb\" WITH (FORCE)" >/dev/null 2>&1
fi

# ---- as root: a run directory the postgres account cannot reach (a checkout in /root)
if [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1; then
  mkdir -p "$T/private" && chmod 700 "$T/private"
  refused "up with a TECHMART_RUN_DIR the postgres account cannot reach names it (initdb failed: Permission denied)" \
    "cannot reach TECHMART_RUN_DIR=$T/private/run" env TECHMART_RUN_DIR="$T/private/run" "$TM" up
  # the default .run of a checkout out of its reach: a link to a directory it can reach. A copy of
  # the script (no sources: the build that follows fails, which is not what is checked)
  mkdir -p "$T/private/checkout/.run" && cp "$TM" "$T/private/checkout/" && echo earlier >"$T/private/checkout/.run/initdb.log"
  out="$(env -u TECHMART_RUN_DIR TECHMART_BUILD_DIR="$T/private/build" timeout 120 "$T/private/checkout/techmart" up 2>&1)"
  target="$(readlink "$T/private/checkout/.run" || true)"
  if [[ "$target" == /var/lib/techmart/run-* ]] && runuser -u postgres -- test -w "$target" -o -x "$target" \
     && [ "$(cat "$target/initdb.log" 2>/dev/null)" = earlier ] && grep -qF "the local cluster lives in $target" <<<"$out"; then
    ok "the default .run of a checkout the postgres account cannot reach links to $target"
  else nok "the default .run of a checkout the postgres account cannot reach links elsewhere"; sed 's/^/#   /' <<<"$out"; fi
  [[ "$target" == /var/lib/techmart/run-* ]] && rm -rf "$target" && rmdir /var/lib/techmart 2>/dev/null
fi

echo "checks: $n CLI checks, $failed failed"
[ $failed = 0 ]

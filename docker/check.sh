#!/usr/bin/env bash
# What can be checked of docker/ without a Docker engine (suite `docker-check` of ./techmart test).
#   1. Dockerfiles lint clean (dockerfile-utils from npm; hadolint is not packaged in Debian 12)
#   2. compose files parse and interpolate (docker-compose 1.29 from Debian, or `docker compose`),
#      and refuse to start without the required secrets
#   3. the images build with the same commands as ./techmart up (CMake configure/build/install,
#      Debian packages, sqitch deploy, seed load), and the builder stages of both images are equal
#   4. every COPY source exists; final stages install no compiler; shell scripts pass shellcheck
# Not checked (needs an engine): that the images build, start and pass their health checks.
set -Eeuo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
D="$ROOT/docker"
TOOLS="${TECHMART_TOOLS_DIR:-$ROOT/build/tools}"
fails=0 checks=0 skipped=()
ok()   { checks=$((checks + 1)); echo "ok $checks - $*"; }
fail() { checks=$((checks + 1)); fails=$((fails + 1)); echo "not ok $checks - $*"; }
skip() { skipped+=("$*"); echo "# skipped: $*"; }

need_apt() {  # install Debian packages on demand (root only), quietly
  local missing=()
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || return 1
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
    || { apt-get update >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1; }
}
need_apt docker-compose yamllint shellcheck || true

# ---- 1. Dockerfile lint
LINT="$TOOLS/node_modules/.bin/dockerfile-utils"
if [ ! -x "$LINT" ] && command -v npm >/dev/null; then
  mkdir -p "$TOOLS"
  (cd "$TOOLS" && timeout 180 npm install --no-audit --no-fund --silent dockerfile-utils@0.16.3 >/dev/null 2>&1) || true
fi
if [ -x "$LINT" ]; then
  for f in "$D"/*.Dockerfile; do
    if out="$("$LINT" lint "$f" 2>&1)" && [ -z "$out" ]; then ok "dockerfile-utils lint $(basename "$f")"
    else fail "dockerfile-utils lint $(basename "$f")"; echo "$out" | sed 's/^/#   /' || true; fi
  done
  # the linter does fail on a broken file (so a pass above means something)
  printf 'FROM debian:12\nFOO bar\n' >"$TOOLS/broken.Dockerfile"
  if "$LINT" lint "$TOOLS/broken.Dockerfile" >/dev/null 2>&1; then fail "linter rejects a broken Dockerfile"; else ok "linter rejects a broken Dockerfile"; fi
else
  skip "dockerfile-utils not installable (npm)"
fi

# ---- 2. compose files
COMPOSE=()
if docker compose version >/dev/null 2>&1; then COMPOSE=(docker compose)
elif command -v docker-compose >/dev/null; then COMPOSE=(docker-compose); fi
if [ ${#COMPOSE[@]} -gt 0 ]; then
  envs=(POSTGRES_PASSWORD=pw-check TECHMART_API_DB_PASSWORD=api-check TECHMART_JWT_SECRET=0123456789abcdef0123456789abcdef)
  for f in compose.yml citus-compose.yml; do
    [ -f "$D/$f" ] || continue
    if out="$(cd "$D" && env "${envs[@]}" "${COMPOSE[@]}" -p techmart -f "$f" config 2>&1)"; then
      ok "${COMPOSE[*]} config $f"
      [ "$f" = compose.yml ] && CONFIG="$out"
    else fail "${COMPOSE[*]} config $f"; echo "$out" | sed 's/^/#   /' || true; fi
  done
  # the resolved file: health checks, named volume, one-shot job ordering, secrets from env
  for want in "pgdata:/var/lib/postgresql/data" "service_completed_successfully" "service_healthy" \
              "TECHMART_JWT_SECRET: 0123456789abcdef0123456789abcdef" "password=api-check" "pg_isready"; do
    if grep -qF -- "$want" <<<"${CONFIG:-}"; then ok "compose config has '$want'"; else fail "compose config has '$want'"; fi
  done
  for var in TECHMART_JWT_SECRET POSTGRES_PASSWORD TECHMART_API_DB_PASSWORD; do
    rest=(); for e in "${envs[@]}"; do [[ "$e" == "$var="* ]] || rest+=("$e"); done
    if (cd "$D" && env -u "$var" "${rest[@]}" "${COMPOSE[@]}" -p techmart -f compose.yml config >/dev/null 2>&1); then
      fail "compose refuses to run without $var"
    else ok "compose refuses to run without $var"; fi
  done
else
  skip "no docker compose client"
fi
if command -v yamllint >/dev/null; then
  for f in "$D"/*.yml; do
    if out="$(yamllint -d '{extends: relaxed, rules: {line-length: {max: 220}}}' "$f" 2>&1)"; then ok "yamllint $(basename "$f")"
    else fail "yamllint $(basename "$f")"; echo "$out" | sed 's/^/#   /' || true; fi
  done
else skip "yamllint"; fi

# ---- 3. same build steps as ./techmart up
norm() { sed -E 's/"\$ROOT"/SRC/g; s/"\$BUILD_DIR"/BUILD/g; s#(^| )/src( |$)#\1SRC\2#g; s#(^| )/build( |$)#\1BUILD\2#g; s/DESTDIR=\/out //; s/ *>.*$//; s/ *\\$//; s/^ *(RUN|&&) *//; s/^ *//'; }
# the cmake commands of build()/install_extension() in ./techmart
up_cmds="$(sed -n '/^build() {/,/^}/p; /^install_extension() {/,/^}/p' "$ROOT/techmart" | grep -Eo 'cmake (-S|--build|--install) "[^|]*' | norm | sed -E 's/ +$//' | sort -u)"
[ -n "$up_cmds" ] || fail "found cmake commands in ./techmart build()"
for f in db.Dockerfile api.Dockerfile citus.Dockerfile; do
  img_cmds="$(grep -E '^(RUN| &&) .*cmake (-S|--build|--install)' "$D/$f" | norm | sed -E 's/ +$//' | sort -u)"
  if [ "$up_cmds" = "$img_cmds" ]; then ok "$f runs the cmake commands of ./techmart up"
  else fail "$f runs the cmake commands of ./techmart up"; diff <(echo "$up_cmds") <(echo "$img_cmds") | sed 's/^/#   /' || true; fi
done
stage() { sed -n '/^FROM .* AS build$/,/^FROM /p' "$1" | sed '$d'; }
if [ -n "$(stage "$D/db.Dockerfile")" ] && diff <(stage "$D/db.Dockerfile" | grep -v '^#') <(stage "$D/api.Dockerfile" | grep -v '^#') >/dev/null; then
  ok "builder stages of db and api images are identical"
else fail "builder stages of db and api images are identical"; fi
apt_list="$(sed -n '/^APT_PACKAGES=(/,/^)/p' "$ROOT/techmart" | tr ' ' '\n')"
bad=""
for p in $(grep -v '^#' "$D/build-deps.txt"); do grep -qx -- "$p" <<<"$apt_list" || bad+=" $p"; done
if [ -z "$bad" ]; then ok "builder packages are a subset of ./techmart APT_PACKAGES"; else fail "packages not in APT_PACKAGES:$bad"; fi
# database steps of the one-shot job = migrate()/seed() of ./techmart
for cmd in 'sqitch --quiet deploy "db:pg:$PGDATABASE"' 'psql -X -q -1 -v ON_ERROR_STOP=1 -f load.sql' 'SELECT count(*) FROM transactions'; do
  if grep -qF -- "$cmd" "$ROOT/techmart" && grep -qF -- "$cmd" "$D/migrate.sh"; then ok "migrate.sh and ./techmart both run: $cmd"
  else fail "migrate.sh and ./techmart both run: $cmd"; fi
done

# the database image preloads techmart like ./techmart's cluster_init (scoring latency histogram)
if grep -qF "shared_preload_libraries = 'techmart'" "$ROOT/techmart" && grep -qF "shared_preload_libraries = 'techmart'" "$D/db.Dockerfile" \
   && grep -qE 'shared_preload_libraries=citus,techmart' "$D/citus-compose.yml"; then ok "db image, citus compose and ./techmart preload techmart"
else fail "db image, citus compose and ./techmart preload techmart"; fi

# the api image serves GET /openapi.json and /docs as ./techmart up does: a stage runs
# api/docs-ui/build.mjs, the final stage copies its output where TECHMART_DOCS_DIR points
docs_dir="$(grep -Eo 'TECHMART_DOCS_DIR=[^ ]+' "$D/api.Dockerfile" | head -1 | cut -d= -f2)"
if grep -qE '^RUN node build.mjs --api [^ ]+ --out /docs' "$D/api.Dockerfile" && [ -n "$docs_dir" ] \
   && grep -qE "^COPY --from=docs /docs/ ${docs_dir%/}/\$" "$D/api.Dockerfile"; then ok "api image has the API documentation (TECHMART_DOCS_DIR=$docs_dir)"
else fail "api image has the API documentation (a stage running api/docs-ui/build.mjs, TECHMART_DOCS_DIR)"; fi

# ---- grafana dashboard: valid JSON, every metric it queries is produced by the API or techmart_ops
if [ -f "$D/grafana-dashboard.json" ]; then
  if metrics="$(node -e 'const d = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      const names = new Set(); for (const p of d.panels) for (const t of p.targets) for (const m of t.expr.matchAll(/techmart_[a-z0-9_]+/g)) names.add(m[0].replace(/_(bucket|sum|count)$/, ""));
      console.log([...names].join("\n"))' "$D/grafana-dashboard.json" 2>&1)"; then
    ok "grafana-dashboard.json parses"
    for m in $metrics; do
      if grep -rqF "$m" "$ROOT/api/src" "$ROOT"/migrations/deploy/observability*.sql 2>/dev/null; then ok "dashboard metric $m is produced"
      else fail "dashboard metric $m is produced (not in api/src nor migrations/deploy/observability*.sql)"; fi
    done
  else fail "grafana-dashboard.json parses"; echo "$metrics" | sed 's/^/#   /' || true; fi
fi

# ---- 4. COPY sources exist; no compiler in final images; shellcheck
for f in "$D"/*.Dockerfile; do
  while read -r src; do
    [[ "$src" == --from=* ]] && continue
    # shellcheck disable=SC2086
    if compgen -G "$ROOT/${src%/}" >/dev/null; then ok "$(basename "$f"): COPY source $src exists"
    elif [[ "$src" == web/* ]]; then skip "$(basename "$f"): $src (the dashboard is not in the tree yet)"
    else fail "$(basename "$f"): COPY source $src exists"; fi
  done < <(grep -E '^COPY ' "$f" | grep -v -- '--from=' | sed -E 's/^COPY +//' | awk '{ for (i = 1; i < NF; i++) print $i }')
  final="$(awk '/^FROM /{buf=""} {buf=buf"\n"$0} END{print buf}' "$f")"
  if grep -qE 'build-essential|g\+\+|clang|cmake|-dev\b' <<<"$final"; then fail "$(basename "$f"): final stage has no compiler/headers"
  else ok "$(basename "$f"): final stage has no compiler/headers"; fi
done
if command -v shellcheck >/dev/null; then
  if shellcheck -S warning -s sh "$D/migrate.sh" && shellcheck -S warning "$D/check.sh"; then ok "shellcheck migrate.sh check.sh"; else fail "shellcheck"; fi
else skip "shellcheck"; fi

echo "checks: $((checks - fails))/$checks passed${skipped:+, ${#skipped[@]} skipped}"
[ $fails -eq 0 ]

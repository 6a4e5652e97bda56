#!/usr/bin/env bash
# Dashboard budgets against a database with the seed data: bench/web/run.sh [--seconds N] [--rate R] [--runs N]
# Uses TECHMART_API_BIN / TECHMART_DATABASE_URL / PSQL like tests/browser (see bench/README.md).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
(cd "$ROOT/web" && { [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error; } && npm run --silent build) >/dev/null
(cd "$ROOT/tests/browser" && { [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error; }) >/dev/null
exec node "$ROOT/bench/web/run.mjs" "$@"

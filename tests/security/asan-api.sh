#!/usr/bin/env bash
# The API (and the core) built with clang under AddressSanitizer + UBSan (LeakSanitizer on),
# then the whole API test suite (tests/api) and the security suite run against that binary.
# Any ASan/UBSan report aborts the server, so the tests that watch its exit fail.
# Needs the environment of the api suite (TECHMART_DATABASE_URL, PSQL, ...); ./techmart test
# runs it as suite api-asan.
set -Eeuo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
B="${TECHMART_ASAN_API_BUILD_DIR:-$ROOT/build-asan-api}"
FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -fsanitize-ignorelist=$ROOT/fuzz/ubsan-ignorelist.txt"
cmake -S "$ROOT" -B "$B" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
      -DTECHMART_BUILD_EXTENSION=OFF -DBUILD_TESTING=OFF \
      "-DCMAKE_CXX_FLAGS=$FLAGS" "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined" >"$B.configure.log" 2>&1 \
  || { tail -30 "$B.configure.log"; exit 1; }
cmake --build "$B" -j"$(nproc)" --target techmart-api >"$B.build.log" 2>&1 || { grep -E 'error' "$B.build.log" | head -30; exit 1; }
export TECHMART_API_BIN="$B/api/techmart-api"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1"
# ASan's operator new reports out-of-memory instead of throwing bad_alloc, so the 400 GB
# Content-Length case of tests/security (Pistache reserves it up front) cannot run here
export TECHMART_SANITIZED=1
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$ROOT/tests/security/lsan.supp:print_suppressions=0"
echo "# API built with ASan+UBSan: $TECHMART_API_BIN"
export TECHMART_SKIP_VALGRIND=1  # valgrind cannot run an ASan binary
node --test --test-concurrency=1 --test-reporter=tap "$ROOT/tests/api/" "$ROOT/tests/security/"

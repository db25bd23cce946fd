#!/usr/bin/env bash
# The whole test suite against real servers: installs what is missing, builds, lints, starts a
# private PostgreSQL, Temporal dev server and Dovecot on loopback, runs every test, stops them.
# The tiers without servers of ours (unit, workflows) run on their own with npm run test:fast.
#   npm test                       every test file
#   npm test -- PATTERN...         only the test files whose path contains one of the patterns
# MAILPULL_TEST_PORT_BASE (default 20000) moves the private servers' ports, so that two checkouts
# can run their suites side by side.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

"$ROOT/scripts/setup.sh" --test
cd "$ROOT"
npm run --silent build
npm run --silent lint
MAILPULL_TEST_SERVER_BIN="$("$ROOT/scripts/test-server.sh")"; export MAILPULL_TEST_SERVER_BIN

TEST_DIR="$DATA_DIR/test"
rm -rf "$TEST_DIR"; mkdir -p "$TEST_DIR"
trap 'stop_test_servers "$TEST_DIR"' EXIT
# fsync off: the test database is thrown away after the run. Continue-as-new is suggested after
# 200 events (the default is thousands), so a test can cross runs.
start_test_servers "$TEST_DIR" "${MAILPULL_TEST_PORT_BASE:-20000}" off --dynamic-config-value limit.historyCount.suggestContinueAsNew=200

mapfile -t test_files < <(find dist/test -name "*.test.js" | sort)
if [ "$#" -gt 0 ]; then
  selected=()
  for file in "${test_files[@]}"; do
    for pattern in "$@"; do
      case "$file" in *"$pattern"*) selected+=("$file"); break ;; esac
    done
  done
  [ "${#selected[@]}" -gt 0 ] || { log "no test file matches: $*"; exit 2; }
  test_files=("${selected[@]}")
fi
# A stuck test fails after 5 minutes, and the whole run after 60, instead of holding CI.
timeout --kill-after=30 3600 node --test --test-timeout=300000 \
  --test-concurrency="${MAILPULL_TEST_CONCURRENCY:-1}" "${test_files[@]}"

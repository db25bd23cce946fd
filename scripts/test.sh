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
# Node 20's --test-timeout kills a whole test file's process (a test's own timeout cannot lift it): a file marked "// test-file-timeout-ms: N" gets N in a run of its own, every other file 5 minutes, the whole run 60.
DEFAULT_FILE_LIMIT_MS=300000
deadline=$((SECONDS + 3600))
declare -A by_limit=()
for file in "${test_files[@]}"; do
  limit="$(sed -n 's|^// test-file-timeout-ms: \([0-9][0-9]*\)$|\1|p' "$file" | head -n 1)"
  limit="${limit:-$DEFAULT_FILE_LIMIT_MS}"
  by_limit[$limit]+="$file "
done
failed=0
for limit in $(printf '%s\n' "${!by_limit[@]}" | sort -n); do
  left=$((deadline - SECONDS))
  [ "$left" -gt 0 ] || { log "the test run took more than 60 minutes"; exit 124; }
  read -r -a group <<<"${by_limit[$limit]}"
  timeout --kill-after=30 "$left" node --test --test-timeout="$limit" \
    --test-concurrency="${MAILPULL_TEST_CONCURRENCY:-1}" "${group[@]}" || failed=$?
done
exit "$failed"

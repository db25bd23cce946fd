#!/usr/bin/env bash
# The whole test suite against real servers: installs what is missing, builds, lints, starts a
# private PostgreSQL, Temporal dev server and Dovecot on loopback, runs every test, stops them.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

"$ROOT/scripts/setup.sh" --test
cd "$ROOT"
npm run --silent build
npm run --silent lint

TEST_DIR="$DATA_DIR/test"
rm -rf "$TEST_DIR"; mkdir -p "$TEST_DIR"

export DOVECOT_POP3_PORT=21110 DOVECOT_POP3S_PORT=21995 DOVECOT_IMAP_PORT=21143 DOVECOT_IMAPS_PORT=21993 DOVECOT_LMTP_PORT=21024
cleanup() {
  "$ROOT/scripts/dovecot.sh" stop "$TEST_DIR/dovecot" || true
  "$ROOT/scripts/temporal.sh" stop "$TEST_DIR/temporal" || true
  "$ROOT/scripts/postgres.sh" stop "$TEST_DIR/postgres" || true
}
trap cleanup EXIT

# fsync off: the test database is thrown away after the run
MAILPULL_TEST_DATABASE_URL="$(MAILPULL_PG_FSYNC=off "$ROOT/scripts/postgres.sh" start "$TEST_DIR/postgres" 25432)"
# continue-as-new is suggested after 200 events (default: thousands), so a test can cross runs
"$ROOT/scripts/temporal.sh" start "$TEST_DIR/temporal" 27233 28233 \
  --dynamic-config-value limit.historyCount.suggestContinueAsNew=200
"$ROOT/scripts/dovecot.sh" start "$TEST_DIR/dovecot"
export MAILPULL_TEST_DATABASE_URL MAILPULL_TEST_TEMPORAL_ADDRESS=127.0.0.1:27233 MAILPULL_TEST_DOVECOT_DIR="$TEST_DIR/dovecot"

mapfile -t test_files < <(find dist/test -name "*.test.js" | sort)
node --test --test-concurrency="${MAILPULL_TEST_CONCURRENCY:-1}" "${test_files[@]}"

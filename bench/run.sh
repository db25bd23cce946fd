#!/usr/bin/env bash
# Benchmarks mailpull against Debian's fetchmail on the same private Dovecot, in one run.
# Prints seconds, messages/s and MB/s for each. BENCH_MESSAGES (default 2000) sets the mailbox size.
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"

"$ROOT/scripts/setup.sh" --bench
cd "$ROOT"
npm run --silent build

BENCH_DIR="$DATA_DIR/bench"
rm -rf "$BENCH_DIR"; mkdir -p "$BENCH_DIR"
export DOVECOT_POP3_PORT=31110 DOVECOT_POP3S_PORT=31995 DOVECOT_IMAP_PORT=31143 DOVECOT_IMAPS_PORT=31993 DOVECOT_LMTP_PORT=31024
cleanup() {
  "$ROOT/scripts/dovecot.sh" stop "$BENCH_DIR/dovecot" || true
  "$ROOT/scripts/temporal.sh" stop "$BENCH_DIR/temporal" || true
  "$ROOT/scripts/postgres.sh" stop "$BENCH_DIR/postgres" || true
}
trap cleanup EXIT

# A durable database (fsync on), as in production: fetchmail's LMTP target fsyncs too.
MAILPULL_TEST_DATABASE_URL="$("$ROOT/scripts/postgres.sh" start "$BENCH_DIR/postgres" 35432)"
"$ROOT/scripts/temporal.sh" start "$BENCH_DIR/temporal" 37233 38233
"$ROOT/scripts/dovecot.sh" start "$BENCH_DIR/dovecot"
export MAILPULL_TEST_DATABASE_URL MAILPULL_TEST_TEMPORAL_ADDRESS=127.0.0.1:37233 MAILPULL_TEST_DOVECOT_DIR="$BENCH_DIR/dovecot"

node dist/bench/pop3-vs-fetchmail.js

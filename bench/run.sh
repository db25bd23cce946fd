#!/usr/bin/env bash
# Benchmarks mailpull against Debian's fetchmail (POP3, IMAP) and getmail6 (IMAP) on the same private Dovecot, in one run.
# Prints seconds, messages/s and MB/s for each. BENCH_MESSAGES (default 2000) sets the mailbox size.
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"

"$ROOT/scripts/setup.sh" --bench
cd "$ROOT"
npm run --silent build

BENCH_DIR="$DATA_DIR/bench"
rm -rf "$BENCH_DIR"; mkdir -p "$BENCH_DIR"
trap 'stop_test_servers "$BENCH_DIR"' EXIT
# A durable database (fsync on), as in production: fetchmail's LMTP target fsyncs too.
start_test_servers "$BENCH_DIR" 30000 on

node dist/bench/collect-vs-peers.js

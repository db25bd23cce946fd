#!/usr/bin/env bash
# Benchmarks mailpull against raw POP3/IMAP loops over TLS (the wire's limit) and Debian's fetchmail
# and getmail6 (POP3, IMAP) on the same private Dovecot, in one run; then a 50 MiB message with the
# worker's RSS. Prints seconds, messages/s and MB/s for each, and the ratios; beside mailpull's rows,
# the Temporal actions and workflow tasks of its collecting (first) cycle and of an idle one after
# it, and where the collecting cycle's time went. BENCH_MESSAGES (default 2000) sets the mailbox
# size; BENCH_PEERS=0, BENCH_LARGE=0 and BENCH_PROTOCOLS=pop3|imap leave parts out (docs/development.md).
# The private servers listen on ports offset by MAILPULL_TEST_PORT_BASE (default 30000).
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"

# A durable database (fsync on), as in production: fetchmail's LMTP target fsyncs too.
start_bench_servers bench --bench "${MAILPULL_TEST_PORT_BASE:-30000}"
cd "$ROOT"
node dist/bench/collect-vs-peers.js

#!/usr/bin/env bash
# Benchmarks mailpull against Debian's fetchmail (POP3, IMAP) and getmail6 (IMAP) on the same private Dovecot, in one run.
# Prints seconds, messages/s and MB/s for each. BENCH_MESSAGES (default 2000) sets the mailbox size.
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"

# A durable database (fsync on), as in production: fetchmail's LMTP target fsyncs too.
start_bench_servers bench --bench 30000
cd "$ROOT"
node dist/bench/collect-vs-peers.js

#!/usr/bin/env bash
# The scale run: SCALE_ACCOUNTS (1000) Dovecot users with SCALE_MESSAGES (3) messages each and as
# many external accounts created through the API on one worker, then SCALE_INTERVALS (2) intervals
# of SCALE_INTERVAL_SECONDS (300) with a new message in every mailbox each; Connect Now timed for
# SCALE_CONNECT_SAMPLE (50) accounts. SCALE_PUSH_ACCOUNTS (60) IMAP accounts use push, with an IDLE
# budget of SCALE_IDLE_BUDGET (40). The worker's own MAILPULL_* variables pass through.
# Prints a Markdown table and writes it to .data/bench/. The private servers listen on ports
# offset by MAILPULL_TEST_PORT_BASE (default 33000).
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"

# fsync on, as in production
start_bench_servers scale --test "${MAILPULL_TEST_PORT_BASE:-33000}"
cd "$ROOT"
node dist/bench/scale.js

#!/usr/bin/env bash
# The scale run: SCALE_ACCOUNTS (1000) Dovecot users with SCALE_MESSAGES (3) messages each and as
# many external accounts created through the API on one worker, then SCALE_INTERVALS (2) intervals
# of SCALE_INTERVAL_SECONDS (300) with a new message in every mailbox each; Connect Now timed for
# SCALE_CONNECT_SAMPLE (50) accounts. The intervals start once every account finished its first
# cycle, or after SCALE_FIRST_WAIT_SECONDS (900). SCALE_PUSH_ACCOUNTS (60) IMAP accounts use push,
# with an IDLE budget of SCALE_IDLE_BUDGET (40). The worker's own MAILPULL_* variables pass through;
# SCALE_TEMPORAL_ARGS are options for the Temporal dev server (see below). SCALE_TLS=plain: the
# accounts connect without TLS (default: STARTTLS checked against the test CA, as the tests do).
# Prints a Markdown table and writes it (and the worker's samples) to .data/bench/. The private
# servers listen on ports offset by MAILPULL_TEST_PORT_BASE (default 33000).
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"

base=${MAILPULL_TEST_PORT_BASE:-33000}
# fsync on, as in production
start_bench_servers scale --test "$base"
# The Temporal dev server again on the same file, with SCALE_TEMPORAL_ARGS: by default its SQLite
# in WAL mode, without which it failed most persistence writes past a few hundred accounts here
# (docs/operations.md, Scaling out). SCALE_TEMPORAL_ARGS= (empty) measures it as npm start runs it.
temporal_args=${SCALE_TEMPORAL_ARGS---sqlite-pragma journal_mode=wal --sqlite-pragma synchronous=normal}
if [ -n "$temporal_args" ]; then
  # shellcheck disable=SC2086 # the options are words
  "$ROOT/scripts/temporal.sh" start "$BENCH_RUN_DIR/temporal" $((base + 7233)) $((base + 8233)) $temporal_args
fi
export SCALE_TEMPORAL_ARGS_USED="$temporal_args"
cd "$ROOT"
node dist/bench/scale.js

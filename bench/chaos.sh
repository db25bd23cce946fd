#!/usr/bin/env bash
# The chaos run: accounts collect while the worker is killed, Postgres, Temporal and Dovecot
# restart, Postgres and Temporal hang (SIGSTOP, SIGCONT later) at random and transfers are cut;
# then checks nothing was lost, duplicated or removed from a server before it was stored. Stops
# by itself. Set by CHAOS_ACCOUNTS (20), CHAOS_MESSAGES (2000), CHAOS_SECONDS of faults (180),
# CHAOS_GAP_MIN_MS/CHAOS_GAP_MAX_MS between faults (2000/8000), CHAOS_STOP_MIN_MS/CHAOS_STOP_MAX_MS
# a stopped server stays stopped (5000/60000), CHAOS_SETTLE_SECONDS (300), CHAOS_FAULTS
# (comma-separated kinds, default all),
# CHAOS_LOG_DIR (each worker process's output; default a new directory in /tmp).
# The private servers listen on ports offset by MAILPULL_TEST_PORT_BASE (default 40000).
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"

# fsync on: the restarts must find what was committed, as in production
start_bench_servers chaos --test "${MAILPULL_TEST_PORT_BASE:-40000}"
cd "$ROOT"
node dist/bench/chaos.js

#!/usr/bin/env bash
# The scale run, in one or two configurations, their figures side by side:
#   npm run bench:scale                                   both configurations, 1,000 accounts
#   SCALE_ACCOUNTS=10000 npm run bench:scale              the issue's figures (the lead's run, on a quiet machine)
#   SCALE_CONFIG=dev|cluster|both (both)  which Temporal:
#     dev      the Temporal dev server (SQLite), as npm start runs it; SCALE_WORKERS (1) workers,
#              SCALE_INTERVAL_SECONDS (600) between cycles
#     cluster  the Temporal server on PostgreSQL, as npm run start:cluster runs it (scripts/temporal-server.sh,
#              the Go build cached by scripts/setup.sh --cluster); SCALE_WORKERS (2) workers,
#              SCALE_INTERVAL_SECONDS (300)
#   SCALE_WORKERS and SCALE_INTERVAL_SECONDS, when set, hold for every configuration.
# Each configuration: SCALE_ACCOUNTS (1000) Dovecot users with SCALE_MESSAGES (3) messages each and
# as many external accounts created through the API, then SCALE_INTERVALS (2) intervals with a new
# message in every mailbox each; Connect Now timed for SCALE_CONNECT_SAMPLE (50) accounts. The
# intervals start once every account finished its first cycle, or after SCALE_FIRST_WAIT_SECONDS
# (900). SCALE_PUSH_ACCOUNTS (60) IMAP accounts use push, with an IDLE budget of SCALE_IDLE_BUDGET
# (40). Actions, workflow tasks and lateness per cycle come from the histories of
# SCALE_HISTORY_SAMPLE (20) accounts; CPU per cycle of the workers, Temporal, PostgreSQL and Dovecot
# from /proc over the intervals. The worker's own MAILPULL_* variables pass through (e.g.
# MAILPULL_MAX_CACHED_WORKFLOWS); SCALE_TEMPORAL_ARGS are options for the dev server (see below).
# SCALE_TLS=plain: the accounts connect without TLS (default: STARTTLS checked against the test CA).
# SCALE_PG_MAX_CONNECTIONS (300, as docker-compose.yml): PostgreSQL's max_connections.
# Prints a Markdown table per configuration and, for both, one side by side; writes them (and the
# workers' samples) to .data/bench/. Every configuration gets fresh servers under .data/scale-NAME,
# on ports offset by MAILPULL_TEST_PORT_BASE (default 23000: the cluster's Temporal takes
# base + 7233 and the ports near it, which must stay below 32768), stopped when it ends or fails.
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"

base=${MAILPULL_TEST_PORT_BASE:-23000}
case "${SCALE_CONFIG:-both}" in
  dev) configs=(dev) ;;
  cluster) configs=(cluster) ;;
  both) configs=(dev cluster) ;;
  *) log "SCALE_CONFIG must be dev, cluster or both, got '$SCALE_CONFIG'"; exit 2 ;;
esac
"$ROOT/scripts/setup.sh" --test
cd "$ROOT"
npm run --silent build

run_dir="" node_pid=""
# the run's node process (which stops its workers) and then the servers, however the script ends
cleanup() {
  if [ -n "$node_pid" ] && kill -0 "$node_pid" 2>/dev/null; then kill "$node_pid"; wait "$node_pid" || true; fi
  [ -z "$run_dir" ] || stop_test_servers "$run_dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
stamp=$(date -u +%Y-%m-%dT%H-%M-%SZ)
mkdir -p "$DATA_DIR/bench"
results=()
for config in "${configs[@]}"; do
  run_dir="$DATA_DIR/scale-$config"
  rm -rf "$run_dir"; mkdir -p "$run_dir"
  # fsync on, as in production; the cluster's Temporal keeps connection pools of its own
  MAILPULL_PG_MAX_CONNECTIONS=${SCALE_PG_MAX_CONNECTIONS:-300} start_test_servers "$run_dir" "$base" on
  if [ "$config" = dev ]; then
    # The dev server again on the same file, with SCALE_TEMPORAL_ARGS: by default its SQLite in WAL
    # mode, without which it failed most persistence writes past a few hundred accounts here
    # (docs/operations.md, Scaling out). SCALE_TEMPORAL_ARGS= (empty) measures it as npm start runs it.
    temporal_args=${SCALE_TEMPORAL_ARGS---sqlite-pragma journal_mode=wal --sqlite-pragma synchronous=normal}
    if [ -n "$temporal_args" ]; then
      # shellcheck disable=SC2086 # the options are words
      "$ROOT/scripts/temporal.sh" start "$run_dir/temporal" $((base + 7233)) $((base + 8233)) $temporal_args
    fi
    temporal_pidfile="$run_dir/temporal/temporal.pid" workers=1 interval=600
  else
    # no dev server beside it: its CPU would count against the cluster's machine
    "$ROOT/scripts/temporal.sh" stop "$run_dir/temporal"
    "$ROOT/scripts/temporal-server.sh" start "$MAILPULL_TEST_CLUSTER_DIR" "$MAILPULL_TEST_CLUSTER_PORT" "$MAILPULL_TEST_DATABASE_URL"
    export MAILPULL_TEST_TEMPORAL_ADDRESS="127.0.0.1:$MAILPULL_TEST_CLUSTER_PORT"
    temporal_args="" temporal_pidfile="$MAILPULL_TEST_CLUSTER_DIR/temporal-server.pid" workers=2 interval=300
  fi
  result="$DATA_DIR/bench/scale-$stamp-$config.json"
  # in the background: a signal to this script is then handled at once (cleanup), not after the run
  SCALE_CONFIG_NAME=$config SCALE_WORKERS=${SCALE_WORKERS:-$workers} \
    SCALE_INTERVAL_SECONDS=${SCALE_INTERVAL_SECONDS:-$interval} SCALE_TEMPORAL_ARGS_USED="$temporal_args" \
    SCALE_TEMPORAL_PIDFILE="$temporal_pidfile" SCALE_PG_PIDFILE="$MAILPULL_TEST_PG_DIR/data/postmaster.pid" \
    SCALE_DOVECOT_PIDFILE="$MAILPULL_TEST_DOVECOT_DIR/run/master.pid" SCALE_RESULT_FILE="$result" \
    node "$ROOT/dist/bench/scale.js" &
  node_pid=$!
  wait "$node_pid"
  node_pid=""
  results+=("$result")
  stop_test_servers "$run_dir"
  run_dir=""
done
if [ "${#results[@]}" -gt 1 ]; then
  node "$ROOT/dist/bench/scale-table.js" "$DATA_DIR/bench/scale-$stamp.md" "${results[@]}"
fi

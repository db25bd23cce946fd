#!/usr/bin/env bash
# Quick start: installs what is missing, then runs the whole system on 127.0.0.1 until Ctrl-C.
#   scripts/start.sh            (npm start) the embedded default: Temporal dev server + Web UI,
#                               PostgreSQL, a worker and the API
#   scripts/start.sh --cluster  (npm run start:cluster) the production engine: the Temporal server
#                               built from Go source on that PostgreSQL (scripts/temporal-server.sh,
#                               as docker-compose.yml runs it), two workers and the API
# Both keep mailpull's data in the same PostgreSQL under $DATA_DIR; each engine has its own state.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

cluster=0
case "${1:-}" in
  '') ;;
  --cluster) cluster=1 ;;
  *) log "unknown option $1"; exit 2 ;;
esac

PG_PORT=${MAILPULL_PG_PORT:-15432}
TEMPORAL_PORT=${MAILPULL_TEMPORAL_PORT:-7233}
TEMPORAL_UI_PORT=${MAILPULL_TEMPORAL_UI_PORT:-8233}
export API_PORT=${API_PORT:-8080} API_HOST=127.0.0.1
# The embedded default may collect from and deliver to servers on this machine (loopback); any other
# internal network, and unix sockets, only when MAILPULL_ALLOWED_NETWORKS / _SOCKET_DIRS say so.
export MAILPULL_ALLOWED_NETWORKS=${MAILPULL_ALLOWED_NETWORKS-127.0.0.0/8,::1}
# The Temporal server has no Web UI of its own (docker-compose.yml runs temporalio/ui beside it).
[ "$cluster" = 1 ] || export MAILPULL_TEMPORAL_UI_URL=${MAILPULL_TEMPORAL_UI_URL-http://127.0.0.1:$TEMPORAL_UI_PORT}
# Log lines for a person at a terminal; production logs JSON (docs/configuration.md).
export MAILPULL_LOG_FORMAT=${MAILPULL_LOG_FORMAT:-pretty}

if [ "$cluster" = 1 ]; then "$ROOT/scripts/setup.sh" --cluster; else "$ROOT/scripts/setup.sh"; fi
(cd "$ROOT" && npm run --silent build)
mkdir -p "$DATA_DIR"
# The embedded default keeps its own secret key; production passes one (the processes refuse to start without).
if [ -z "${MAILPULL_SECRET_KEY:-}${MAILPULL_SECRET_KEY_FILE:-}" ]; then
  [ -s "$DATA_DIR/secret-keys" ] || (umask 077; openssl rand -base64 32 > "$DATA_DIR/secret-keys")
  export MAILPULL_SECRET_KEY_FILE="$DATA_DIR/secret-keys"
fi

supervisor=""
cleanup() {
  trap - INT TERM EXIT
  log "stopping"
  # The supervisor gives the worker and the API 7 s to finish, then kills them.
  if [ -n "$supervisor" ]; then kill "$supervisor" 2>/dev/null || true; wait "$supervisor" 2>/dev/null || true; fi
  "$ROOT/scripts/temporal.sh" stop "$DATA_DIR/temporal" &
  "$ROOT/scripts/temporal-server.sh" stop "$DATA_DIR/temporal-server" &
  wait
  # after the Temporal server, whose database it is
  "$ROOT/scripts/postgres.sh" stop "$DATA_DIR/postgres"
}
trap cleanup INT TERM EXIT

DATABASE_URL="$("$ROOT/scripts/postgres.sh" start "$DATA_DIR/postgres" "$PG_PORT")"
export DATABASE_URL
if [ "$cluster" = 1 ]; then
  log "starting the Temporal server on PostgreSQL (log: $DATA_DIR/temporal-server/temporal-server.log)"
  "$ROOT/scripts/temporal-server.sh" start "$DATA_DIR/temporal-server" "$TEMPORAL_PORT" "$DATABASE_URL"
  workers=(worker-1="$ROOT/dist/worker/main.js" worker-2="$ROOT/dist/worker/main.js")
  temporal_line="Temporal     127.0.0.1:$TEMPORAL_PORT (Temporal server $TEMPORAL_SERVER_VERSION on PostgreSQL, no Web UI)"
else
  "$ROOT/scripts/temporal.sh" start "$DATA_DIR/temporal" "$TEMPORAL_PORT" "$TEMPORAL_UI_PORT"
  workers=(worker="$ROOT/dist/worker/main.js")
  temporal_line="Temporal UI  http://127.0.0.1:$TEMPORAL_UI_PORT"
fi
export TEMPORAL_ADDRESS="127.0.0.1:$TEMPORAL_PORT"

# The workers and the API run under a supervisor that restarts any that exits (with backoff).
node "$ROOT/dist/worker/supervise.js" "${workers[@]}" api="$ROOT/dist/api/main.js" &
supervisor=$!
wait_for_port "$API_PORT" "the API"
# A first admin token, so the API can be used at once; more with scripts/mailpull.sh tokens create.
if [ ! -s "$DATA_DIR/api-token" ]; then
  (umask 077; node "$ROOT/dist/cli/main.js" tokens create --name "embedded default admin" > "$DATA_DIR/api-token")
fi

cat <<MSG

  mailpull is running (data in $DATA_DIR)
    API          http://127.0.0.1:$API_PORT      (see docs/api.md)
    API token    $DATA_DIR/api-token   (curl -H "Authorization: Bearer \$(cat $DATA_DIR/api-token)" ...)
    Metrics      http://127.0.0.1:$API_PORT/metrics   (Prometheus; with the API token, see docs/operations.md)
    $temporal_line
    Postgres     127.0.0.1:$PG_PORT (password in $DATA_DIR/postgres/password)
  Ctrl-C stops everything.

MSG
# Until Ctrl-C or SIGTERM; the supervisor ends only when told to.
wait "$supervisor" || true

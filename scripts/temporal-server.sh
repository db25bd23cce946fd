#!/usr/bin/env bash
# The Temporal server as production runs it — the temporal-server binary on PostgreSQL, built by
# scripts/setup.sh --cluster — with what docker-compose.yml runs around it: the configuration
# template of the temporalio/server image, read through the same variables, the same schema job
# (scripts/temporal-schema.sh) and namespace job (scripts/temporal-namespace.sh).
#   scripts/temporal-server.sh start DIR PORT DATABASE_URL [TLS_DIR]
#     PORT      the frontend's gRPC port on 127.0.0.1; the other services take PORT+1, +2, +6, +10
#               and their membership ports PORT-300, -299, -298, -294 (7233: Temporal's usual ports)
#     DATABASE_URL  postgres://USER:PASSWORD@HOST:PORT/DB of a role that may create databases:
#               Temporal's own databases, temporal and temporal_visibility, are made beside DB
#     TLS_DIR   ca.pem, server.pem, server.key: the frontend and the services between themselves
#               speak TLS and require a client certificate signed by ca.pem (mutual TLS)
#   scripts/temporal-server.sh stop DIR
# Writes its log to DIR/temporal-server.log.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

cmd=${1:?start|stop}; dir=${2:?directory}
mkdir -p "$dir"; dir="$(cd "$dir" && pwd)"

start() {
  local port=${1:?port} url=${2:?database url} tls_dir=${3:-}
  [ -x "$TEMPORAL_SERVER_DIR/temporal-server" ] || { log "no Temporal server in $TEMPORAL_SERVER_DIR: run scripts/setup.sh --cluster"; exit 1; }
  stop_pidfile "$dir/temporal-server.pid"
  if [[ ! "$url" =~ ^postgres(ql)?://([^:@/]+):([^@/]*)@([^:/]+):([0-9]+)/ ]]; then
    log "the database URL must read postgres://USER:PASSWORD@HOST:PORT/DB"; exit 2
  fi
  # the variables of the server's configuration template, as docker-compose.yml sets them
  export DB=postgres12 POSTGRES_USER="${BASH_REMATCH[2]}" POSTGRES_PWD="${BASH_REMATCH[3]}"
  export POSTGRES_SEEDS="${BASH_REMATCH[4]}" DB_PORT="${BASH_REMATCH[5]}" DBNAME=temporal VISIBILITY_DBNAME=temporal_visibility
  export BIND_ON_IP=127.0.0.1 TEMPORAL_BROADCAST_ADDRESS=127.0.0.1 LOG_LEVEL=warn
  export FRONTEND_GRPC_PORT=$port HISTORY_GRPC_PORT=$((port + 1)) MATCHING_GRPC_PORT=$((port + 2))
  export WORKER_GRPC_PORT=$((port + 6)) FRONTEND_HTTP_PORT=$((port + 10))
  export FRONTEND_MEMBERSHIP_PORT=$((port - 300)) HISTORY_MEMBERSHIP_PORT=$((port - 299))
  export MATCHING_MEMBERSHIP_PORT=$((port - 298)) WORKER_MEMBERSHIP_PORT=$((port - 294))
  # the server stores membership ports in a smallint column: one above 32767 stops it at start
  if [ "$((port + 10))" -gt 32767 ]; then
    log "the Temporal server's port $port is too high: its services' ports must stay below 32768"; exit 2
  fi
  for p in "$FRONTEND_GRPC_PORT" "$HISTORY_GRPC_PORT" "$MATCHING_GRPC_PORT" "$WORKER_GRPC_PORT" "$FRONTEND_HTTP_PORT" \
    "$FRONTEND_MEMBERSHIP_PORT" "$HISTORY_MEMBERSHIP_PORT" "$MATCHING_MEMBERSHIP_PORT" "$WORKER_MEMBERSHIP_PORT"; do
    port_free "$p" "the Temporal server"
  done
  # The image renders this template with dockerize (.Env.NAME, `default VALUE FALLBACK`); the server
  # renders a file marked enable-template itself, with sprig's functions (env "NAME", `default
  # FALLBACK VALUE`): the same template, rewritten to that syntax.
  mkdir -p "$dir/config"
  { echo '# enable-template'
    perl -pe 's/default \.Env\.([A-Z0-9_]+) ("[^"]*"|\$[A-Za-z_]+)/default $2 (env "$1")/g; s/\.Env\.([A-Z0-9_]+)/(env "$1")/g' \
      "$TEMPORAL_SERVER_DIR/config/config_template.yaml"
  } > "$dir/config/docker.yaml"
  cp "$TEMPORAL_SERVER_DIR/config/dynamicconfig.yaml" "$dir/config/dynamicconfig.yaml"
  export DYNAMIC_CONFIG_FILE_PATH="$dir/config/dynamicconfig.yaml"
  # the namespace job talks to the frontend like any client (scripts/temporal-namespace.sh)
  export TEMPORAL_ADDRESS="127.0.0.1:$port"
  unset TEMPORAL_API_KEY TEMPORAL_TLS TEMPORAL_TLS_CLIENT_CERT_PATH TEMPORAL_TLS_CLIENT_KEY_PATH TEMPORAL_TLS_SERVER_CA_CERT_PATH TEMPORAL_TLS_SERVER_NAME
  if [ -n "$tls_dir" ]; then
    tls_dir="$(cd "$tls_dir" && pwd)"
    export TEMPORAL_TLS_REQUIRE_CLIENT_AUTH=true TEMPORAL_TLS_SERVER_CA_CERT="$tls_dir/ca.pem"
    export TEMPORAL_TLS_SERVER_CERT="$tls_dir/server.pem" TEMPORAL_TLS_SERVER_KEY="$tls_dir/server.key"
    export TEMPORAL_TLS_FRONTEND_CERT="$tls_dir/server.pem" TEMPORAL_TLS_FRONTEND_KEY="$tls_dir/server.key"
    export TEMPORAL_TLS_CLIENT1_CA_CERT="$tls_dir/ca.pem" TEMPORAL_TLS_CLIENT2_CA_CERT="$tls_dir/ca.pem"
    export TEMPORAL_TLS_INTERNODE_SERVER_NAME=localhost TEMPORAL_TLS_FRONTEND_SERVER_NAME=localhost
    # the services' own certificate is a client certificate of that CA too (the system worker uses it)
    export TEMPORAL_TLS_CLIENT_CERT_PATH="$tls_dir/server.pem" TEMPORAL_TLS_CLIENT_KEY_PATH="$tls_dir/server.key"
    export TEMPORAL_TLS_SERVER_CA_CERT_PATH="$tls_dir/ca.pem" TEMPORAL_TLS_SERVER_NAME=localhost
  fi

  TEMPORAL_SQL_TOOL="$TEMPORAL_SERVER_DIR/temporal-sql-tool" TEMPORAL_SCHEMA_DIR="$TEMPORAL_SERVER_DIR/schema" \
    sh "$ROOT/scripts/temporal-schema.sh" >>"$dir/temporal-server.log" 2>&1 ||
    { log "Temporal's schema job failed (see $dir/temporal-server.log)"; tail -n 5 "$dir/temporal-server.log" >&2; exit 1; }
  "$TEMPORAL_SERVER_DIR/temporal-server" --root "$dir" --config config --env docker --allow-no-auth start \
    >>"$dir/temporal-server.log" 2>&1 &
  local pid=$!
  echo "$pid" > "$dir/temporal-server.pid"
  for _ in $(seq 600); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || { log "the Temporal server stopped (see $dir/temporal-server.log)"; tail -n 5 "$dir/temporal-server.log" >&2; exit 1; }
    sleep 0.2
  done
  wait_for_port "$port" "the Temporal server" 1
  TEMPORAL_CLI="$TEMPORAL_BIN" TEMPORAL_NAMESPACE=default MAILPULL_SEARCH_ATTRIBUTES="$MAILPULL_SEARCH_ATTRIBUTES" \
    sh "$ROOT/scripts/temporal-namespace.sh" >>"$dir/temporal-server.log" 2>&1 ||
    { log "Temporal's namespace job failed (see $dir/temporal-server.log)"; tail -n 5 "$dir/temporal-server.log" >&2; exit 1; }
}

case "$cmd" in
  start) shift 2; start "$@" ;;
  stop) stop_pidfile "$dir/temporal-server.pid" ;;
  *) log "unknown command $cmd"; exit 2 ;;
esac

#!/usr/bin/env bash
# The Temporal dev server (SQLite file in DIR, so state survives restarts) with its Web UI.
#   scripts/temporal.sh start DIR PORT UI_PORT [extra start-dev options]
#   scripts/temporal.sh stop DIR
#   scripts/temporal.sh restart DIR     stops it by pid, starts it again with the same options
set -euo pipefail
source "$(dirname "$0")/lib.sh"

cmd=${1:?start|stop}; dir=${2:?directory}
mkdir -p "$dir"; dir="$(cd "$dir" && pwd)"

start() {
  port=${1:?port}; ui_port=${2:?ui port}; shift 2
  stop_pidfile "$dir/temporal.pid"
  printf '%s\n' "$port" "$ui_port" "$@" > "$dir/start-options"
  local attributes=()
  for name in $MAILPULL_SEARCH_ATTRIBUTES; do attributes+=(--search-attribute "$name=Keyword"); done
  "$TEMPORAL_BIN" server start-dev --ip 127.0.0.1 --port "$port" --ui-port "$ui_port" \
    --db-filename "$dir/temporal.db" --log-level warn "${attributes[@]}" "$@" >>"$dir/temporal.log" 2>&1 &
  echo $! > "$dir/temporal.pid"
  wait_for_port "$port" "Temporal" 300
  # the frontend opens its port before the default namespace is ready
  for _ in $(seq 100); do
    "$TEMPORAL_BIN" operator namespace describe --address "127.0.0.1:$port" -n default >/dev/null 2>&1 && break
    sleep 0.2
  done
}

case "$cmd" in
  start) shift 2; start "$@" ;;
  restart)
    [ -f "$dir/start-options" ] || { log "no Temporal server was started in $dir"; exit 1; }
    mapfile -t options < "$dir/start-options"
    start "${options[@]}"
    ;;
  stop) stop_pidfile "$dir/temporal.pid" ;;
  *) log "unknown command $cmd"; exit 2 ;;
esac

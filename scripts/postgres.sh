#!/usr/bin/env bash
# A private PostgreSQL server whose data lives in DIR, listening on 127.0.0.1:PORT.
#   scripts/postgres.sh start DIR PORT   initialises DIR on first use, starts, prints DATABASE_URL
#   scripts/postgres.sh stop DIR         stops the server started in DIR
#   scripts/postgres.sh restart DIR      fast restart (connections cut) with the same options
set -euo pipefail
source "$(dirname "$0")/lib.sh"

cmd=${1:?start|stop}; dir=${2:?directory}
mkdir -p "$dir"; dir="$(cd "$dir" && pwd)"
user=mailpull

start() {
  local port=${1:?port}
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    mkdir -p "$dir/data" "$dir/run"
    [ -f "$dir/password" ] || (umask 077; openssl rand -hex 24 > "$dir/password")
    [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$dir/data" "$dir/run" "$dir/password"
    as_pg_user "$PG_BIN/initdb" -D "$dir/data" -U "$user" --pwfile="$dir/password" \
      --auth-host=scram-sha-256 --auth-local=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  as_pg_user "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/run/postgres.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir/run -c fsync=${MAILPULL_PG_FSYNC:-on} -c max_connections=${MAILPULL_PG_MAX_CONNECTIONS:-300}" start >/dev/null
  local password; password=$(cat "$dir/password")
  export PGPASSWORD="$password"
  if ! psql -h 127.0.0.1 -p "$port" -U "$user" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='mailpull'" | grep -q 1; then
    psql -h 127.0.0.1 -p "$port" -U "$user" -d postgres -qc "CREATE DATABASE mailpull" >/dev/null
  fi
  echo "postgres://$user:$password@127.0.0.1:$port/mailpull"
}

stop() {
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_pg_user "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
  fi
}

restart() {
  as_pg_user "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/run/postgres.log" -m fast -w -t 60 restart >/dev/null
}

case "$cmd" in
  start) start "${3:-}" ;;
  stop) stop ;;
  restart) restart ;;
  *) log "unknown command $cmd"; exit 2 ;;
esac

# Shared paths and helpers for the infrastructure scripts. Sourced, never run.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA_DIR="${MAILPULL_DATA_DIR:-$ROOT/.data}"
CACHE_DIR="${MAILPULL_CACHE_DIR:-$HOME/.cache/mailpull}"
TEMPORAL_CLI_VERSION="v1.5.1"
# the server and UI that CLI embeds (go version -m); docker-compose.yml runs the same versions
TEMPORAL_SERVER_VERSION="1.29.1"
TEMPORAL_UI_VERSION="2.42.1"
# the account workflow's search attributes (workflows/search-attributes.ts), all of type Keyword
MAILPULL_SEARCH_ATTRIBUTES="MailpullName MailpullOwner MailpullHost MailpullProtocol MailpullState"
TEMPORAL_BIN="$CACHE_DIR/temporal-$TEMPORAL_CLI_VERSION/temporal"
PG_BIN="${MAILPULL_PG_BIN:-/usr/lib/postgresql/15/bin}"

log() { printf '[mailpull] %s\n' "$*" >&2; }

# Runs a command as the postgres OS user when we are root (postgres refuses to run as root).
as_pg_user() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Waits until a TCP port on 127.0.0.1 accepts connections.
wait_for_port() {
  local port=$1 what=$2 tries=${3:-150}
  for _ in $(seq "$tries"); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  log "$what did not open port $port"
  return 1
}

# Stops a process we started, by the pid in the given file.
stop_pidfile() {
  local file=$1 pid
  [ -f "$file" ] || return 0
  pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

# Starts the private servers of a test or benchmark run under DIR — PostgreSQL, the Temporal dev
# server and Dovecot — on ports offset by BASE (20000: PostgreSQL 25432, Temporal 27233, UI 28233,
# POP3 21110, POP3S 21995, IMAP 21143, IMAPS 21993, LMTP 21024, OAuth2 introspection 21080). Further
# arguments go to Temporal.
# Exports what the tests read (the fault helpers restart the servers in MAILPULL_TEST_PG_DIR,
# MAILPULL_TEST_TEMPORAL_DIR and MAILPULL_TEST_DOVECOT_DIR); stop_test_servers DIR stops them again.
start_test_servers() {
  local dir=$1 base=$2 pg_fsync=$3; shift 3
  export DOVECOT_POP3_PORT=$((base + 1110)) DOVECOT_POP3S_PORT=$((base + 1995)) DOVECOT_IMAP_PORT=$((base + 1143))
  export DOVECOT_IMAPS_PORT=$((base + 1993)) DOVECOT_LMTP_PORT=$((base + 1024)) DOVECOT_OAUTH2_PORT=$((base + 1080))
  MAILPULL_TEST_DATABASE_URL="$(MAILPULL_PG_FSYNC=$pg_fsync "$ROOT/scripts/postgres.sh" start "$dir/postgres" $((base + 5432)))"
  "$ROOT/scripts/temporal.sh" start "$dir/temporal" $((base + 7233)) $((base + 8233)) "$@"
  "$ROOT/scripts/dovecot.sh" start "$dir/dovecot"
  export MAILPULL_TEST_DATABASE_URL MAILPULL_TEST_TEMPORAL_ADDRESS="127.0.0.1:$((base + 7233))" MAILPULL_TEST_DOVECOT_DIR="$dir/dovecot"
  export MAILPULL_TEST_PG_DIR="$dir/postgres" MAILPULL_TEST_TEMPORAL_DIR="$dir/temporal"
}

# For benchmarks: installs what is missing (setup.sh SETUP_FLAG), builds, and starts the private
# servers under $DATA_DIR/NAME on ports offset by BASE, PostgreSQL fsync on (as in production);
# they stop when the calling script exits.
start_bench_servers() {
  local name=$1 setup_flag=$2 base=$3
  "$ROOT/scripts/setup.sh" "$setup_flag"
  (cd "$ROOT" && npm run --silent build)
  BENCH_RUN_DIR="$DATA_DIR/$name"
  rm -rf "$BENCH_RUN_DIR"; mkdir -p "$BENCH_RUN_DIR"
  trap 'stop_test_servers "$BENCH_RUN_DIR"' EXIT
  start_test_servers "$BENCH_RUN_DIR" "$base" on
}

stop_test_servers() {
  local dir=$1
  "$ROOT/scripts/dovecot.sh" stop "$dir/dovecot" || true
  "$ROOT/scripts/temporal.sh" stop "$dir/temporal" || true
  "$ROOT/scripts/postgres.sh" stop "$dir/postgres" || true
}

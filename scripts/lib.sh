# Shared paths and helpers for the infrastructure scripts. Sourced, never run.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA_DIR="${MAILPULL_DATA_DIR:-$ROOT/.data}"
CACHE_DIR="${MAILPULL_CACHE_DIR:-$HOME/.cache/mailpull}"
TEMPORAL_CLI_VERSION="v1.5.1"
# the server and UI that CLI embeds (go version -m); docker-compose.yml runs the same versions
TEMPORAL_SERVER_VERSION="1.29.1"
TEMPORAL_UI_VERSION="2.42.1"
# the account workflow's search attributes (workflows/search-attributes.ts), all of type Keyword
MAILPULL_SEARCH_ATTRIBUTES="MailpullOwnerId MailpullDomainId MailpullHost MailpullProtocol MailpullState"
TEMPORAL_BIN="$CACHE_DIR/temporal-$TEMPORAL_CLI_VERSION/temporal"
# The Temporal server of that version as production runs it, built from its Go module source by
# scripts/setup.sh (--cluster, --test): temporal-server, temporal-sql-tool, and from the module the
# PostgreSQL schema files and the configuration template of the temporalio/server image.
TEMPORAL_SERVER_DIR="$CACHE_DIR/temporal-server-$TEMPORAL_SERVER_VERSION"
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

# Fails when something already listens on a TCP port of 127.0.0.1: a server about to start there
# would not, and waiting for the port would find the other one.
port_free() {
  local port=$1 what=$2
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then log "port $port for $what is taken"; return 1; fi
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

# A test CA and a server certificate for localhost and 127.0.0.1 under DIR (ca.pem, server.pem,
# server.key), made once.
ensure_test_tls() {
  local dir=$1
  [ -f "$dir/ca.pem" ] && return 0
  mkdir -p "$dir"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=mailpull test CA" \
    -keyout "$dir/ca.key" -out "$dir/ca.pem" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$dir/server.key" \
    -out "$dir/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' > "$dir/ext.cnf"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
    -CAcreateserial -days 3650 -extfile "$dir/ext.cnf" -out "$dir/server.pem" 2>/dev/null
}

# Debian's Cyrus and Courier servers conflict with its Dovecot (all provide imap-server), so the
# tests run them from their packages unpacked under $CACHE_DIR/NAME/root, never installed.
OTHER_SERVER_PACKAGES_cyrus="cyrus-common cyrus-imapd cyrus-pop3d sasl2-bin"
OTHER_SERVER_PACKAGES_courier="courier-base courier-imap courier-pop courier-authdaemon courier-authlib courier-authlib-userdb"
# the libraries they link that a Dovecot test machine lacks; installing them removes nothing
OTHER_SERVER_LIBRARIES="libpcre3 libxapian30 libical3 libidn12 libjansson4 libcourier-unicode4 libltdl7 libgamin0"
other_server_root() { printf '%s/%s/root' "$CACHE_DIR" "$1"; }

# Downloads and unpacks NAME's packages (cyrus or courier) once; the stamp names what is unpacked.
unpack_other_server() {
  local name=$1 packages var dir stamp
  var="OTHER_SERVER_PACKAGES_$name"; packages=${!var}
  dir="$CACHE_DIR/$name"; stamp="$dir/unpacked"
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$packages" ] && return 0
  log "unpacking $packages under $dir (not installed: they conflict with Dovecot)"
  rm -rf "$dir"; mkdir -p "$dir/debs" "$dir/root"
  # shellcheck disable=SC2086
  (cd "$dir/debs" && apt-get download -q $packages >/dev/null 2>&1) ||
    (cd "$dir/debs" && apt-get update -qq && apt-get download -q $packages >/dev/null)
  for deb in "$dir"/debs/*.deb; do dpkg -x "$deb" "$dir/root"; done
  echo "$packages" > "$stamp"
}

# Starts the private servers of a test or benchmark run under DIR — PostgreSQL, the Temporal dev
# server and Dovecot — on ports offset by BASE (20000: PostgreSQL 25432, Temporal 27233, UI 28233,
# POP3 21110, POP3S 21995, IMAP 21143, IMAPS 21993, LMTP 21024, OAuth2 introspection 21080). Further
# arguments go to Temporal.
# Exports what the tests read (the fault helpers restart the servers in MAILPULL_TEST_PG_DIR,
# MAILPULL_TEST_TEMPORAL_DIR and MAILPULL_TEST_DOVECOT_DIR; the cluster tests start the Temporal
# server in MAILPULL_TEST_CLUSTER_DIR on MAILPULL_TEST_CLUSTER_PORT, 27300 and 27000-27310 for its
# services); stop_test_servers DIR stops them again.
start_test_servers() {
  local dir=$1 base=$2 pg_fsync=$3; shift 3
  export DOVECOT_POP3_PORT=$((base + 1110)) DOVECOT_POP3S_PORT=$((base + 1995)) DOVECOT_IMAP_PORT=$((base + 1143))
  export DOVECOT_IMAPS_PORT=$((base + 1993)) DOVECOT_LMTP_PORT=$((base + 1024)) DOVECOT_OAUTH2_PORT=$((base + 1080))
  MAILPULL_TEST_DATABASE_URL="$(MAILPULL_PG_FSYNC=$pg_fsync "$ROOT/scripts/postgres.sh" start "$dir/postgres" $((base + 5432)))"
  "$ROOT/scripts/temporal.sh" start "$dir/temporal" $((base + 7233)) $((base + 8233)) "$@"
  "$ROOT/scripts/dovecot.sh" start "$dir/dovecot"
  export MAILPULL_TEST_DATABASE_URL MAILPULL_TEST_TEMPORAL_ADDRESS="127.0.0.1:$((base + 7233))" MAILPULL_TEST_DOVECOT_DIR="$dir/dovecot"
  export MAILPULL_TEST_PG_DIR="$dir/postgres" MAILPULL_TEST_TEMPORAL_DIR="$dir/temporal"
  export MAILPULL_TEST_CLUSTER_DIR="$dir/temporal-server" MAILPULL_TEST_CLUSTER_PORT=$((base + 7300))
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
  "$ROOT/scripts/temporal-server.sh" stop "$dir/temporal-server" || true
  "$ROOT/scripts/postgres.sh" stop "$dir/postgres" || true
}

#!/usr/bin/env bash
# Installs everything mailpull needs on a fresh Debian 12 machine; each step is skipped when done.
#   scripts/setup.sh            runtime parts: PostgreSQL, Temporal CLI, npm dependencies
#   scripts/setup.sh --cluster  plus the Temporal server and its SQL tool, built from Go source (npm run start:cluster)
#   scripts/setup.sh --test     plus the cluster parts, Dovecot (POP3, IMAP, LMTP), Java and Maven, Chromium and fetchmail
#                               for the test suite, and Cyrus and Courier unpacked (not installed) under the cache with the
#                               libraries they need
#   scripts/setup.sh --bench    plus getmail6 for the benchmarks
set -euo pipefail
source "$(dirname "$0")/lib.sh"

want_test=0; want_bench=0; want_cluster=0
for arg in "$@"; do
  case "$arg" in
    --cluster) want_cluster=1 ;;
    --test) want_test=1; want_cluster=1 ;;
    --bench) want_test=1; want_bench=1; want_cluster=1 ;;
    *) log "unknown option $arg"; exit 2 ;;
  esac
done

apt_packages=()
[ -x "$PG_BIN/postgres" ] || apt_packages+=(postgresql-15)
if [ "$want_test" = 1 ]; then
  # chromium and a font: the admin page's browser test drives Debian's headless Chromium
  # fetchmail: the rc file import is tested against its own reading (--configdump)
  for p in dovecot-pop3d dovecot-imapd dovecot-lmtpd openssl chromium fonts-dejavu-core fetchmail; do
    dpkg -s "$p" >/dev/null 2>&1 || apt_packages+=("$p")
  done
  # the workflow tests' time-skipping Temporal test server is the Java SDK's, fetched by Maven
  command -v java >/dev/null || apt_packages+=(openjdk-17-jre-headless)
  command -v mvn >/dev/null || apt_packages+=(maven)
  for p in $OTHER_SERVER_LIBRARIES; do
    dpkg -s "$p" >/dev/null 2>&1 || apt_packages+=("$p")
  done
fi
if [ "$want_bench" = 1 ]; then
  for p in getmail6; do
    dpkg -s "$p" >/dev/null 2>&1 || apt_packages+=("$p")
  done
fi

if [ "${#apt_packages[@]}" -gt 0 ]; then
  log "installing Debian packages: ${apt_packages[*]}"
  sudo_cmd=(); [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
  # Keep the packages' own services (system Dovecot on 110/143, a default Postgres cluster) from
  # starting: we run our own instances on loopback, and stop only what we started.
  policy=/usr/sbin/policy-rc.d
  added_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo_cmd[@]}" tee "$policy" >/dev/null
    "${sudo_cmd[@]}" chmod +x "$policy"; added_policy=1
  fi
  trap '[ "$added_policy" = 1 ] && "${sudo_cmd[@]}" rm -f "$policy"' EXIT
  "${sudo_cmd[@]}" apt-get update -qq
  # --no-remove: a package that would remove another (Dovecot above all) fails the setup instead
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-remove --no-install-recommends "${apt_packages[@]}" >/dev/null
fi

if [ "$want_test" = 1 ]; then
  unpack_other_server cyrus
  unpack_other_server courier
fi

if [ ! -x "$TEMPORAL_BIN" ]; then
  log "building the Temporal CLI $TEMPORAL_CLI_VERSION from its Go module source (cached in $CACHE_DIR)"
  command -v go >/dev/null || { log "Go is required to build the Temporal CLI"; exit 1; }
  mkdir -p "$(dirname "$TEMPORAL_BIN")"
  tmp_bin="$(mktemp -d)"
  (cd "$tmp_bin" && GOBIN="$tmp_bin" GOFLAGS=-trimpath go install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION")
  mv "$tmp_bin/temporal" "$TEMPORAL_BIN"
  rmdir "$tmp_bin"
fi

# The server and its SQL tool from the same module version; with them its PostgreSQL schema files
# and the configuration template its temporalio/server image renders (scripts/temporal-server.sh).
if [ "$want_cluster" = 1 ] && [ ! -x "$TEMPORAL_SERVER_DIR/temporal-server" ]; then
  log "building the Temporal server $TEMPORAL_SERVER_VERSION and temporal-sql-tool from their Go module source (cached in $CACHE_DIR; minutes)"
  command -v go >/dev/null || { log "Go is required to build the Temporal server"; exit 1; }
  module="go.temporal.io/server@v$TEMPORAL_SERVER_VERSION"
  tmp_server="$(mktemp -d)"
  (cd "$tmp_server" && GOBIN="$tmp_server/bin" GOFLAGS=-trimpath go install "go.temporal.io/server/cmd/server@v$TEMPORAL_SERVER_VERSION" \
    "go.temporal.io/server/cmd/tools/sql@v$TEMPORAL_SERVER_VERSION")
  source_dir="$(cd "$tmp_server" && go mod download -json "$module" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [ -d "$source_dir/schema/postgresql/v12" ] || { log "no schema files in the source of $module"; exit 1; }
  mkdir -p "$tmp_server/out/config"
  mv "$tmp_server/bin/server" "$tmp_server/out/temporal-server"
  mv "$tmp_server/bin/sql" "$tmp_server/out/temporal-sql-tool"
  cp -r "$source_dir/schema/postgresql/v12" "$tmp_server/out/schema"
  cp "$source_dir/docker/config_template.yaml" "$tmp_server/out/config/config_template.yaml"
  cp "$source_dir/config/dynamicconfig/docker.yaml" "$tmp_server/out/config/dynamicconfig.yaml"
  chmod -R u+w "$tmp_server/out"
  rm -rf "$TEMPORAL_SERVER_DIR"; mkdir -p "$(dirname "$TEMPORAL_SERVER_DIR")"
  mv "$tmp_server/out" "$TEMPORAL_SERVER_DIR"
  rm -rf "$tmp_server"
fi

stamp="$ROOT/node_modules/.mailpull-lock-hash"
lock_hash="$(sha256sum "$ROOT/package-lock.json" | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_hash" ]; then
  log "installing npm dependencies"
  (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$lock_hash" > "$stamp"
fi

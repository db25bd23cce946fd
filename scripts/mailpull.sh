#!/usr/bin/env bash
# The mailpull command line (scripts/mailpull.sh --help): API commands, and the database ones
# (tokens create --name NAME [--read-only] [--messages-read] [--domain DOMAIN]..., secrets rotate,
# ...). On the embedded default it finds the database and the key file in the data dir; in
# production set DATABASE_URL and MAILPULL_SECRET_KEY or MAILPULL_SECRET_KEY_FILE as for the worker.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

if [ -z "${DATABASE_URL:-}" ] && [ -f "$DATA_DIR/postgres/password" ]; then
  export DATABASE_URL="postgres://mailpull:$(cat "$DATA_DIR/postgres/password")@127.0.0.1:${MAILPULL_PG_PORT:-15432}/mailpull"
fi
if [ -z "${MAILPULL_SECRET_KEY:-}" ] && [ -z "${MAILPULL_SECRET_KEY_FILE:-}" ] && [ -f "$DATA_DIR/secret-keys" ]; then
  export MAILPULL_SECRET_KEY_FILE="$DATA_DIR/secret-keys"
fi
[ -f "$ROOT/dist/cli/main.js" ] || (cd "$ROOT" && npm run --silent build)
exec node "$ROOT/dist/cli/main.js" "$@"

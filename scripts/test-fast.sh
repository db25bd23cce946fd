#!/usr/bin/env bash
# The tiers that need no servers of ours: builds, then runs them.
#   scripts/test-fast.sh unit        test/unit: pure decisions, no servers
#   scripts/test-fast.sh workflows   test/workflows: the account workflow with stub activities on
#                                    Temporal's time-skipping test server (fetched once, see test-server.sh)
#   scripts/test-fast.sh             both
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

[ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error
npm run --silent build

dirs=()
for tier in "${@:-unit workflows}"; do
  for t in $tier; do
    case "$t" in
      unit) dirs+=(dist/test/unit) ;;
      workflows) dirs+=(dist/test/workflows); MAILPULL_TEST_SERVER_BIN="$("$ROOT/scripts/test-server.sh")"; export MAILPULL_TEST_SERVER_BIN ;;
      *) log "unknown tier $t (unit, workflows)"; exit 2 ;;
    esac
  done
done
mapfile -t test_files < <(find "${dirs[@]}" -name "*.test.js" | sort)
node --test --test-timeout=60000 "${test_files[@]}"

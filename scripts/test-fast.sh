#!/usr/bin/env bash
# The tiers that need no servers of ours: builds, then runs them.
#   scripts/test-fast.sh unit        test/unit: pure decisions, no servers; compiles only what they
#                                    import, incrementally (tsconfig.unit.json), no workflow bundle
#   scripts/test-fast.sh workflows   test/workflows: the account workflow with stub activities on
#                                    Temporal's time-skipping test server (fetched once, see test-server.sh)
#   scripts/test-fast.sh             both
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

[ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error
if [ "${*:-}" = unit ]; then
  node_modules/.bin/tsc -b tsconfig.unit.json
else
  npm run --silent build
fi

dirs=()
for tier in "${@:-unit workflows}"; do
  for t in $tier; do
    case "$t" in
      unit) dirs+=(test/unit) ;;
      workflows) dirs+=(test/workflows); MAILPULL_TEST_SERVER_BIN="$("$ROOT/scripts/test-server.sh")"; export MAILPULL_TEST_SERVER_BIN ;;
      *) log "unknown tier $t (unit, workflows)"; exit 2 ;;
    esac
  done
done
# from the sources: an incremental build leaves the output of a removed test behind
mapfile -t test_files < <(find "${dirs[@]}" -name "*.test.ts" | sort | sed 's#^\(.*\)\.ts$#dist/\1.js#')
node --test --test-timeout=60000 "${test_files[@]}"
